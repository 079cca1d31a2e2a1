/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
// Leader election against the real API server: the Lease writes (MicroTime fields, conditional
// replaces) are accepted, two electors never lead at once, a cut-off leader stops at its renew
// deadline and the standby takes over only after the lease expired, and a clean shutdown releases
// the lease. How fast each happens is a benchmark figure (bench/takeover.bench.ts).
import { afterEach, beforeAll, expect, test } from "vitest";
import { createKubeClients, type KubeClients } from "../../src/k8s/client.js";
import {
  LeaderElector,
  LeaseConflictError,
  kubeLeaseStore,
  leaderIdentity,
  type ElectionTimings,
  type LeaseStore,
  type StopReason,
} from "../../src/k8s/leaderElection.js";
import { describeWithPrereqs } from "../support/e2e.js";
import { kubeConfigFor, sharedControlPlane, uniqueNamespace } from "../support/testenv.js";

/** client-node hands MicroTime fields back as strings, not Dates. */
const millis = (time: unknown): number =>
  Date.parse(String(time instanceof Date ? time.toISOString() : time));

/** Short timings so a takeover after expiry fits in a few seconds (the defaults are 15/10/2 s). */
const fast: ElectionTimings = { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 };

interface Elector {
  readonly identity: string;
  readonly elector: LeaderElector;
  /** Set true to make every API call of this elector fail, as if its node lost the network. */
  cut: boolean;
  readonly events: { event: string; at: number }[];
  readonly terms: AbortSignal[];
  readonly controller: AbortController;
  done: Promise<void>;
}

