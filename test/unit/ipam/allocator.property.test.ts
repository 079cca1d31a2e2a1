/**
 * Property tests: random sequences of Service creates/updates/deletes and pool changes over a
 * small address universe, checked against an independent oracle after every step.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { matchesSelector } from "../../../src/api/labelSelector.js";
import {
  Allocator,
  type Assignment,
  type PoolSpec,
  type ServicePort,
  type ServiceRequest,
} from "../../../src/ipam/index.js";
import { parseAddressRange, parseIP, type IPFamily, type IPRange } from "../../../src/net/ip.js";

const BLOCKS: IPRange[] = [
  "192.0.2.0-192.0.2.3",
  "192.0.2.4-192.0.2.7",
  "192.0.2.253-192.0.3.2", // crosses .255 and .0
  "198.51.100.10-198.51.100.11",
  "2001:db8::-2001:db8::3",
  "2001:db8::10-2001:db8::11",
].map((t) => parseAddressRange(t));
const POOL_NAMES = ["p1", "p2", "p3"];
const NAMESPACES = ["a", "b"];
const REQUESTABLE = [
  "192.0.2.0",
  "192.0.2.5",
  "192.0.2.255",
  "192.0.3.0",
  "198.51.100.11",
  "203.0.113.1",
  "2001:db8::1",
  "2001:db8::11",
];
const PORTS: ServicePort[] = [
  { protocol: "TCP", port: 80 },
  { protocol: "TCP", port: 443 },
  { protocol: "UDP", port: 80 },
];

// ── generators ─────────────────────────────────────────────────────────────────────────

const poolsArb: fc.Arbitrary<PoolSpec[]> = fc
  .record({
    // Which pool (or none, index 3) owns each block; pool names may be permuted between configs.
    owner: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: BLOCKS.length, maxLength: BLOCKS.length }),
    names: fc.shuffledSubarray(POOL_NAMES, { minLength: 3, maxLength: 3 }),
    reverse: fc.boolean(),
    opts: fc.array(
      fc.record({
        autoAssign: fc.constantFrom(true, true, true, false),
        avoidBuggyIPs: fc.boolean(),
        scoped: fc.oneof(
          fc.constant(undefined),
          fc.record({
            priority: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
            namespaces: fc.option(fc.subarray(NAMESPACES), { nil: undefined }),
            app: fc.option(fc.constantFrom("web", "db"), { nil: undefined }),
          }),
        ),
      }),
      { minLength: 3, maxLength: 3 },
    ),
  })
  .map(({ owner, names, reverse, opts }) =>
    [0, 1, 2].flatMap((i): PoolSpec[] => {
      const ranges = BLOCKS.filter((_, b) => owner[b] === i);
      const o = opts[i];
      const name = names[i];
      if (ranges.length === 0 || o === undefined || name === undefined) return [];
      if (reverse) ranges.reverse();
      const sa = o.scoped;
      return [
        {
          name,
          ranges,
          autoAssign: o.autoAssign,
          avoidBuggyIPs: o.avoidBuggyIPs,
          ...(sa !== undefined && {
            serviceAllocation: {
              ...(sa.priority !== undefined && { priority: sa.priority }),
              ...(sa.namespaces !== undefined && { namespaces: sa.namespaces }),
              ...(sa.app !== undefined && { serviceSelectors: [{ matchLabels: { app: sa.app } }] }),
            },
          }),
        },
      ];
    }),
  );

const familiesArb = fc.constantFrom<Pick<ServiceRequest, "ipFamilies" | "ipFamilyPolicy">>(
  { ipFamilies: ["IPv4"], ipFamilyPolicy: "SingleStack" },
  { ipFamilies: ["IPv4"], ipFamilyPolicy: "SingleStack" },
  { ipFamilies: ["IPv6"], ipFamilyPolicy: "SingleStack" },
  { ipFamilies: ["IPv4", "IPv6"], ipFamilyPolicy: "PreferDualStack" },
  { ipFamilies: ["IPv6", "IPv4"], ipFamilyPolicy: "PreferDualStack" },
  { ipFamilies: ["IPv4", "IPv6"], ipFamilyPolicy: "RequireDualStack" },
);

const serviceArb: fc.Arbitrary<ServiceRequest> = fc
  .record({
    namespace: fc.constantFrom(...NAMESPACES),
    name: fc.constantFrom("s0", "s1", "s2", "s3", "s4", "s5"),
    app: fc.constantFrom("web", "db"),
    families: familiesArb,
    requestedIPs: fc.oneof(
      { weight: 8, arbitrary: fc.constant([]) },
      { weight: 1, arbitrary: fc.subarray(REQUESTABLE, { minLength: 1, maxLength: 1 }) },
      { weight: 1, arbitrary: fc.subarray(REQUESTABLE, { minLength: 2, maxLength: 2 }) },
    ),
    requestedPool: fc.oneof(
      { weight: 6, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constantFrom(...POOL_NAMES, "ghost") },
    ),
    sharingKey: fc.oneof(
      { weight: 2, arbitrary: fc.constant(undefined) },
      { weight: 3, arbitrary: fc.constantFrom("k1", "k2") },
    ),
    ports: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...PORTS.map((p) => [p])) },
      { weight: 1, arbitrary: fc.subarray(PORTS, { minLength: 1 }) },
    ),
    backendKey: fc.constantFrom("cluster", "cluster", "cluster", "local:app=web"),
  })
  .map((s): ServiceRequest => ({
    namespace: s.namespace,
    name: s.name,
    labels: { app: s.app },
    namespaceLabels: {},
    ...s.families,
    requestedIPs: s.requestedIPs,
    ...(s.requestedPool !== undefined && { requestedPool: s.requestedPool }),
    ...(s.sharingKey !== undefined && { sharingKey: s.sharingKey }),
    ports: s.ports,
    backendKey: s.backendKey,
  }));

type Op =
  | { kind: "allocate"; service: ServiceRequest }
  | { kind: "release"; key: string }
  | { kind: "setPools"; pools: PoolSpec[] };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: serviceArb.map((service): Op => ({ kind: "allocate", service })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...NAMESPACES), fc.constantFrom("s0", "s1", "s2", "s3", "s4", "s5"))
      .map(([ns, n]): Op => ({ kind: "release", key: `${ns}/${n}` })),
  },
  { weight: 1, arbitrary: poolsArb.map((pools): Op => ({ kind: "setPools", pools })) },
);

// ── the oracle ─────────────────────────────────────────────────────────────────────────

const isBuggy = (family: IPFamily, v: bigint): boolean =>
  family === "IPv4" && ((v & 0xffn) === 0n || (v & 0xffn) === 0xffn);

/** Usable addresses of a pool, in allocation order (ranges as configured, ascending inside). */
function usable(p: PoolSpec, family: IPFamily): bigint[] {
  const out: bigint[] = [];
  for (const r of p.ranges) {
    if (r.family !== family) continue;
    for (let v = r.first; v <= r.last; v++) if (!(p.avoidBuggyIPs && isBuggy(family, v))) out.push(v);
  }
  return out;
}

