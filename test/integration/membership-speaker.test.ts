/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
// Two `ironlb speaker` processes with --membership=swim against the real API server, on
// simulated links, each at its own loopback address (127.0.0.x, one membership port): liveness
// comes from membership, so a SIGKILLed announcer is replaced well inside the Lease duration,
// and a SIGTERMed one at once.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import dgram from "node:dgram";
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
} from "./speakerHarness.js";
import { installCRDs } from "./ironlbProcess.js";

const LEASE_SECONDS = 6;

/** client-node hands MicroTime fields back as strings, not Dates. */
const millis = (time: unknown): number =>
  Date.parse(String(time instanceof Date ? time.toISOString() : time));

describeWithPrereqs("ironlb speaker with membership on a real API server", { controlPlane: true }, () => {
  const run = Math.floor(Math.random() * 1e9).toString(36);
  const namespace = uniqueNamespace("ilb-mbr");
  const serviceNamespace = uniqueNamespace("ilb-mbr-svc");
  const lbClass = `ironlb.io/membership-test-${run}`;
  const nodes = [
    { name: `ilb-mbr-${run}-a`, ip: "127.0.0.21" },
    { name: `ilb-mbr-${run}-b`, ip: "127.0.0.22" },
  ] as const;
  let clients: KubeClients;
  let kubeconfigPath: string;
  let workDir: string;
  let port: number;
  const speakers = new Map<string, SpeakerProcess>();

  const startSpeaker = (name: string): SpeakerProcess => {
    const ip = nodes.find((n) => n.name === name)?.ip ?? "";
    const speaker = SpeakerProcess.start({
      node: name,
      kubeconfigPath,
      namespace,
      lbClass,
      leaseDurationSeconds: LEASE_SECONDS,
      simulateNetwork: join(workDir, name),
      extraArgs: [
        "--membership",
        "swim",
        "--membership-key-dir",
        join(workDir, "key"),
        "--membership-port",
        String(port),
        "--membership-bind",
        ip,
      ],
    });
    speakers.set(name, speaker);
    return speaker;
  };

  const statuses = () =>
    l2StatusesOf(clients.customObjects, namespace, { namespace: serviceNamespace, name: "web" });
  const announcers = async (): Promise<string[]> => (await statuses()).map((s) => s.status?.node ?? "");

  const soleAnnouncer = (node: string | undefined, timeoutMs: number): Promise<string> =>
    eventually(
      `one announcer${node === undefined ? "" : `: ${node}`}`,
      async () => {
        const list = await announcers();
        const [only] = list;
        return list.length === 1 && only !== undefined && (node === undefined || only === node)
          ? only
          : undefined;
      },
      timeoutMs,
    );

  beforeAll(async () => {
    const connection = sharedControlPlane();
    kubeconfigPath = connection.kubeconfigPath;
    const kubeConfig = kubeConfigFor(connection);
    clients = createKubeClients(kubeConfig);
    await installCRDs(kubeConfig);
    workDir = mkdtempSync(join(tmpdir(), "ilb-membership-speaker-"));
    mkdirSync(join(workDir, "key")); // empty until the first test has seen the speaker refuse
    const probe = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => probe.bind(0, "127.0.0.1", resolve));
    port = probe.address().port;
    await new Promise<void>((resolve) =>
      probe.close(() => {
        resolve();
      }),
    );
    for (const [i, node] of nodes.entries()) {
      writeSimulatedNetwork(join(workDir, node.name), [
        { name: "eth0", ifindex: 2, mac: `02:00:5e:00:53:2${i + 1}` },
      ]);
      await clients.core.createNode({
        body: { metadata: { name: node.name, labels: { "ironlb.io/test-run": run } } },
      });
      const created = await clients.core.readNode({ name: node.name });
      created.status = { addresses: [{ type: "InternalIP", address: node.ip }] };
      await clients.core.replaceNodeStatus({ name: node.name, body: created });
    }
    for (const name of [namespace, serviceNamespace]) {
      await clients.core.createNamespace({ body: { metadata: { name } } });
    }
    await createLayerTwoConfig(
      clients.customObjects,
      namespace,
      ["192.0.2.220-192.0.2.230"],
      [{ matchLabels: { "ironlb.io/test-run": run } }],
    );
    await createLayerTwoService(clients.core, clients.discovery, {
      namespace: serviceNamespace,
      name: "web",
      lbClass,
      ips: ["192.0.2.220"],
      endpointNodes: nodes.map((n) => n.name),
    });
  });

  afterAll(async () => {
    await Promise.all([...speakers.values()].map((s) => s.stop("SIGKILL")));
    for (const name of [namespace, serviceNamespace]) {
      await clients.core.deleteNamespace({ name }).catch(() => undefined);
    }
    for (const node of nodes) await clients.core.deleteNode({ name: node.name }).catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  });

  it("refuses --membership=swim without the key, naming where it looked", async () => {
    const speaker = startSpeaker(nodes[0].name);
    expect(await speaker.exited).not.toBe(0);
    expect(speaker.stderr + JSON.stringify(speaker.logs)).toContain("--membership=swim needs the key");
    writeFileSync(join(workDir, "key", "secretkey"), `membership-integration-key-${run}`);
  });

  it("speakers find each other through their Nodes' addresses and agree on one announcer", async () => {
    for (const node of nodes) startSpeaker(node.name);
    for (const speaker of speakers.values()) {
      await speaker.waitForLog((l) => l.msg === "membership started", 60_000);
      await speaker.waitForLog(
        (l) => l.msg === "live speakers changed" && (l.liveSpeakers as string[]).length === 2,
        60_000,
      );
    }
    await soleAnnouncer(undefined, 30_000);
    const text = (await speakers.get(nodes[0].name)?.metrics()) ?? "";
    expect(metricValue(text, "ironlb_membership_members", { state: "alive" })).toBe(2);
    expect(metricValue(text, "ironlb_membership_packets_dropped_total", { reason: "wrong_key" })).toBe(0);
  });

  it("a SIGKILLed announcer is replaced well inside the Lease duration", async () => {
    const winner = await soleAnnouncer(undefined, 10_000);
    const survivor = nodes.map((n) => n.name).find((n) => n !== winner) ?? "";
    await speakers.get(winner)?.stop("SIGKILL");
    // The crashed speaker's own status object stays (nobody deletes it): wait for the survivor's.
    const created = await eventually(
      "the survivor announces",
      async () => (await statuses()).find((st) => st.status?.node === survivor)?.metadata?.creationTimestamp,
      60_000,
    );
    await speakers
      .get(survivor)
      ?.waitForLog((l) => l.msg === "member declared dead" && l.member === winner, 30_000);
    // Membership, not the Lease, moved the Service: the survivor's status object was created
    // (API server clock, whole seconds) before the crashed speaker's Lease expired. How soon is a
    // benchmark figure (bench/failover.bench.ts, kill_*, in the lab with membership).
    const lease = await clients.coordination.readNamespacedLease({
      namespace,
      name: speakerLeaseName(winner),
    });
    const expiry = millis(lease.spec?.renewTime) + (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    expect(millis(created)).toBeLessThan(expiry);
  });

  it("a restarted speaker rejoins; on SIGTERM it leaves and the other takes over at once", async () => {
    const restarted = nodes.map((n) => n.name).find((n) => !(speakers.get(n)?.running ?? false)) ?? "";
    startSpeaker(restarted);
    await speakers
      .get(restarted)
      ?.waitForLog(
        (l) => l.msg === "live speakers changed" && (l.liveSpeakers as string[]).length === 2,
        60_000,
      );
    const winner = await soleAnnouncer(undefined, 30_000);
    const other = nodes.map((n) => n.name).find((n) => n !== winner) ?? "";
    expect(await speakers.get(winner)?.stop("SIGTERM")).toBe(0);
    await soleAnnouncer(other, 60_000);
    // It left the membership, and the other saw it leave (rather than time out or wait for the
    // Lease); how soon is a benchmark figure (bench/failover.bench.ts, term_*, in the lab with membership).
    expect(speakers.get(winner)?.logs.some((l) => l.msg === "left the membership")).toBe(true);
    await speakers
      .get(other)
      ?.waitForLog((l) => l.msg === "member state changed" && l.member === winner && l.to === "left", 30_000);
  });
});
