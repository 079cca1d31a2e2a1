import { afterEach, describe, expect, it } from "vitest";
import type { BGPNodePlan } from "../../../src/announce/bgp.js";
import { ManualClock } from "../../../src/runtime/clock.js";
import type { BgpNodeStatus, BgpSessionView } from "../../../src/speaker/bgp.js";
import {
  desiredServiceStatuses,
  desiredSessionStates,
  MAX_LISTED_PREFIXES,
  planObjectWrites,
  type DesiredObject,
  type ExistingObject,
} from "../../../src/speaker/bgpStatus.js";
import { ObjectStatusSync, type ObjectStatusApi } from "../../../src/speaker/bgpStatusSync.js";
import { cidr } from "../bgp/helpers.js";

function session(name: string, state: BgpSessionView["state"], prefixes: string[]): BgpSessionView {
  return {
    name,
    address: name === "v4" ? "192.0.2.1" : "2001:db8:1::1",
    port: 179,
    state,
    sinceMs: 0,
    advertisedPrefixes: prefixes.length,
    desiredPrefixes: prefixes.length,
    restarting: false,
    prefixes,
  };
}

const STATUS: BgpNodeStatus = {
  node: "node-a",
  sessions: [session("v4", "Established", ["198.51.100.7/32"]), session("v6", "Active", [])],
  problems: [],
};

const ad = (prefix: string, services: string[]) => ({
  prefix: cidr(prefix),
  communities: [],
  largeCommunities: [],
  ips: [],
  services,
  bgpAdvertisements: ["bgp"],
});

const PLAN: BGPNodePlan = {
  node: "node-a",
  peers: [
    { peer: "v4", sessionType: "ebgp", advertisements: [ad("198.51.100.7/32", ["default/web", "prod/api"])] },
    { peer: "v6", sessionType: "ibgp", advertisements: [ad("198.51.100.7/32", ["default/web"])] },
  ],
};

describe("BGP status objects", () => {
  it("one BGPSessionState per session, named peer.node, labelled with the node and peer", () => {
    const states = desiredSessionStates(STATUS);
    expect(states[0]).toEqual({
      name: "v4.node-a",
      labels: {
        "ironlb.io/node": "node-a",
        "ironlb.io/peer": "v4",
        "app.kubernetes.io/managed-by": "ironlb-speaker",
      },
      status: {
        node: "node-a",
        peer: "192.0.2.1",
        peerName: "v4",
        bgpStatus: "Established",
        bfdStatus: "N/A",
        advertisedPrefixes: 1,
        prefixes: ["198.51.100.7/32"],
      },
    });
    expect(states.map((s) => [s.name, s.status.bgpStatus])).toEqual([
      ["v4.node-a", "Established"],
      ["v6.node-a", "Active"],
    ]);
  });

  it("lists at most 100 prefixes and counts them all", () => {
    const many = Array.from({ length: 250 }, (_, i) => `2001:db8:100::${i.toString(16)}/128`);
    const [state] = desiredSessionStates({ ...STATUS, sessions: [session("v6", "Established", many)] });
    expect(state?.status.advertisedPrefixes).toBe(250);
    expect(state?.status.prefixes).toHaveLength(MAX_LISTED_PREFIXES);
  });

  it("a ServiceBGPStatus per Service advertised, naming only Established peers", () => {
    expect(desiredServiceStatuses(PLAN, STATUS).map((d) => [d.name, d.status])).toEqual([
      [
        "default.web.node-a",
        { node: "node-a", serviceName: "web", serviceNamespace: "default", peers: ["v4"] },
      ],
      ["prod.api.node-a", { node: "node-a", serviceName: "api", serviceNamespace: "prod", peers: ["v4"] }],
    ]);
    const down: BgpNodeStatus = {
      ...STATUS,
      sessions: STATUS.sessions.map((s) => ({ ...s, state: "Idle" })),
    };
    expect(desiredServiceStatuses(PLAN, down)).toEqual([]);
  });

  it("plans creates, status updates (key order ignored) and deletes of stale objects", () => {
    const desired: DesiredObject<{ a: number; b: string[] }>[] = [
      { name: "same", labels: {}, status: { a: 1, b: ["x"] } },
      { name: "changed", labels: {}, status: { a: 2, b: [] } },
      { name: "new", labels: {}, status: { a: 3, b: [] } },
    ];
    const existing: ExistingObject[] = [
      { metadata: { name: "same", resourceVersion: "1" }, status: { b: ["x"], a: 1 } },
      { metadata: { name: "changed", resourceVersion: "2" }, status: { a: 1, b: [] } },
      { metadata: { name: "stale", resourceVersion: "3" }, status: {} },
      { metadata: { name: "going", resourceVersion: "4", deletionTimestamp: "now" }, status: {} },
    ];
    const writes = planObjectWrites(existing, desired);
    expect(writes.create.map((d) => d.name)).toEqual(["new"]);
    expect(writes.update.map((u) => [u.desired.name, u.resourceVersion])).toEqual([["changed", "2"]]);
    expect(writes.delete).toEqual(["stale"]);
  });
});