function poolHolding(pools: readonly PoolSpec[], ip: string): PoolSpec | undefined {
  const a = parseIP(ip);
  return pools.find((p) =>
    p.ranges.some(
      (r) =>
        r.family === a.family &&
        r.first <= a.value &&
        a.value <= r.last &&
        !(p.avoidBuggyIPs && isBuggy(a.family, a.value)),
    ),
  );
}

function mayUse(p: PoolSpec, s: ServiceRequest): boolean {
  const sa = p.serviceAllocation;
  if (sa === undefined) return true;
  const nsOk =
    (sa.namespaces ?? []).length === 0 && (sa.namespaceSelectors ?? []).length === 0
      ? true
      : (sa.namespaces ?? []).includes(s.namespace) ||
        (sa.namespaceSelectors ?? []).some((sel) => matchesSelector(sel, s.namespaceLabels));
  const svcOk =
    (sa.serviceSelectors ?? []).length === 0 ||
    (sa.serviceSelectors ?? []).some((sel) => matchesSelector(sel, s.labels));
  return nsOk && svcOk;
}

const keyOf = (s: ServiceRequest): string => `${s.namespace}/${s.name}`;
const portKeys = (s: ServiceRequest): string[] => s.ports.map((p) => `${p.protocol}/${p.port}`);

