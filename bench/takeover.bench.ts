/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
/**
 * How soon a standby takes over, against a real kube-apiserver + etcd (started here, on loopback;
 * `npm run bench -- takeover`). The integration tests check that each takeover happens and in the
 * right order; the times are these figures:
 *
 * - leader election in process (LeaderElector on a real Lease): a clean shutdown's handover with
 *   the default 15 s lease, and the takeover after the leader is cut off from the API server
 *   (4 s lease, 3 s renew deadline, 0.5 s retry), from the cut;
 * - `ironlb controller --leader-elect` with those short timings: from SIGKILL of the leader to the
 *   standby reconciling;
 * - two `ironlb speaker`s with Leases only (6 s, simulated links): from SIGTERM / SIGKILL of the
 *   announcing speaker to the other one's ServiceL2Status.
 *
 * Each figure is the p50 and max of IRONLB_BENCH_ROUNDS rounds (default 3). Nothing here touches
 * a network beyond loopback.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createKubeClients, type KubeClients } from "../src/k8s/client.js";
import {
  kubeLeaseStore,
  LeaderElector,
  leaderIdentity,
  type ElectionTimings,
  type LeaseStore,
} from "../src/k8s/leaderElection.js";
import { resolveBinaries } from "../src/testenv/binaries.js";
import { startControlPlane } from "../src/testenv/controlPlane.js";
import { ControllerProcess } from "../test/integration/controllerHarness.js";
import { installCRDs } from "../test/integration/ironlbProcess.js";
import {
  createLayerTwoConfig,
  createLayerTwoService,
  eventually,
  l2StatusesOf,
  SpeakerProcess,
  writeSimulatedNetwork,
} from "../test/integration/speakerHarness.js";
import { kubeConfigFor } from "../test/support/testenv.js";
import { envInteger } from "./failoverSupport.js";
import type { Emit } from "./run.js";
import { emitRoundTimes } from "./timing.js";

const BENCH = "takeover";
const FAST: ElectionTimings = { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 };
const SPEAKER_LEASE_SECONDS = 6;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(10);
  }
}

interface Candidate {
  readonly elector: LeaderElector;
  readonly stop: AbortController;
  readonly done: Promise<void>;
  cut: boolean;
}

function candidate(clients: KubeClients, namespace: string, lease: string, timings?: ElectionTimings) {
  const store = kubeLeaseStore(clients.coordination, namespace, lease);
  const c: Partial<Candidate> & { cut: boolean } = { cut: false };
  const severable: LeaseStore = {
    get: (signal) => (c.cut ? Promise.reject(new Error("cut")) : store.get(signal)),
    create: (record, signal) => (c.cut ? Promise.reject(new Error("cut")) : store.create(record, signal)),
    update: (record, version, signal) =>
      c.cut ? Promise.reject(new Error("cut")) : store.update(record, version, signal),
  };
  const elector = new LeaderElector({
    store: severable,
    identity: leaderIdentity("bench"),
    ...(timings === undefined ? {} : { timings }),
    onStartedLeading: () => undefined,
  });
  const stop = new AbortController();
  const result: Candidate = Object.assign(c, { elector, stop, done: elector.run(stop.signal) });
  return result;
}

/** A leader and a standby on a fresh Lease; resolves once the standby has seen the leader. */
async function pair(clients: KubeClients, namespace: string, lease: string, timings?: ElectionTimings) {
  const leader = candidate(clients, namespace, lease, timings);
  await until(() => leader.elector.isLeader());
  const standby = candidate(clients, namespace, lease, timings);
  await until(() => standby.elector.leader() !== undefined && !standby.elector.isLeader());
  return { leader, standby };
}

