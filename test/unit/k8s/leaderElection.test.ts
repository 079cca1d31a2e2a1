import { afterEach, describe, expect, it } from "vitest";
import { createKubeClients } from "../../../src/k8s/client.js";
import {
  LeaderElector,
  LeaseConflictError,
  kubeLeaseStore,
  leaderIdentity,
  type LeaseRecord,
  type LeaseStore,
  type StopReason,
  type StoredLease,
} from "../../../src/k8s/leaderElection.js";
import { ManualClock } from "../../../src/runtime/clock.js";
import { FakeApiServer, sendJson, status } from "./fakeApiServer.js";

/** One Lease object shared by all electors, with resourceVersion checks like the API server's. */
class MemoryLease {
  stored: StoredLease | undefined;
  private version = 0;

  read(): StoredLease | undefined {
    return this.stored;
  }

  write(record: LeaseRecord, expectedVersion: string | undefined): StoredLease {
    if (expectedVersion === undefined && this.stored !== undefined) throw new LeaseConflictError("exists");
    if (expectedVersion !== undefined && this.stored?.resourceVersion !== expectedVersion) {
      throw new LeaseConflictError("conflict");
    }
    this.stored = { record, resourceVersion: String(++this.version) };
    return this.stored;
  }
}

type LinkMode = "ok" | "fail" | "hang";

/** One elector's connection to the shared Lease; the test can break or hang it. */
function link(lease: MemoryLease): LeaseStore & { mode: LinkMode } {
  const call = <T>(signal: AbortSignal, action: () => T): Promise<T> => {
    if (store.mode === "fail") return Promise.reject(new Error("connect ECONNREFUSED"));
    if (store.mode === "hang") {
      return new Promise((_, reject) => {
        signal.addEventListener("abort", () => {
          reject(new Error("aborted"));
        });
      });
    }
    return Promise.resolve().then(action);
  };
  const store = {
    mode: "ok" as LinkMode,
    get: (signal: AbortSignal) => call(signal, () => lease.read()),
    create: (record: LeaseRecord, signal: AbortSignal) => call(signal, () => lease.write(record, undefined)),
    update: (record: LeaseRecord, version: string, signal: AbortSignal) =>
      call(signal, () => lease.write(record, version)),
  };
  return store;
}