function checkInvariants(alloc: Allocator, pools: readonly PoolSpec[]): void {
  const all = [...alloc.assignments()];
  const byIP = new Map<string, Assignment[]>();
  for (const a of all) {
    const s = a.service;
    // Every address lies in the one pool recorded, which the Service may use and asked for.
    expect(a.ips.length).toBeGreaterThan(0);
    for (const ip of a.ips) {
      const p = poolHolding(pools, ip);
      expect(p?.name, `${a.key} holds ${ip}`).toBe(a.pool);
      expect(mayUse(p as PoolSpec, s), `${a.key} may not use ${a.pool}`).toBe(true);
      const list = byIP.get(ip) ?? [];
      list.push(a);
      byIP.set(ip, list);
    }
    if (s.requestedPool !== undefined) expect(a.pool).toBe(s.requestedPool);
    if (s.requestedIPs.length > 0) {
      // REQUESTABLE holds canonical text, so the texts compare directly.
      expect([...a.ips].sort()).toEqual([...s.requestedIPs].sort());
    }
    // Families follow the policy.
    const fams = a.ips.map((ip) => parseIP(ip).family);
    expect(new Set(fams).size).toBe(fams.length);
    if (s.ipFamilyPolicy === "SingleStack") expect(fams).toEqual([s.ipFamilies[0]]);
    if (s.ipFamilyPolicy === "RequireDualStack") expect(fams).toEqual(s.ipFamilies);
    for (const f of fams) expect(s.ipFamilies).toContain(f);
    expect(fams).toEqual(s.ipFamilies.filter((f) => fams.includes(f)));
  }
  // Services on one address may all share it.
  for (const [ip, holders] of byIP) {
    if (holders.length < 2) continue;
    const [first] = holders as [Assignment];
    const seen = new Set<string>();
    for (const h of holders) {
      expect(h.service.sharingKey, `${ip} shared without a key`).toBeDefined();
      expect(h.service.sharingKey).toBe(first.service.sharingKey);
      expect(h.service.backendKey).toBe(first.service.backendKey);
      for (const pk of new Set(portKeys(h.service))) {
        expect(seen.has(pk), `${ip} port ${pk} used twice`).toBe(false);
        seen.add(pk);
      }
    }
  }
  // Counters agree with a brute-force count.
  for (const p of pools) {
    const used = (f: IPFamily) =>
      [...byIP.keys()].filter((ip) => parseIP(ip).family === f && poolHolding(pools, ip) === p).length;
    expect(alloc.poolStats(p.name)).toEqual({
      assignedIPv4: BigInt(used("IPv4")),
      assignedIPv6: BigInt(used("IPv6")),
      availableIPv4: BigInt(usable(p, "IPv4").length - used("IPv4")),
      availableIPv6: BigInt(usable(p, "IPv6").length - used("IPv6")),
    });
  }
}

/** A fresh allocator loaded from the enumerated assignments must reproduce them exactly. */
function checkRebuild(alloc: Allocator, pools: readonly PoolSpec[]): void {
  const fresh = new Allocator();
  expect(fresh.setPools(pools)).toEqual([]);
  for (const a of alloc.assignments()) {
    const r = fresh.assign(a.service, a.ips);
    expect(r, `reloading ${a.key}`).toEqual({ ok: true, ips: a.ips, pool: a.pool });
  }
  const strip = (x: Allocator) => [...x.assignments()].map((a) => ({ key: a.key, ips: a.ips, pool: a.pool }));
  expect(strip(fresh)).toEqual(strip(alloc));
  for (const p of pools) expect(fresh.poolStats(p.name)).toEqual(alloc.poolStats(p.name));
}