export default async function takeoverBench(emit: Emit): Promise<void> {
  const rounds = envInteger("IRONLB_BENCH_ROUNDS", 3);
  const extra = { rounds, loadavg_1m: loadavg()[0] };
  const controlPlane = await startControlPlane({ binaries: await resolveBinaries() });
  const kubeConfig = kubeConfigFor(controlPlane);
  const clients = createKubeClients(kubeConfig);
  const workDir = mkdtempSync(join(tmpdir(), "ilb-bench-takeover-"));
  const processes: { stop(signal: "SIGKILL"): Promise<unknown> }[] = [];
  try {
    await installCRDs(kubeConfig);
    const namespace = "ironlb-system";
    await clients.core.createNamespace({ body: { metadata: { name: namespace } } });

    // Leader election in process.
    const handovers: number[] = [];
    const cuts: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const clean = await pair(clients, namespace, `handover-${i}`);
      const stoppedAt = performance.now();
      clean.leader.stop.abort();
      await until(() => clean.standby.elector.isLeader());
      handovers.push(performance.now() - stoppedAt);
      clean.standby.stop.abort();
      await Promise.all([clean.leader.done, clean.standby.done]);

      const cut = await pair(clients, namespace, `cut-${i}`, FAST);
      const cutAt = performance.now();
      cut.leader.cut = true;
      await until(() => cut.standby.elector.isLeader());
      cuts.push(performance.now() - cutAt);
      cut.leader.cut = false;
      cut.leader.stop.abort();
      cut.standby.stop.abort();
      await Promise.all([cut.leader.done, cut.standby.done]);
    }
    emitRoundTimes(emit, BENCH, "leader_handover_on_shutdown", handovers, { ...extra, leaseSeconds: 15 });
    emitRoundTimes(emit, BENCH, "leader_takeover_after_cut", cuts, {
      ...extra,
      leaseSeconds: FAST.leaseDurationMs / 1000,
    });

    // The controller as processes: SIGKILL of the leader.
    const controllerTakeovers: number[] = [];
    const electionFlags = [
      "--lease-duration-ms",
      String(FAST.leaseDurationMs),
      "--renew-deadline-ms",
      String(FAST.renewDeadlineMs),
      "--retry-period-ms",
      String(FAST.retryPeriodMs),
    ];
    for (let i = 0; i < rounds; i++) {
      const start = () => {
        const c = ControllerProcess.start({
          kubeconfigPath: controlPlane.kubeconfigPath,
          namespace,
          lbClass: `ironlb.io/bench-${i}`,
          leaderElect: true,
          extraArgs: electionFlags,
        });
        processes.push(c);
        return c;
      };
      const replicas = [start(), start()];
      const leader = await Promise.race(replicas.map(async (r) => (await r.reconciling(60_000), r)));
      const standby = replicas.find((r) => r !== leader) ?? leader;
      await standby.waitForLog((l) => l.msg === "leader observed" && typeof l.leader === "string", 60_000);
      const killedAt = performance.now();
      await leader.kill("SIGKILL");
      await standby.reconciling(60_000);
      controllerTakeovers.push(performance.now() - killedAt);
      await standby.kill("SIGKILL");
    }
    emitRoundTimes(emit, BENCH, "controller_sigkill_takeover", controllerTakeovers, {
      ...extra,
      leaseSeconds: FAST.leaseDurationMs / 1000,
    });

    // Two speakers, Leases only.
    const serviceNamespace = "bench-speaker";
    const lbClass = "ironlb.io/bench-speaker";
    const nodes = ["ilb-bench-a", "ilb-bench-b"];
    await clients.core.createNamespace({ body: { metadata: { name: serviceNamespace } } });
    await createLayerTwoConfig(clients.customObjects, namespace, ["192.0.2.200-192.0.2.210"]);
    for (const [i, node] of nodes.entries()) {
      writeSimulatedNetwork(join(workDir, node), [
        { name: "eth0", ifindex: 2, mac: `02:00:5e:00:53:0${i + 1}` },
      ]);
      await clients.core.createNode({ body: { metadata: { name: node } } });
    }
    await createLayerTwoService(clients.core, clients.discovery, {
      namespace: serviceNamespace,
      name: "web",
      lbClass,
      ips: ["192.0.2.200"],
      endpointNodes: nodes,
    });
    const speakers = new Map<string, SpeakerProcess>();
    const startSpeaker = (node: string) => {
      const s = SpeakerProcess.start({
        node,
        kubeconfigPath: controlPlane.kubeconfigPath,
        namespace,
        lbClass,
        leaseDurationSeconds: SPEAKER_LEASE_SECONDS,
        simulateNetwork: join(workDir, node),
      });
      speakers.set(node, s);
      processes.push(s);
    };
    /** The one node whose status object exists (and only that one), once there is one. */
    const soleAnnouncer = (node?: string) =>
      eventually(
        "one announcer",
        async () => {
          const items = await l2StatusesOf(clients.customObjects, namespace, {
            namespace: serviceNamespace,
            name: "web",
          });
          const only = items.length === 1 ? items[0]?.status?.node : undefined;
          return node === undefined || only === node ? only : undefined;
        },
        120_000,
      );
    for (const node of nodes) startSpeaker(node);
    for (const kind of ["SIGTERM", "SIGKILL"] as const) {
      const times: number[] = [];
      for (let i = 0; i < rounds; i++) {
        for (const node of nodes) if (speakers.get(node)?.running !== true) startSpeaker(node);
        for (const s of speakers.values())
          await s.waitForLog(
            (l) => l.msg === "live speakers changed" && (l.liveSpeakers as string[]).length === 2,
            120_000,
          );
        const winner = await soleAnnouncer();
        const other = nodes.find((n) => n !== winner) ?? "";
        await sleep(1000); // a settled state, not the first moments after a start
        const at = performance.now();
        await speakers.get(winner)?.stop(kind);
        // A SIGKILLed speaker's status object stays: look for the survivor's.
        await eventually(
          "the survivor announces",
          async () => {
            const items = await l2StatusesOf(clients.customObjects, namespace, {
              namespace: serviceNamespace,
              name: "web",
            });
            return items.some((s) => s.status?.node === other) ? true : undefined;
          },
          120_000,
        );
        times.push(performance.now() - at);
      }
      emitRoundTimes(
        emit,
        BENCH,
        kind === "SIGTERM" ? "speaker_lease_sigterm_failover" : "speaker_lease_sigkill_failover",
        times,
        {
          ...extra,
          leaseSeconds: SPEAKER_LEASE_SECONDS,
        },
      );
    }
  } finally {
    await Promise.all(processes.map((p) => p.stop("SIGKILL")));
    await controlPlane.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}