describeWithPrereqs("leader election on a real API server", { controlPlane: true }, () => {
  const namespace = uniqueNamespace("leader-election");
  let clients: KubeClients;
  const running: Elector[] = [];

  beforeAll(async () => {
    clients = createKubeClients(kubeConfigFor(sharedControlPlane()));
    await clients.core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  afterEach(async () => {
    for (const e of running.splice(0)) {
      e.cut = false;
      e.controller.abort();
      await e.done;
    }
  });

  function start(leaseName: string, timings?: ElectionTimings): Elector {
    const store = kubeLeaseStore(clients.coordination, namespace, leaseName);
    const identity = leaderIdentity("controller");
    const events: Elector["events"] = [];
    const terms: AbortSignal[] = [];
    const controller = new AbortController();
    const severable: LeaseStore = {
      get: (signal) => (e.cut ? Promise.reject(new Error("network cut")) : store.get(signal)),
      create: (record, signal) =>
        e.cut ? Promise.reject(new Error("network cut")) : store.create(record, signal),
      update: (record, version, signal) =>
        e.cut ? Promise.reject(new Error("network cut")) : store.update(record, version, signal),
    };
    const elector = new LeaderElector({
      store: severable,
      identity,
      ...(timings === undefined ? {} : { timings }),
      onStartedLeading: (signal) => {
        terms.push(signal);
        events.push({ event: "start", at: performance.now() });
      },
      onStoppedLeading: (reason: StopReason) =>
        events.push({ event: `stop:${reason}`, at: performance.now() }),
    });
    const e: Elector = { identity, elector, cut: false, events, terms, controller, done: Promise.resolve() };
    e.done = elector.run(controller.signal);
    running.push(e);
    return e;
  }

  /** Poll every 25 ms until `condition` holds, checking that at most one elector leads meanwhile. */
  async function until(electors: Elector[], condition: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const leaders = electors.filter((e) => e.elector.isLeader() || e.terms.some((s) => !s.aborted));
      expect(leaders.length, "more than one leader at once").toBeLessThanOrEqual(1);
      if (condition()) return;
      if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Polls the Lease every 100 ms until `condition` holds. */
  async function eventuallyLease(
    name: string,
    condition: (lease: Awaited<ReturnType<typeof readLease>>) => boolean,
    timeoutMs: number,
  ) {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const lease = await readLease(name);
      if (condition(lease)) return lease;
      if (performance.now() > deadline)
        throw new Error(`Lease ${name}: condition not met in ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function readLease(name: string) {
    return clients.coordination.readNamespacedLease({ name, namespace });
  }

  test("two electors: one leads and its Lease is written with microsecond times", async () => {
    const a = start("pair");
    const b = start("pair");
    await until([a, b], () => a.elector.isLeader() || b.elector.isLeader(), 10_000);
    const leader = a.elector.isLeader() ? a : b;
    const standby = leader === a ? b : a;
    await until([a, b], () => standby.elector.leader() === leader.identity, 5_000);
    // A few renewals later still the same single leader.
    await new Promise((resolve) => setTimeout(resolve, 4500));
    await until([a, b], () => true, 0);
    expect(leader.elector.isLeader()).toBe(true);
    const lease = await readLease("pair");
    expect(lease.spec?.holderIdentity).toBe(leader.identity);
    expect(lease.spec?.leaseDurationSeconds).toBe(15);
    expect(lease.spec?.leaseTransitions).toBe(0);
    // The leader keeps renewing: a later renewTime by the same holder, no transition.
    const renewedAt = millis(lease.spec?.renewTime);
    const renewed = await eventuallyLease("pair", (l) => millis(l.spec?.renewTime) > renewedAt, 30_000);
    expect(renewed.spec?.holderIdentity).toBe(leader.identity);
    expect(renewed.spec?.leaseTransitions).toBe(0);
  });

  test("a leader cut off from the API stops by its renew deadline; the standby takes over after expiry", async () => {
    const a = start("cut", fast);
    await until([a], () => a.elector.isLeader(), 10_000);
    const b = start("cut", fast);
    await until([a, b], () => b.elector.leader() === a.identity, 5_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    a.cut = true;
    // Meanwhile, the last renewal of a's that the API server holds.
    let lastRenewalOfA = 0;
    await until(
      [a, b],
      () => {
        void readLease("cut").then((l) => {
          if (l.spec?.holderIdentity === a.identity)
            lastRenewalOfA = Math.max(lastRenewalOfA, millis(l.spec.renewTime));
        });
        return b.elector.isLeader();
      },
      60_000,
    );
    const stop = a.events.find((e) => e.event.startsWith("stop:"));
    expect(stop?.event).toBe("stop:renew-deadline");
    // The old leader stopped before the new one started (`until` also saw no two leaders at once).
    const takeover = b.events.find((e) => e.event === "start")?.at ?? 0;
    expect(takeover).toBeGreaterThan(stop?.at ?? Infinity);
    // b waited for the lease to expire: it acquired it no sooner than a lease duration after a's
    // last renewal (both instants as the API server recorded them; same host, same clock).
    const lease = await readLease("cut");
    expect(lease.spec?.holderIdentity).toBe(b.identity);
    expect(lease.spec?.leaseTransitions).toBe(1);
    expect(lastRenewalOfA).toBeGreaterThan(0);
    expect(millis(lease.spec?.acquireTime)).toBeGreaterThanOrEqual(lastRenewalOfA + fast.leaseDurationMs);
    // Reconnected, the old leader stands by behind the new one.
    a.cut = false;
    await until([a, b], () => a.elector.leader() === b.identity, 5_000);
    expect(a.elector.isLeader()).toBe(false);
  });

  test("with the default 15 s lease, a clean shutdown hands over within one retry period", async () => {
    const a = start("handover");
    await until([a], () => a.elector.isLeader(), 10_000);
    const b = start("handover");
    await until([a, b], () => b.elector.leader() === a.identity, 5_000);
    a.controller.abort();
    await a.done;
    expect(a.events.at(-1)?.event).toBe("stop:shutdown");
    // a gave the lease up (no holder, 1 s) rather than leaving it to expire, unless b has it already.
    const released = await readLease("handover");
    if (released.spec?.holderIdentity !== b.identity) {
      expect(released.spec?.holderIdentity ?? "").toBe("");
      expect(released.spec?.leaseDurationSeconds).toBe(1);
    }
    // So b leads well before the 15 s lease could have expired (how soon: bench/takeover.bench.ts).
    await until([a, b], () => b.elector.isLeader(), 10_000);
  });

  test("the API server rejects a replace based on a stale resourceVersion as a conflict", async () => {
    const store = kubeLeaseStore(clients.coordination, namespace, "conflict");
    const signal = new AbortController().signal;
    const record = {
      holderIdentity: "x",
      leaseDurationSeconds: 15,
      acquireTime: new Date(),
      renewTime: new Date(),
      leaseTransitions: 0,
    };
    const created = await store.create(record, signal);
    await expect(store.create(record, signal)).rejects.toBeInstanceOf(LeaseConflictError);
    const updated = await store.update({ ...record, holderIdentity: "y" }, created.resourceVersion, signal);
    expect(updated.record.holderIdentity).toBe("y");
    await expect(store.update(record, created.resourceVersion, signal)).rejects.toBeInstanceOf(
      LeaseConflictError,
    );
    expect((await store.get(signal))?.resourceVersion).toBe(updated.resourceVersion);
  });
});