/** A plain single-stack allocation without sharing takes the pool's first free address. */
function checkLowestFree(
  before: Set<string>,
  s: ServiceRequest,
  ips: readonly string[],
  pool: PoolSpec,
): void {
  const family = s.ipFamilies[0] as IPFamily;
  const first = usable(pool, family).find((v) => !before.has(`${family}:${v}`));
  expect(first, `a free ${family} address in ${pool.name}`).toBeDefined();
  expect(parseIP(ips[0] as string).value).toBe(first);
}

function usedSet(alloc: Allocator): Set<string> {
  const out = new Set<string>();
  for (const a of alloc.assignments())
    for (const ip of a.ips) out.add(`${parseIP(ip).family}:${parseIP(ip).value}`);
  return out;
}

describe("allocator properties", () => {
  it("holds its invariants over random Service and pool changes", () => {
    fc.assert(
      fc.property(poolsArb, fc.array(opArb, { minLength: 1, maxLength: 40, size: "max" }), (initial, ops) => {
        const alloc = new Allocator();
        const twin = new Allocator(); // the same operations must give the same answers
        let pools = initial;
        expect(alloc.setPools(pools)).toEqual([]);
        twin.setPools(pools);
        for (const op of ops) {
          if (op.kind === "allocate") {
            const key = keyOf(op.service);
            const had = alloc.assignmentOf(key);
            const before = usedSet(alloc);
            const r = alloc.allocate(op.service);
            expect(twin.allocate(op.service)).toEqual(r);
            if (r.ok) {
              expect(alloc.assignmentOf(key)).toMatchObject({
                ips: r.ips,
                pool: r.pool,
                service: op.service,
              });
              const plain =
                had === undefined &&
                op.service.sharingKey === undefined &&
                op.service.requestedIPs.length === 0 &&
                op.service.ipFamilyPolicy === "SingleStack";
              const p = pools.find((x) => x.name === r.pool);
              if (plain && p !== undefined) checkLowestFree(before, op.service, r.ips, p);
            } else {
              expect(alloc.assignmentOf(key)).toBeUndefined();
              expect(r.reason.message.length).toBeGreaterThan(0);
            }
          } else if (op.kind === "release") {
            const had = alloc.assignmentOf(op.key) !== undefined;
            expect(alloc.release(op.key)).toBe(had);
            twin.release(op.key);
            expect(alloc.assignmentOf(op.key)).toBeUndefined();
          } else {
            const before = [...alloc.assignments()];
            const evicted = alloc.setPools(op.pools);
            expect(twin.setPools(op.pools)).toEqual(evicted);
            pools = op.pools;
            // Evicted plus kept is everything there was; a kept Service keeps its addresses.
            const kept = [...alloc.assignments()];
            expect(evicted.length + kept.length).toBe(before.length);
            for (const k of kept) expect(before.find((b) => b.key === k.key)?.ips).toEqual(k.ips);
            // Nothing that could have stayed was evicted.
            for (const e of evicted) {
              const homes = e.assignment.ips.map((ip) => poolHolding(pools, ip));
              const home = homes[0];
              const couldStay =
                home !== undefined &&
                homes.every((h) => h === home) &&
                mayUse(home, e.assignment.service) &&
                (e.assignment.service.requestedPool ?? home.name) === home.name;
              expect(couldStay, `${e.assignment.key} evicted: ${e.reason.message}`).toBe(false);
            }
          }
          checkInvariants(alloc, pools);
        }
        checkRebuild(alloc, pools);
      }),
      { numRuns: 200 },
    );
  }, 60_000); // about 3 s on an idle machine; the margin is for a loaded CI host
});