/** An API holding objects in memory; fails the next `failures` calls. */
class MemoryApi implements ObjectStatusApi<{ n: number }> {
  readonly objects = new Map<string, { status: unknown; rv: number }>();
  calls: string[] = [];
  failures = 0;
  private rv = 0;
  private maybeFail(what: string): void {
    this.calls.push(what);
    if (this.failures > 0) {
      this.failures--;
      throw new Error("apiserver unavailable");
    }
  }
  list(): Promise<ExistingObject[]> {
    this.maybeFail("list");
    return Promise.resolve(
      [...this.objects].map(([name, o]) => ({
        metadata: { name, resourceVersion: String(o.rv) },
        status: o.status,
      })),
    );
  }
  create(d: DesiredObject<{ n: number }>): Promise<void> {
    this.maybeFail(`create ${d.name}`);
    this.objects.set(d.name, { status: d.status, rv: ++this.rv });
    return Promise.resolve();
  }
  updateStatus(d: DesiredObject<{ n: number }>): Promise<void> {
    this.maybeFail(`update ${d.name}`);
    this.objects.set(d.name, { status: d.status, rv: ++this.rv });
    return Promise.resolve();
  }
  delete(name: string): Promise<void> {
    this.maybeFail(`delete ${name}`);
    this.objects.delete(name);
    return Promise.resolve();
  }
}

const syncs: ObjectStatusSync<{ n: number }>[] = [];
afterEach(() => {
  for (const s of syncs.splice(0)) s.stop();
});

describe("ObjectStatusSync", () => {
  it("converges on the latest desired list and writes nothing when already there", async () => {
    const clock = new ManualClock();
    const api = new MemoryApi();
    api.objects.set("stale", { status: { n: 0 }, rv: 100 });
    const sync = new ObjectStatusSync({ kind: "Test", api, clock });
    syncs.push(sync);
    sync.desire([{ name: "a", labels: {}, status: { n: 1 } }]);
    sync.desire([
      { name: "a", labels: {}, status: { n: 2 } },
      { name: "b", labels: {}, status: { n: 1 } },
    ]);
    await clock.advance(0);
    await sync.idle();
    expect(Object.fromEntries([...api.objects].map(([k, v]) => [k, v.status]))).toEqual({
      a: { n: 2 },
      b: { n: 1 },
    });
    api.calls = [];
    sync.kick();
    await sync.idle();
    expect(api.calls).toEqual(["list"]);
  });

  it("retries a failed pass with backoff", async () => {
    const clock = new ManualClock();
    const api = new MemoryApi();
    api.failures = 2;
    const sync = new ObjectStatusSync({ kind: "Test", api, clock });
    syncs.push(sync);
    sync.desire([{ name: "a", labels: {}, status: { n: 1 } }]);
    await clock.advance(0);
    expect(api.objects.size).toBe(0);
    await clock.advance(60_000);
    await sync.idle();
    expect(api.objects.get("a")?.status).toEqual({ n: 1 });
  });
});
