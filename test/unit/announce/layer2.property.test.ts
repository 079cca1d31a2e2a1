/**
 * Layer 2 properties over random clusters: order independence, exactly one announcer per
 * address (checked against an independent oracle), minimal movement when a node goes, and an even
 * spread of Services over nodes.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decideLayer2, type Layer2Decision } from "../../../src/announce/layer2.js";
import { rendezvousScore } from "../../../src/announce/hash.js";
import {
  EXCLUDE_FROM_LB_LABEL,
  type AnnouncementSnapshot,
  type NodeSnapshot,
  type ServiceSnapshot,
} from "../../../src/announce/snapshot.js";
import { config, node, obj, service, shuffled, snapshot } from "./fixtures.js";

const NODE_NAMES = ["n0", "n1", "n2", "n3", "n4", "n5"];
const ADDRESSES = [
  "192.0.2.200",
  "192.0.2.201",
  "192.0.2.202",
  "2001:db8:1::200",
  "2001:db8:1::201",
  "198.51.100.1",
];

/** Two configurations: every node may announce the LAN pool; or rack r1 only, plus the BGP pool on r2. */
const CONFIGS = [
  config({ l2Advertisements: [obj("all", { ipAddressPools: ["lan"] })] }),
  config({
    l2Advertisements: [
      obj("r1", {
        ipAddressPools: ["lan"],
        nodeSelectors: [{ matchLabels: { rack: "r1" } }],
        interfaces: ["eth0"],
      }),
      obj("r2", { ipAddressPools: ["bgp"], nodeSelectors: [{ matchLabels: { rack: "r2" } }] }),
    ],
  }),
];

const nodeArb: fc.Arbitrary<NodeSnapshot[]> = fc
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

/**
 * Services come in groups sharing one address list and one backend set, as the allocator allows
 * (Local Services share only with the same selector, hence the same endpoints).
 */
const groupArb = fc.record({
  ips: fc.uniqueArray(fc.constantFrom(...ADDRESSES), { minLength: 1, maxLength: 2 }),
  etp: fc.constantFrom("Cluster" as const, "Local" as const),
  endpoints: fc.dictionary(fc.constantFrom(...NODE_NAMES), fc.tuple(fc.nat(2), fc.nat(2)), { maxKeys: 4 }),
  withoutNode: fc.constantFrom(0, 0, 1),
  members: fc.integer({ min: 1, max: 2 }),
});

const snapshotArb: fc.Arbitrary<AnnouncementSnapshot> = fc
  .record({
    configIndex: fc.nat(CONFIGS.length - 1),
    nodes: nodeArb,
    deadFraction: fc.subarray(NODE_NAMES),
    groups: fc.array(groupArb, { maxLength: 5 }),
  })
  .map(({ configIndex, nodes, deadFraction, groups }) => {
    const services: ServiceSnapshot[] = [];
    const used = new Set<string>();
    groups.forEach((g, gi) => {
      // An address belongs to one group only.
      const ips = g.ips.filter((ip) => !used.has(ip));
      ips.forEach((ip) => used.add(ip));
      if (ips.length === 0) return;
      for (let m = 0; m < g.members; m++) {
        const endpoints = Object.fromEntries(
          Object.entries(g.endpoints).map(([n, [ready, extra]]) => [
            n,
            [ready, ready + extra] as [number, number],
          ]),
        );
        services.push(
          service(`g${String(gi)}-${String(m)}`, {
            ips,
            etp: g.etp,
            endpoints,
            withoutNode: [g.withoutNode],
          }),
        );
      }
    });
    const live = nodes.map((n) => n.name).filter((n) => !deadFraction.includes(n));
    return snapshot(CONFIGS[configIndex] ?? big0(), services, nodes, live);
  });

function big0(): AnnouncementSnapshot["config"] {
  const [first] = CONFIGS;
  if (first === undefined) throw new Error("no config");
  return first;
}

// ── oracle: the rules written out plainly ─────────────────────────────────────────────────

function oracleEligible(snap: AnnouncementSnapshot, svc: ServiceSnapshot, ip: string): string[] {
  const lanIP = ip.startsWith("192.0.2.") || ip.startsWith("2001:db8:1:");
  const usesR1Config = snap.config === CONFIGS[1];
  const selected = snap.nodes.filter((n) => {
    if (!usesR1Config) return lanIP;
    return lanIP ? n.labels.rack === "r1" : n.labels.rack === "r2";
  });
  const candidates = selected.filter(
    (n) => !(EXCLUDE_FROM_LB_LABEL in n.labels) && !n.networkUnavailable && snap.liveSpeakers.has(n.name),
  );
  const names = candidates.map((n) => n.name);
  if (svc.externalTrafficPolicy === "Cluster") {
    const any =
      svc.endpoints.withoutNode.ready + svc.endpoints.withoutNode.serving > 0 ||
      [...svc.endpoints.byNode.values()].some((c) => c.ready + c.serving > 0);
    return any ? names : [];
  }
  const ready = names.filter((n) => (svc.endpoints.byNode.get(n)?.ready ?? 0) > 0);
  if (ready.length > 0) return ready;
  return names.filter((n) => (svc.endpoints.byNode.get(n)?.serving ?? 0) > 0);
}

