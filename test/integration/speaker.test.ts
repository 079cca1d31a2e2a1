/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
// Two `ironlb speaker` processes against the real API server, on simulated links (no raw sockets,
// nothing sent on the host's network): Lease liveness, one ServiceL2Status from the chosen node,
// the nodeAssigned Event, metrics, an invalid configuration keeping the last good one, and
// failover — at once after SIGTERM (the Lease is deleted), after the lease expires on SIGKILL.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createKubeClients, type KubeClients } from "../../src/k8s/client.js";
import { speakerLeaseName } from "../../src/membership/lease.js";
import { describeWithPrereqs } from "../support/e2e.js";
import { kubeConfigFor, sharedControlPlane, uniqueNamespace } from "../support/testenv.js";
import {
  createLayerTwoConfig,
  createLayerTwoService,
  eventually,
  l2StatusesOf,
  metricValue,
  SpeakerProcess,
  writeSimulatedNetwork,
  type L2StatusObject,
} from "./speakerHarness.js";
import { installCRDs } from "./ironlbProcess.js";

const LEASE_SECONDS = 6;

/** client-node hands MicroTime fields back as strings, not Dates. */
const millis = (time: unknown): number =>
  Date.parse(String(time instanceof Date ? time.toISOString() : time));

describeWithPrereqs("ironlb speaker on a real API server", { controlPlane: true }, () => {
  const run = Math.floor(Math.random() * 1e9).toString(36);
  const namespace = uniqueNamespace("ilb-spk");
  const serviceNamespace = uniqueNamespace("ilb-spk-svc");
  const lbClass = `ironlb.io/speaker-test-${run}`;
  const nodes = [`ilb-spk-${run}-a`, `ilb-spk-${run}-b`] as const;
  const VIP = "192.0.2.200";
  let clients: KubeClients;
  let kubeconfigPath: string;
  let workDir: string;
  const speakers = new Map<string, SpeakerProcess>();

  const startSpeaker = (node: string): SpeakerProcess => {
    const speaker = SpeakerProcess.start({
      node,
      kubeconfigPath,
      namespace,
      lbClass,
      leaseDurationSeconds: LEASE_SECONDS,
      simulateNetwork: join(workDir, node),
    });
    speakers.set(node, speaker);
    return speaker;
  };

  const statusesOfService = (name: string): Promise<L2StatusObject[]> =>
    l2StatusesOf(clients.customObjects, namespace, { namespace: serviceNamespace, name });

  /** Whether the speaker's latest word on the Service is that it announces it. */
  const announcesNow = (speaker: SpeakerProcess | undefined): boolean =>
    speaker?.logs.filter((l) => l.msg.startsWith("this node ") && l.msg.endsWith(" the service")).at(-1)
      ?.msg === "this node announces the service";

  /** Waits until exactly one status object exists for `web`, announced by `node` (any node when undefined). */
  const soleAnnouncer = (node?: string, timeoutMs = 30_000): Promise<L2StatusObject> =>
    eventually(
      `one ServiceL2Status for web${node === undefined ? "" : ` from ${node}`}`,
      async () => {
        const items = await statusesOfService("web");
        const [only] = items;
        if (items.length !== 1 || only?.status?.node === undefined) return undefined;
        return node === undefined || only.status.node === node ? only : undefined;
      },
      timeoutMs,
    );

  beforeAll(async () => {
    const connection = sharedControlPlane();
    kubeconfigPath = connection.kubeconfigPath;
    const kubeConfig = kubeConfigFor(connection);
    clients = createKubeClients(kubeConfig);
    await installCRDs(kubeConfig);
    workDir = mkdtempSync(join(tmpdir(), "ilb-speaker-"));
    for (const [i, node] of nodes.entries()) {
      writeSimulatedNetwork(join(workDir, node), [
        { name: "eth0", ifindex: 2, mac: `02:00:5e:00:53:0${i + 1}` },
        { name: "docker0", ifindex: 3, mac: `02:00:5e:00:53:1${i + 1}` },
      ]);
      await clients.core.createNode({
        body: {
          metadata: { name: node, labels: { "ironlb.io/test-run": run, "kubernetes.io/hostname": node } },
        },
      });
    }
    for (const name of [namespace, serviceNamespace]) {
      await clients.core.createNamespace({ body: { metadata: { name } } });
    }
    await createLayerTwoConfig(
      clients.customObjects,
      namespace,
      ["192.0.2.200-192.0.2.210"],
      [{ matchLabels: { "ironlb.io/test-run": run } }],
    );
    await createLayerTwoService(clients.core, clients.discovery, {
      namespace: serviceNamespace,
      name: "web",
      lbClass,
      ips: [VIP],
      endpointNodes: [...nodes],
    });
    for (const node of nodes) startSpeaker(node);
  });

  afterAll(async () => {
    await Promise.all([...speakers.values()].map((s) => s.stop("SIGKILL")));
    for (const name of [namespace, serviceNamespace]) {
      await clients.core.deleteNamespace({ name }).catch(() => undefined);
    }
    for (const node of nodes) await clients.core.deleteNode({ name: node }).catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  });

  it("every speaker keeps a Lease of its own fresh, and each sees both live", async () => {
    for (const speaker of speakers.values()) {
      await speaker.waitForLog(
        (l) => l.msg === "live speakers changed" && (l.liveSpeakers as string[]).length === 2,
        60_000,
      );
    }
    const first = await clients.coordination.readNamespacedLease({
      namespace,
      name: speakerLeaseName(nodes[0]),
    });
    expect(first.spec?.holderIdentity).toBe(nodes[0]);
    expect(first.spec?.leaseDurationSeconds).toBe(LEASE_SECONDS);
    expect(first.metadata?.labels?.["ironlb.io/speaker-lease"]).toBe("true");
    const renewed = await eventually(
      "a renewal",
      async () => {
        const again = await clients.coordination.readNamespacedLease({
          namespace,
          name: speakerLeaseName(nodes[0]),
        });
        return millis(again.spec?.renewTime) !== millis(first.spec?.renewTime) ? again : undefined;
      },
      5000,
    );
    expect(millis(renewed.spec?.renewTime)).toBeGreaterThan(millis(first.spec?.renewTime));
  });

  let winner: string;
  let other: string;

  it("exactly one node announces the Service and says so in a ServiceL2Status it owns", async () => {
    const status = await soleAnnouncer();
    winner = status.status?.node ?? "";
    other = winner === nodes[0] ? nodes[1] : nodes[0];
    expect(nodes).toContain(winner);
    expect(status.metadata?.name).toBe(`${serviceNamespace}.web.${winner}`);
    expect(status.status).toEqual({
      node: winner,
      serviceName: "web",
      serviceNamespace,
      interfaces: [{ name: "eth0" }],
    });
    const node = await clients.core.readNode({ name: winner });
    expect(status.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: "Node", name: winner, uid: node.metadata?.uid }),
    ]);
    await speakers.get(winner)?.waitForLog((l) => l.msg === "this node announces the service");
    // Before the speakers saw each other, either may have announced alone for a moment (it was the
    // only live speaker it knew of); what matters is that the other one does not announce now.
    await eventually("the other node does not announce", () =>
      Promise.resolve(announcesNow(speakers.get(other)) ? undefined : true),
    );
  });

  it("records a nodeAssigned Event on the Service", async () => {
    const event = await eventually("nodeAssigned Event", async () => {
      const events = await clients.events.listNamespacedEvent({ namespace: serviceNamespace });
      // An earlier Event may name the other node (see above): the winner's must be there.
      return events.items.find(
        (e) => e.reason === "nodeAssigned" && e.regarding?.name === "web" && e.note?.includes(winner),
      );
    });
    expect(event.note).toContain(VIP);
    expect(event.reportingController).toBe("ironlb.io/speaker");
    const service = await clients.core.readNamespacedService({ namespace: serviceNamespace, name: "web" });
    expect(event.regarding?.uid).toBe(service.metadata?.uid);
  });

  it("exports what it announces and its takeover announcements as metrics", async () => {
    const text = await eventually("gratuitous ARP counted", async () => {
      const body = await speakers.get(winner)?.metrics();
      return body !== undefined && (metricValue(body, "ironlb_layer2_gratuitous_sent", { ip: VIP }) ?? 0) >= 2
        ? body
        : undefined;
    });
    expect(
      metricValue(text, "ironlb_speaker_announced", {
        service: `${serviceNamespace}/web`,
        ip: VIP,
        node: winner,
      }),
    ).toBe(1);
    expect(metricValue(text, "ironlb_config_stale")).toBe(0);
    expect(metricValue(text, "ironlb_speaker_live_speakers")).toBe(2);
    const otherText = (await speakers.get(other)?.metrics()) ?? "";
    expect(metricValue(otherText, "ironlb_speaker_announced", { ip: VIP })).toBeUndefined();
  });

  it("keeps the last good configuration when the current one is invalid", async () => {
    // Two pools with overlapping ranges: each object is valid, the whole configuration is not.
    await clients.customObjects.createNamespacedCustomObject({
      group: "ironlb.io",
      version: "v1beta1",
      plural: "ipaddresspools",
      namespace,
      body: {
        apiVersion: "ironlb.io/v1beta1",
        kind: "IPAddressPool",
        metadata: { name: "overlap", namespace },
        spec: { addresses: ["192.0.2.205-192.0.2.220"] },
      },
    });
    const speaker = speakers.get(winner);
    await speaker?.waitForLog(
      (l) => l.msg === "configuration is invalid: keeping the last valid configuration",
    );
    const stale = await eventually("ironlb_config_stale 1", async () => {
      const body = (await speaker?.metrics()) ?? "";
      return metricValue(body, "ironlb_config_stale") === 1 ? body : undefined;
    });
    expect(metricValue(stale, "ironlb_speaker_announced", { ip: VIP, node: winner })).toBe(1);
    expect((await statusesOfService("web")).map((s) => s.status?.node)).toEqual([winner]);

    await clients.customObjects.deleteNamespacedCustomObject({
      group: "ironlb.io",
      version: "v1beta1",
      plural: "ipaddresspools",
      namespace,
      name: "overlap",
    });
    await eventually("ironlb_config_stale 0", async () => {
      const body = (await speaker?.metrics()) ?? "";
      return metricValue(body, "ironlb_config_stale") === 0 ? true : undefined;
    });
  });

  it("hands over at once when the announcing speaker stops (SIGTERM): Lease deleted, status moved", async () => {
    const stopping = speakers.get(winner);
    expect(await stopping?.stop("SIGTERM")).toBe(0);
    // The stopping speaker deleted its Lease: the survivor need not wait for it to expire (how
    // soon it takes over is a benchmark figure: bench/takeover.bench.ts, speaker_lease_sigterm_failover_*).
    await expect(
      clients.coordination.readNamespacedLease({ namespace, name: speakerLeaseName(winner) }),
    ).rejects.toMatchObject({ code: 404 });
    await soleAnnouncer(other, 60_000);
    expect(stopping?.logs.some((l) => l.msg === "speaker stopped")).toBe(true);
  });

  it("takes the Service back when the preferred speaker returns, and over again after a crash, by lease expiry", async () => {
    startSpeaker(winner);
    await soleAnnouncer(winner, 60_000);
    // A crashed speaker cannot remove its own status object (it goes when the Node goes, or
    // when the speaker starts again): look for the survivor's.
    const crashed = speakers.get(winner);
    await crashed?.waitForLog((l) => l.msg === "caches synced");
    await crashed?.stop("SIGKILL");
    const survivorStatus = await eventually(
      "the survivor's status",
      async () => {
        const items = await statusesOfService("web");
        return items.find((s) => s.status?.node === other);
      },
      60_000,
    );
    expect(survivorStatus.metadata?.name).toBe(`${serviceNamespace}.web.${other}`);
    // Not before the crashed speaker's Lease expired: the survivor's status object was created
    // (API server clock, whole seconds) no sooner than the last renewal plus the lease duration.
    // How much later is a benchmark figure (bench/takeover.bench.ts, speaker_lease_sigkill_failover_*).
    const lease = await clients.coordination.readNamespacedLease({
      namespace,
      name: speakerLeaseName(winner),
    });
    const expiry = millis(lease.spec?.renewTime) + (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    expect(millis(survivorStatus.metadata?.creationTimestamp)).toBeGreaterThanOrEqual(
      Math.floor(expiry / 1000) * 1000,
    );
  });
});
