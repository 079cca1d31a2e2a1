import { describe, expect, it } from "vitest";
import {
  LeaseConflictError,
  LeaseGoneError,
  renewIntervalMs,
  SPEAKER_LEASE_LABEL,
  SpeakerLeaseHeartbeat,
  speakerLeaseName,
  type LeaseStore,
  type SpeakerLease,
} from "../../../src/membership/lease.js";
import { LeaseLiveSpeakers } from "../../../src/membership/leaseLiveSpeakers.js";
import { ManualClock } from "../../../src/runtime/clock.js";

// ---------------------------------------------------------------------------------------------
// An in-memory Lease store with resourceVersions, like the API server's

class MemoryLeaseStore implements LeaseStore {
  readonly leases = new Map<string, SpeakerLease>();
  private version = 0;
  calls: string[] = [];
  failNext: Error[] = [];

  private take(call: string): void {
    this.calls.push(call);
    const failure = this.failNext.shift();
    if (failure !== undefined) throw failure;
  }

  get(namespace: string, name: string): Promise<SpeakerLease | undefined> {
    this.take("get");
    return Promise.resolve(this.leases.get(`${namespace}/${name}`));
  }

  create(namespace: string, lease: SpeakerLease): Promise<SpeakerLease> {
    this.take("create");
    const key = `${namespace}/${lease.metadata?.name ?? ""}`;
    if (this.leases.has(key)) throw new LeaseConflictError("exists");
    return Promise.resolve(this.store(key, lease));
  }

  replace(namespace: string, lease: SpeakerLease): Promise<SpeakerLease> {
    this.take("replace");
    const key = `${namespace}/${lease.metadata?.name ?? ""}`;
    const current = this.leases.get(key);
    if (current === undefined) throw new LeaseGoneError("gone");
    if (current.metadata?.resourceVersion !== lease.metadata?.resourceVersion)
      throw new LeaseConflictError("rv");
    return Promise.resolve(this.store(key, lease));
  }

  delete(namespace: string, name: string): Promise<void> {
    this.take("delete");
    this.leases.delete(`${namespace}/${name}`);
    return Promise.resolve();
  }

  /** Someone else writes the Lease (bumps its resourceVersion). */
  touch(key: string): void {
    const lease = this.leases.get(key);
    if (lease !== undefined) this.store(key, lease);
  }

  private store(key: string, lease: SpeakerLease): SpeakerLease {
    const stored = { ...lease, metadata: { ...lease.metadata, resourceVersion: String(++this.version) } };
    this.leases.set(key, stored);
    return stored;
  }
}

const NS = "ironlb-system";

function heartbeat(store: LeaseStore, clock: ManualClock, wall: { now: number }, node = "node-a") {
  return new SpeakerLeaseHeartbeat({
    store,
    namespace: NS,
    node,
    durationSeconds: 6,
    clock,
    wallClock: () => new Date(wall.now),
  });
}

describe("speaker lease names", () => {
  it("prefixes the node name", () => {
    expect(speakerLeaseName("worker-1.example")).toBe("ironlb-speaker-worker-1.example");
  });

  it("keeps names within 253 characters and distinct for long node names", () => {
    const long = "a".repeat(250);
    const other = `${"a".repeat(249)}b`;
    expect(speakerLeaseName(long).length).toBeLessThanOrEqual(253);
    expect(speakerLeaseName(long)).not.toBe(speakerLeaseName(other));
    expect(speakerLeaseName(long)).toMatch(/^ironlb-speaker-a+-[0-9a-f]{16}$/);
  });

  it("renews at a third of the duration", () => {
    expect(renewIntervalMs(6)).toBe(2000);
    expect(renewIntervalMs(15)).toBe(5000);
  });
});

