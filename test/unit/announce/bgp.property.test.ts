/**
 * BGP properties over random clusters: order independence, a speaker's own plan equal to the
 * cluster-wide one, well-formed per-peer tables, and removal of a Service withdrawing only prefixes
 * nothing else needs.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bgpPlanForNode, decideBGP, type BGPPrefixAdvertisement } from "../../../src/announce/bgp.js";
import { nodeHasEndpoints, nodesWithEndpoints } from "../../../src/announce/eligibility.js";
import {
  EXCLUDE_FROM_LB_LABEL,
  type AnnouncementSnapshot,
  type NodeSnapshot,
  type ServiceSnapshot,
} from "../../../src/announce/snapshot.js";
import type { IronLBConfig } from "../../../src/api/configTypes.js";
import { cidrToRange, formatCIDR, parseIP, rangeContains } from "../../../src/net/ip.js";
import { config, node, obj, service, shuffled, snapshot } from "./fixtures.js";

const NODE_NAMES = ["n0", "n1", "n2", "n3", "n4"];
const ADDRESSES = [
  "198.51.100.1",
  "198.51.100.2",
  "198.51.100.130",
  "2001:db8:100::1",
  "2001:db8:100::2",
  "192.0.2.201",
];
const PEERS = [
  obj("ibgp", { myASN: 64500, peerASN: 64500, peerAddress: "203.0.113.1" }),
  obj("ebgp", { myASN: 64501, peerASN: 64500, peerAddress: "203.0.113.2" }),
  obj("r2-tor", {
    myASN: 64501,
    dynamicASN: "external",
    peerAddress: "203.0.113.3",
    nodeSelectors: [{ matchLabels: { rack: "r2" } }],
  }),
];

const CONFIGS: IronLBConfig[] = [
  config({ bgpAdvertisements: [obj("all", { ipAddressPools: ["bgp"] })], bgpPeers: PEERS }),
  config({
    bgpAdvertisements: [
      obj("host", {
        ipAddressPools: ["bgp"],
        localPref: 200,
        communities: ["65000:1"],
        peers: ["ibgp", "r2-tor"],
      }),
      obj("agg", {
        ipAddressPoolSelectors: [{ matchLabels: { zone: "wan" } }],
        aggregationLength: 25,
        aggregationLengthV6: 120,
        communities: ["large:64500:1:1"],
        nodeSelectors: [{ matchLabels: { rack: "r1" } }],
      }),
    ],
    bgpPeers: PEERS,
  }),
];

const nodesArb: fc.Arbitrary<NodeSnapshot[]> = fc
  .uniqueArray(
    fc.record({
      name: fc.constantFrom(...NODE_NAMES),
      rack: fc.constantFrom("r1", "r2"),
      excluded: fc.constantFrom(false, false, false, true),
      unavailable: fc.constantFrom(false, false, false, true),
    }),
    { selector: (n) => n.name, maxLength: NODE_NAMES.length },
  )
  .map((ns) =>
    ns.map((n) =>
      node(n.name, { rack: n.rack, ...(n.excluded ? { [EXCLUDE_FROM_LB_LABEL]: "" } : {}) }, n.unavailable),
    ),
  );

const serviceArb = fc.record({
  ips: fc.uniqueArray(fc.constantFrom(...ADDRESSES), { minLength: 1, maxLength: 2 }),
  etp: fc.constantFrom("Cluster" as const, "Local" as const),
  endpoints: fc.dictionary(fc.constantFrom(...NODE_NAMES), fc.tuple(fc.nat(2), fc.nat(2)), { maxKeys: 4 }),
  withoutNode: fc.constantFrom(0, 0, 1),
});

const snapshotArb: fc.Arbitrary<AnnouncementSnapshot> = fc
  .record({
    configIndex: fc.nat(CONFIGS.length - 1),
    nodes: nodesArb,
    services: fc.array(serviceArb, { maxLength: 6 }),
  })
  .map(({ configIndex, nodes, services }) =>
    snapshot(
      CONFIGS[configIndex] ?? config({}),
      services.map((s, i) =>
        service(`s${String(i)}`, {
          ips: s.ips,
          etp: s.etp,
          endpoints: Object.fromEntries(
            Object.entries(s.endpoints).map(([n, [ready, extra]]) => [
              n,
              [ready, ready + extra] as [number, number],
            ]),
          ),
          withoutNode: [s.withoutNode],
        }),
      ),
      nodes,
    ),
  );

const RUNS = { numRuns: 200 };

type Tables = Map<string, Map<string, Map<string, BGPPrefixAdvertisement>>>;

function tablesOf(snap: AnnouncementSnapshot): Tables {
  return new Map(
    [...decideBGP(snap).nodes].map(([n, plan]) => [
      n,
      new Map(
        plan.peers.map((p) => [p.peer, new Map(p.advertisements.map((a) => [formatCIDR(a.prefix), a]))]),
      ),
    ]),
  );
}

describe("decideBGP properties", () => {
  it("the decision does not depend on input order", () => {
    fc.assert(
      fc.property(snapshotArb, fc.nat(), (snap, seed) => {
        expect(decideBGP(shuffled(snap, seed))).toEqual(decideBGP(snap));
      }),
      RUNS,
    );
  });

  it("a speaker's own plan equals its slice of the cluster-wide decision", () => {
    fc.assert(
      fc.property(snapshotArb, (snap) => {
        const all = decideBGP(snap);
        for (const n of snap.nodes) expect(bgpPlanForNode(snap, n.name)).toEqual(all.nodes.get(n.name));
      }),
      RUNS,
    );
  });

  it("per-peer tables: unique sorted prefixes covering their addresses, no LOCAL_PREF to eBGP, Local only where endpoints are", () => {
    fc.assert(
      fc.property(snapshotArb, (snap) => {
        const byKey = new Map(snap.services.map((s) => [s.key, s]));
        for (const [nodeName, plan] of decideBGP(snap).nodes) {
          for (const peer of plan.peers) {
            const keys = peer.advertisements.map((a) => formatCIDR(a.prefix));
            expect(new Set(keys).size).toBe(keys.length);
            if (peer.sessionType === "ebgp")
              expect(peer.advertisements.every((a) => a.localPref === undefined)).toBe(true);
            for (const a of peer.advertisements) {
              for (const ip of a.ips) expect(rangeContains(cidrToRange(a.prefix), parseIP(ip))).toBe(true);
              const justified = a.services.some((k) => {
                const s = byKey.get(k);
                if (s === undefined) return false;
                if (s.externalTrafficPolicy === "Cluster") return true;
                const c = s.endpoints.byNode.get(nodeName);
                return (c?.ready ?? 0) + (c?.serving ?? 0) > 0;
              });
              expect(justified).toBe(true);
            }
          }
        }
      }),
      RUNS,
    );
  });

  it("removing a Service withdraws only prefixes no other Service needs, and adds nothing", () => {
    fc.assert(
      fc.property(snapshotArb, fc.nat(), (snap, pick) => {
        if (snap.services.length === 0) return;
        const gone = snap.services[pick % snap.services.length] as ServiceSnapshot;
        const before = tablesOf(snap);
        const after = tablesOf({ ...snap, services: snap.services.filter((s) => s !== gone) });
        for (const [n, peers] of before) {
          for (const [peer, prefixes] of peers) {
            const next = after.get(n)?.get(peer) ?? new Map<string, BGPPrefixAdvertisement>();
            for (const key of next.keys()) expect(prefixes.has(key)).toBe(true);
            for (const [key, adv] of prefixes) {
              if (!next.has(key)) expect(adv.services).toEqual([gone.key]);
            }
          }
        }
      }),
      RUNS,
    );
  });
});

describe("endpoint rule: the one-node test agrees with the listing", () => {
  it("nodeHasEndpoints(s, c, n) === nodesWithEndpoints(s, c).includes(n)", () => {
    fc.assert(
      fc.property(serviceArb, fc.subarray(NODE_NAMES), (s, candidates) => {
        const svc = service("x", {
          ips: s.ips,
          etp: s.etp,
          endpoints: Object.fromEntries(
            Object.entries(s.endpoints).map(([n, [ready, extra]]) => [
              n,
              [ready, ready + extra] as [number, number],
            ]),
          ),
          withoutNode: [s.withoutNode],
        });
        const set = new Set(candidates);
        const listed = nodesWithEndpoints(svc, set);
        for (const n of NODE_NAMES) expect(nodeHasEndpoints(svc, set, n)).toBe(listed.includes(n));
      }),
      { numRuns: 500 },
    );
  });
});