function owners(d: Layer2Decision): Map<string, string> {
  return new Map(d.announcements.map((a) => [a.ip, a.node]));
}

const RUNS = { numRuns: 200 };

describe("decideLayer2 properties", () => {
  it("the decision does not depend on the order of services, nodes, endpoints or live speakers", () => {
    fc.assert(
      fc.property(snapshotArb, fc.nat(), (snap, seed) => {
        expect(decideLayer2(shuffled(snap, seed))).toEqual(decideLayer2(snap));
      }),
      RUNS,
    );
  });

  it("every address has exactly one announcer when any node is eligible, the oracle's highest-scoring one", () => {
    fc.assert(
      fc.property(snapshotArb, (snap) => {
        const decision = decideLayer2(snap);
        const ips = decision.announcements.map((a) => a.ip);
        expect(new Set(ips).size).toBe(ips.length);
        const byIP = new Map<string, ServiceSnapshot[]>();
        for (const s of snap.services) for (const ip of s.ips) byIP.set(ip, [...(byIP.get(ip) ?? []), s]);
        for (const [ip, holders] of byIP) {
          const [first] = holders;
          if (first === undefined) continue;
          const eligible = oracleEligible(snap, first, ip);
          const ann = decision.announcements.find((a) => a.ip === ip);
          if (eligible.length === 0) {
            expect(ann).toBeUndefined();
            continue;
          }
          const key = first.ips[0] ?? "";
          const best = [...eligible].sort((a, b) => rendezvousScore(b, key) - rendezvousScore(a, key))[0];
          expect(ann?.node).toBe(best);
          expect(ann?.services).toEqual(holders.map((h) => h.key).sort());
        }
      }),
      RUNS,
    );
  });

  it("removing a node that owns nothing moves nothing; removing an owner moves only its addresses", () => {
    fc.assert(
      fc.property(snapshotArb, fc.constantFrom(...NODE_NAMES), (snap, gone) => {
        const before = owners(decideLayer2(snap));
        const after = owners(
          decideLayer2({
            ...snap,
            nodes: snap.nodes.filter((n) => n.name !== gone),
          }),
        );
        for (const [ip, owner] of before) {
          if (owner !== gone) expect(after.get(ip)).toBe(owner);
          else expect(after.get(ip)).not.toBe(gone);
        }
      }),
      RUNS,
    );
  });

  it("a dead speaker behaves like a removed node", () => {
    fc.assert(
      fc.property(snapshotArb, fc.constantFrom(...NODE_NAMES), (snap, gone) => {
        const live = new Set([...snap.liveSpeakers].filter((n) => n !== gone));
        const dead = decideLayer2({ ...snap, liveSpeakers: live });
        const removed = decideLayer2({
          ...snap,
          liveSpeakers: live,
          nodes: snap.nodes.filter((n) => n.name !== gone),
        });
        expect(owners(dead)).toEqual(owners(removed));
      }),
      RUNS,
    );
  });
});

describe("decideLayer2 spread", () => {
  const big = config({
    ipAddressPools: [obj("big", { addresses: ["198.51.100.0/24", "203.0.113.0/24", "2001:db8:1::/118"] })],
    l2Advertisements: [obj("big", { ipAddressPools: ["big"] })],
  });
  const ips = [
    ...Array.from({ length: 256 }, (_, i) => `198.51.100.${String(i)}`),
    ...Array.from({ length: 244 }, (_, i) => `203.0.113.${String(i)}`),
    ...Array.from({ length: 500 }, (_, i) => `2001:db8:1::${i.toString(16)}`),
  ];
  const services = ips.map((ip, i) => service(`svc-${String(i)}`, { ips: [ip] }));
  const nodes = [node("worker-1"), node("worker-2"), node("worker-3")];

  it("1,000 Services over 3 nodes: each node within ±15% of a third", () => {
    const decision = decideLayer2(snapshot(big, services, nodes));
    expect(decision.announcements).toHaveLength(1000);
    for (const n of nodes) {
      const count = decision.byNode.get(n.name)?.length ?? 0;
      expect(count).toBeGreaterThanOrEqual((1000 / 3) * 0.85);
      expect(count).toBeLessThanOrEqual((1000 / 3) * 1.15);
    }
  });

  it("when one of 3 nodes goes, only its Services move and they split over the other two", () => {
    const before = decideLayer2(snapshot(big, services, nodes));
    const after = decideLayer2(snapshot(big, services, nodes.slice(0, 2)));
    const afterOwners = owners(after);
    const moved = before.announcements.filter((a) => a.node === "worker-3");
    const stayed = before.announcements.filter((a) => a.node !== "worker-3");
    expect(stayed.filter((a) => afterOwners.get(a.ip) !== a.node)).toEqual([]);
    const toFirst = moved.filter((a) => afterOwners.get(a.ip) === "worker-1").length;
    expect(toFirst / moved.length).toBeGreaterThan(0.35);
    expect(toFirst / moved.length).toBeLessThan(0.65);
  });
});