describe("SpeakerLeaseHeartbeat", () => {
  it("creates the lease with holder, duration, renew time and the selector label", async () => {
    const store = new MemoryLeaseStore();
    const beat = heartbeat(store, new ManualClock(), { now: Date.parse("2026-01-01T00:00:00Z") });
    expect(await beat.renewOnce(new AbortController().signal)).toBe(true);
    const lease = store.leases.get(`${NS}/ironlb-speaker-node-a`);
    expect(lease?.metadata?.labels?.[SPEAKER_LEASE_LABEL]).toBe("true");
    expect(lease?.spec).toMatchObject({
      holderIdentity: "node-a",
      leaseDurationSeconds: 6,
      renewTime: new Date("2026-01-01T00:00:00Z"),
      acquireTime: new Date("2026-01-01T00:00:00Z"),
    });
    expect(store.calls).toEqual(["get", "create"]);
  });

  it("renews every interval with one replace each, keeping the acquire time", async () => {
    const store = new MemoryLeaseStore();
    const clock = new ManualClock();
    const wall = { now: 1_000_000 };
    const beat = heartbeat(store, clock, wall);
    const controller = new AbortController();
    const running = beat.run(controller.signal);
    await clock.advance(0);
    wall.now += 4000;
    await clock.advance(4000);
    controller.abort();
    await running;
    expect(store.calls).toEqual(["get", "create", "replace", "replace"]);
    const lease = store.leases.get(`${NS}/ironlb-speaker-node-a`);
    expect(lease?.spec?.renewTime).toEqual(new Date(1_004_000));
    expect(lease?.spec?.acquireTime).toEqual(new Date(1_000_000));
  });

  it("recovers from a conflicting write by reading the lease again", async () => {
    const store = new MemoryLeaseStore();
    const clock = new ManualClock();
    const beat = heartbeat(store, clock, { now: 0 });
    const signal = new AbortController().signal;
    await beat.renewOnce(signal);
    store.touch(`${NS}/ironlb-speaker-node-a`);
    store.calls = [];
    expect(await beat.renewOnce(signal)).toBe(true);
    expect(store.calls).toEqual(["replace", "get", "replace"]);
  });

  it("recreates a lease someone deleted", async () => {
    const store = new MemoryLeaseStore();
    const beat = heartbeat(store, new ManualClock(), { now: 0 });
    const signal = new AbortController().signal;
    await beat.renewOnce(signal);
    store.leases.clear();
    store.calls = [];
    expect(await beat.renewOnce(signal)).toBe(true);
    expect(store.calls).toEqual(["replace", "get", "create"]);
  });

  it("is fresh for one duration after the last successful renewal", async () => {
    const store = new MemoryLeaseStore();
    const clock = new ManualClock();
    const beat = heartbeat(store, clock, { now: 0 });
    const signal = new AbortController().signal;
    expect(beat.fresh()).toBe(false);
    await beat.renewOnce(signal);
    store.failNext.push(new Error("connection refused"));
    await clock.advance(2000);
    expect(await beat.renewOnce(signal)).toBe(false);
    expect(beat.fresh()).toBe(true);
    await clock.advance(3999);
    expect(beat.fresh()).toBe(true);
    await clock.advance(1);
    expect(beat.fresh()).toBe(false);
  });

  it("release() deletes the lease", async () => {
    const store = new MemoryLeaseStore();
    const beat = heartbeat(store, new ManualClock(), { now: 0 });
    await beat.renewOnce(new AbortController().signal);
    expect(await beat.release()).toBe(true);
    expect(store.leases.size).toBe(0);
    expect(beat.fresh()).toBe(false);
  });

  it("rejects a duration that is not a whole number of seconds", () => {
    expect(() => heartbeat(new MemoryLeaseStore(), new ManualClock(), { now: 0 }, "x")).not.toThrow();
    expect(
      () =>
        new SpeakerLeaseHeartbeat({
          store: new MemoryLeaseStore(),
          namespace: NS,
          node: "x",
          durationSeconds: 0.5,
        }),
    ).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------

function lease(
  node: string,
  renewTime: string,
  durationSeconds = 6,
  name = `ironlb-speaker-${node}`,
): SpeakerLease {
  return {
    metadata: { name, namespace: NS },
    spec: { holderIdentity: node, leaseDurationSeconds: durationSeconds, renewTime },
  };
}

const T0 = Date.parse("2026-01-01T00:00:00Z");
const iso = (ms: number): string => new Date(ms).toISOString();

describe("LeaseLiveSpeakers", () => {
  function setup(canExpire: () => boolean = () => true) {
    const clock = new ManualClock();
    const wall = { now: T0 };
    const live = new LeaseLiveSpeakers({ clock, wallNow: () => wall.now, canExpire });
    const changes: string[][] = [];
    live.onChange((set) => changes.push([...set].sort()));
    return { clock, wall, live, changes };
  }

  it("a node is live from its lease until one duration after the last observed renewal", async () => {
    const { clock, live, changes } = setup();
    live.observe(lease("a", iso(T0)));
    expect([...live.current()]).toEqual(["a"]);
    await clock.advance(4000);
    live.observe(lease("a", iso(T0 + 4000)));
    await clock.advance(5999);
    expect([...live.current()]).toEqual(["a"]);
    await clock.advance(1);
    expect([...live.current()]).toEqual([]);
    expect(changes).toEqual([["a"], []]);
  });

  it("measures renewals on its own clock, whatever the writer's clock says", async () => {
    const { clock, live } = setup();
    live.observe(lease("a", iso(T0)));
    // The writer's clock runs an hour behind: its renewals still count when they are seen.
    await clock.advance(3000);
    live.observe(lease("a", iso(T0 - 3_600_000)));
    await clock.advance(5000);
    expect([...live.current()]).toEqual(["a"]);
  });

  it("a lease already expired at first sight does not count", () => {
    const { live, changes } = setup();
    live.observe(lease("dead", iso(T0 - 60_000)));
    expect(live.current().size).toBe(0);
    expect(changes).toEqual([]);
  });

  it("a lease seen mid-way expires after the rest of its duration", async () => {
    const { clock, live } = setup();
    live.observe(lease("a", iso(T0 - 4000)));
    expect(live.current().has("a")).toBe(true);
    await clock.advance(2000);
    expect(live.current().has("a")).toBe(false);
  });

  it("a deleted lease removes the node at once", () => {
    const { live, changes } = setup();
    live.observe(lease("a", iso(T0)));
    live.observe(lease("b", iso(T0)));
    live.forget(lease("a", iso(T0)));
    expect([...live.current()]).toEqual(["b"]);
    expect(changes).toEqual([["a"], ["a", "b"], ["b"]]);
  });

  it("a lease without a holder names no live speaker", () => {
    const { live } = setup();
    live.observe(lease("a", iso(T0)));
    live.observe({
      metadata: { name: "ironlb-speaker-a", namespace: NS },
      spec: { leaseDurationSeconds: 6 },
    });
    expect(live.current().size).toBe(0);
  });

  it("the same renewal seen again (resync) does not extend the lease", async () => {
    const { clock, live } = setup();
    live.observe(lease("a", iso(T0)));
    await clock.advance(5000);
    live.observe(lease("a", iso(T0)));
    await clock.advance(1000);
    expect(live.current().size).toBe(0);
  });

  it("pauses expiry while this speaker cannot reach the API server, and resumes after", async () => {
    let reachable = true;
    const { clock, live, changes } = setup(() => reachable);
    live.observe(lease("a", iso(T0)));
    live.observe(lease("b", iso(T0)));
    reachable = false;
    await clock.advance(20_000);
    expect([...live.current()].sort()).toEqual(["a", "b"]);
    reachable = true;
    await clock.advance(1000);
    expect(live.current().size).toBe(0);
    expect(changes.at(-1)).toEqual([]);
  });

  it("a listener that throws does not stop the others", () => {
    const { live } = setup();
    const seen: number[] = [];
    live.onChange(() => {
      throw new Error("boom");
    });
    live.onChange((set) => seen.push(set.size));
    live.observe(lease("a", iso(T0)));
    expect(seen).toEqual([1]);
  });

  it("stop() cancels its timer", () => {
    const { clock, live } = setup();
    live.observe(lease("a", iso(T0)));
    expect(clock.pendingTimers()).toBe(1);
    live.stop();
    expect(clock.pendingTimers()).toBe(0);
  });
});