interface Candidate {
  name: string;
  elector: LeaderElector;
  store: ReturnType<typeof link>;
  log: string[];
  termSignals: AbortSignal[];
  controller: AbortController;
  done: Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function candidate(
  name: string,
  lease: MemoryLease,
  clock: ManualClock,
  work?: (s: AbortSignal) => Promise<void>,
): Candidate {
  const store = link(lease);
  const log: string[] = [];
  const termSignals: AbortSignal[] = [];
  const elector = new LeaderElector({
    store,
    identity: name,
    clock,
    wallClock: () => new Date(1_700_000_000_000 + clock.now()),
    random: () => 0,
    onStartedLeading: (signal) => {
      termSignals.push(signal);
      log.push(`start@${clock.now()}`);
      return work?.(signal);
    },
    onStoppedLeading: (reason: StopReason) => log.push(`stop:${reason}@${clock.now()}`),
  });
  const controller = new AbortController();
  const c: Candidate = { name, elector, store, log, termSignals, controller, done: Promise.resolve() };
  c.done = elector.run(controller.signal);
  cleanups.push(async () => {
    store.mode = "ok";
    controller.abort();
    await clock.advance(20_000);
    await c.done;
  });
  return c;
}

/** Advance in small steps, checking that at most one elector believes it leads at any moment. */
async function run(clock: ManualClock, ms: number, electors: Candidate[]): Promise<void> {
  for (let t = 0; t < ms; t += 50) {
    await clock.advance(50);
    const leaders = electors.filter((e) => e.elector.isLeader());
    expect(leaders.length, `two leaders at ${clock.now()} ms`).toBeLessThanOrEqual(1);
    const liveTerms = electors.filter((e) => e.termSignals.some((s) => !s.aborted));
    expect(liveTerms.length, `two live leader terms at ${clock.now()} ms`).toBeLessThanOrEqual(1);
  }
}

function startedAt(c: Candidate): number[] {
  return c.log.filter((l) => l.startsWith("start@")).map((l) => Number(l.slice(6)));
}

describe("LeaderElector", () => {
  it("of two candidates exactly one leads and keeps renewing", async () => {
    const clock = new ManualClock();
    const lease = new MemoryLease();
    const a = candidate("a", lease, clock);
    const b = candidate("b", lease, clock);
    await run(clock, 60_000, [a, b]);
    const leaders = [a, b].filter((c) => c.elector.isLeader());
    expect(leaders).toHaveLength(1);
    expect(a.elector.leader()).toBe(leaders[0]?.name);
    expect(b.elector.leader()).toBe(leaders[0]?.name);
    expect(lease.stored?.record.leaseTransitions).toBe(0);
    // Renewed every 2 s: the record is at most one retry period old.
    const renewed = lease.stored?.record.renewTime?.getTime() ?? 0;
    expect(1_700_000_000_000 + clock.now() - renewed).toBeLessThanOrEqual(2000);
  });

  for (const mode of ["fail", "hang"] as const) {
    it(`a leader whose API calls ${mode} stops by its renew deadline, before the standby takes over`, async () => {
      const clock = new ManualClock();
      const lease = new MemoryLease();
      const a = candidate("a", lease, clock);
      await run(clock, 1000, [a]);
      expect(a.elector.isLeader()).toBe(true);
      const b = candidate("b", lease, clock);
      await run(clock, 5000, [a, b]);
      const lastRenewal = (lease.stored?.record.renewTime?.getTime() ?? 0) - 1_700_000_000_000;
      a.store.mode = mode;
      await run(clock, 30_000, [a, b]);
      const stop = a.log.find((l) => l.startsWith("stop:"));
      expect(stop).toBe(`stop:renew-deadline@${lastRenewal + 10_000}`);
      expect(a.termSignals[0]?.aborted).toBe(true);
      expect(b.elector.isLeader()).toBe(true);
      const takeover = startedAt(b)[0] ?? NaN;
      // b saw a's last renewal at most one retry later and waits a full lease duration from then.
      expect(takeover).toBeGreaterThanOrEqual(lastRenewal + 15_000);
      expect(takeover).toBeLessThanOrEqual(lastRenewal + 15_000 + 2000 + 100);
      expect(lease.stored?.record).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
    });
  }

  it("clean shutdown releases the lease so the standby takes over within one retry period", async () => {
    const clock = new ManualClock();
    const lease = new MemoryLease();
    const a = candidate("a", lease, clock);
    await run(clock, 500, [a]);
    const b = candidate("b", lease, clock);
    await run(clock, 6000, [a, b]);
    expect(a.elector.isLeader()).toBe(true);
    const shutdownAt = clock.now();
    a.controller.abort();
    await run(clock, 3000, [a, b]);
    await a.done;
    expect(a.log.at(-1)).toBe(`stop:shutdown@${shutdownAt}`);
    expect(b.elector.isLeader()).toBe(true);
    expect((startedAt(b)[0] ?? Infinity) - shutdownAt).toBeLessThanOrEqual(2100);
  });

  it("a leader that finds another holder in the lease stops at once", async () => {
    const clock = new ManualClock();
    const lease = new MemoryLease();
    const a = candidate("a", lease, clock);
    await run(clock, 1000, [a]);
    const current = lease.stored;
    if (current === undefined) throw new Error("no lease");
    lease.write({ ...current.record, holderIdentity: "intruder" }, current.resourceVersion);
    const changedAt = clock.now();
    await run(clock, 3000, [a]);
    expect(a.elector.isLeader()).toBe(false);
    const stop = a.log.find((l) => l.startsWith("stop:lost@"));
    expect(Number(stop?.slice("stop:lost@".length)) - changedAt).toBeLessThanOrEqual(2000);
    expect(a.elector.leader()).toBe("intruder");
  });

  it("leads again after an outage if nobody else took over, starting the next term after the last ended", async () => {
    const clock = new ManualClock();
    const lease = new MemoryLease();
    const events: string[] = [];
    const a = candidate("a", lease, clock, async (signal) => {
      events.push("work-start");
      await new Promise<void>((resolve) => {
        signal.addEventListener("abort", () => {
          resolve();
        });
      });
      // Winding down takes a moment after the abort.
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 300));
      events.push("work-end");
    });
    await run(clock, 1000, [a]);
    a.store.mode = "fail";
    await run(clock, 12_000, [a]);
    expect(a.elector.isLeader()).toBe(false);
    a.store.mode = "ok";
    await run(clock, 5000, [a]);
    expect(a.elector.isLeader()).toBe(true);
    expect(events).toEqual(["work-start", "work-end", "work-start"]);
    expect(lease.stored?.record.leaseTransitions).toBe(0);
  });

  it("leaderIdentity is the pod name plus a random suffix", () => {
    const first = leaderIdentity("ironlb-controller-7d9f");
    expect(first).toMatch(/^ironlb-controller-7d9f_[0-9a-f]{8}$/);
    expect(leaderIdentity("ironlb-controller-7d9f")).not.toBe(first);
  });
});

describe("kubeLeaseStore", () => {
  it("reads, creates and replaces a Lease with resourceVersion and microsecond times; 409 → conflict", async () => {
    const bodies: Record<string, unknown>[] = [];
    let version = 10;
    const server = await new FakeApiServer((req, res, url) => {
      let text = "";
      req.on("data", (c: Buffer) => (text += c.toString()));
      req.on("end", () => {
        const path = "/apis/coordination.k8s.io/v1/namespaces/ironlb-system/leases";
        if (req.method === "GET") {
          sendJson(res, 404, status(404, "NotFound", "leases not found"));
          return;
        }
        const body = JSON.parse(text) as Record<string, unknown> & { metadata: Record<string, unknown> };
        bodies.push(body);
        if (
          req.method === "PUT" &&
          url.pathname === `${path}/ironlb-controller` &&
          body.metadata.resourceVersion === "stale"
        ) {
          sendJson(res, 409, status(409, "Conflict", "the object has been modified"));
          return;
        }
        sendJson(res, req.method === "POST" ? 201 : 200, {
          ...body,
          metadata: { ...body.metadata, resourceVersion: String(++version) },
        });
      });
    }).start();
    cleanups.push(() => server.stop());
    const clients = createKubeClients(server.kubeConfig());
    const store = kubeLeaseStore(clients.coordination, "ironlb-system", "ironlb-controller");
    const signal = new AbortController().signal;
    expect(await store.get(signal)).toBeUndefined();
    const record: LeaseRecord = {
      holderIdentity: "ctl-0_1234abcd",
      leaseDurationSeconds: 15,
      acquireTime: new Date("2025-03-04T05:06:07.891Z"),
      renewTime: new Date("2025-03-04T05:06:08.5Z"),
      leaseTransitions: 2,
    };
    const created = await store.create(record, signal);
    expect(created.resourceVersion).toBe("11");
    expect(created.record).toEqual(record);
    const updated = await store.update(record, "11", signal);
    expect(updated.resourceVersion).toBe("12");
    await expect(store.update(record, "stale", signal)).rejects.toBeInstanceOf(LeaseConflictError);
    expect(bodies[0]).toMatchObject({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "ironlb-controller", namespace: "ironlb-system" },
      spec: {
        holderIdentity: "ctl-0_1234abcd",
        leaseDurationSeconds: 15,
        leaseTransitions: 2,
        acquireTime: "2025-03-04T05:06:07.891000Z",
        renewTime: "2025-03-04T05:06:08.500000Z",
      },
    });
    expect(bodies[0]?.metadata).not.toHaveProperty("resourceVersion");
    expect(bodies[1]).toMatchObject({ metadata: { resourceVersion: "11" } });
  });
});
