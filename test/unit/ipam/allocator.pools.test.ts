import { describe, expect, it } from "vitest";
import type { PoolSpec, ServiceRequest } from "../../../src/ipam/index.js";
import { allocatorWith, expectResult, mustAllocate, pool, svc, type Expectation } from "./fixtures.js";

interface Case {
  description: string;
  pools: PoolSpec[];
  /** Services allocated first, each of which must succeed. */
  before?: ServiceRequest[];
  service: ServiceRequest;
  expected: Expectation;
}

function run(cases: Case[]): void {
  for (const c of cases) {
    it(c.description, () => {
      const a = allocatorWith(c.pools);
      for (const b of c.before ?? []) mustAllocate(a, b);
      expectResult(a.allocate(c.service), c.expected);
    });
  }
}

const lan = pool("lan", ["192.0.2.200-192.0.2.250"]);

describe("allocation order inside a pool", () => {
  run([
    {
      description: "the lowest address of a fresh pool",
      pools: [lan],
      service: svc("a"),
      expected: { ips: ["192.0.2.200"], pool: "lan" },
    },
    {
      description: "the next address for the next Service",
      pools: [lan],
      before: [svc("a"), svc("b")],
      service: svc("c"),
      expected: { ips: ["192.0.2.202"], pool: "lan" },
    },
    {
      description: "ranges in configuration order, then ascending address",
      pools: [pool("p", ["192.0.2.20-192.0.2.20", "192.0.2.10-192.0.2.11"])],
      before: [svc("a")],
      service: svc("b"),
      expected: { ips: ["192.0.2.10"], pool: "p" },
    },
    {
      description: "avoidBuggyIPs starts a /24 at .1",
      pools: [pool("p", ["198.51.100.0/24"], { avoidBuggyIPs: true })],
      service: svc("a"),
      expected: { ips: ["198.51.100.1"], pool: "p" },
    },
    {
      description: "avoidBuggyIPs steps from .254 over .255 and .0 to .1 of the next /24",
      pools: [pool("p", ["198.51.100.254-198.51.101.10"], { avoidBuggyIPs: true })],
      before: [svc("a")],
      service: svc("b"),
      expected: { ips: ["198.51.101.1"], pool: "p" },
    },
    {
      description: "without avoidBuggyIPs .255 and .0 are ordinary addresses",
      pools: [pool("p", ["198.51.100.254-198.51.101.10"])],
      before: [svc("a"), svc("b")],
      service: svc("c"),
      expected: { ips: ["198.51.101.0"], pool: "p" },
    },
    {
      description: "a pool whose only address is avoided is exhausted from the start",
      pools: [pool("p", ["198.51.100.255-198.51.101.0"], { avoidBuggyIPs: true })],
      service: svc("a"),
      expected: { code: "FamilyNotAvailable", fields: { families: ["IPv4"], pool: undefined } },
    },
  ]);
});

describe("choosing a pool", () => {
  const scopedTeam = (name: string, o: Parameters<typeof pool>[2] = {}): PoolSpec =>
    pool(name, [name === "team" ? "198.51.100.0/30" : "198.51.100.8/30"], { namespaces: ["team"], ...o });
  run([
    {
      description: "pools without serviceAllocation by name",
      pools: [pool("b", ["192.0.2.1"]), pool("a", ["192.0.2.9"])],
      service: svc("s"),
      expected: { ips: ["192.0.2.9"], pool: "a" },
    },
    {
      description: "the next pool by name when the first is full",
      pools: [pool("b", ["192.0.2.1"]), pool("a", ["192.0.2.9"])],
      before: [svc("x")],
      service: svc("s"),
      expected: { ips: ["192.0.2.1"], pool: "b" },
    },
    {
      description: "autoAssign false pools are skipped",
      pools: [pool("a", ["192.0.2.1"], { autoAssign: false }), pool("b", ["192.0.2.9"])],
      service: svc("s"),
      expected: { ips: ["192.0.2.9"], pool: "b" },
    },
    {
      description: "only autoAssign false pools: nothing matches",
      pools: [pool("a", ["192.0.2.1"], { autoAssign: false })],
      service: svc("s"),
      expected: { code: "NoPoolMatches", fields: { namespace: "default" } },
    },
    {
      description: "no pools at all: nothing matches",
      pools: [],
      service: svc("s"),
      expected: { code: "NoPoolMatches" },
    },
    {
      description: "an autoAssign false pool serves a Service that names it",
      pools: [pool("a", ["192.0.2.1"], { autoAssign: false }), pool("b", ["192.0.2.9"])],
      service: svc("s", { requestedPool: "a" }),
      expected: { ips: ["192.0.2.1"], pool: "a" },
    },
    {
      description: "an autoAssign false pool serves a Service that asks for one of its addresses",
      pools: [pool("a", ["192.0.2.0/29"], { autoAssign: false })],
      service: svc("s", { requestedIPs: ["192.0.2.5"] }),
      expected: { ips: ["192.0.2.5"], pool: "a" },
    },
    {
      description: "a pool scoped to the namespace comes before pools without serviceAllocation",
      pools: [pool("a-open", ["192.0.2.0/30"]), scopedTeam("team")],
      service: svc("team/s"),
      expected: { ips: ["198.51.100.0"], pool: "team" },
    },
    {
      description: "a pool scoped to another namespace is not used",
      pools: [pool("z-open", ["192.0.2.0/30"]), scopedTeam("team")],
      service: svc("other/s"),
      expected: { ips: ["192.0.2.0"], pool: "z-open" },
    },
    {
      description: "only pools scoped to other namespaces: nothing matches",
      pools: [scopedTeam("team")],
      service: svc("other/s"),
      expected: { code: "NoPoolMatches", fields: { namespace: "other" } },
    },
    {
      description: "a scoped pool with autoAssign false is not used automatically",
      pools: [pool("z-open", ["192.0.2.0/30"]), scopedTeam("team", { autoAssign: false })],
      service: svc("team/s"),
      expected: { ips: ["192.0.2.0"], pool: "z-open" },
    },
    {
      description: "scoped pools by priority, lower first",
      pools: [scopedTeam("team", { priority: 20 }), scopedTeam("team2", { priority: 10 })],
      service: svc("team/s"),
      expected: { ips: ["198.51.100.8"], pool: "team2" },
    },
    {
      description: "a scoped pool without priority comes after those with one",
      pools: [scopedTeam("team"), scopedTeam("team2", { priority: 99 })],
      service: svc("team/s"),
      expected: { ips: ["198.51.100.8"], pool: "team2" },
    },
    {
      description: "priority 0 counts as no priority (MetalLB's zero value)",
      pools: [scopedTeam("team", { priority: 0 }), scopedTeam("team2", { priority: 5 })],
      service: svc("team/s"),
      expected: { ips: ["198.51.100.8"], pool: "team2" },
    },
    {
      description: "equal priorities: by name",
      pools: [scopedTeam("team2", { priority: 1 }), scopedTeam("team", { priority: 1 })],
      service: svc("team/s"),
      expected: { ips: ["198.51.100.0"], pool: "team" },
    },
    {
      description: "a full scoped pool gives way to the next scoped pool",
      pools: [scopedTeam("team", { priority: 1 }), scopedTeam("team2", { priority: 2 })],
      before: [svc("team/a"), svc("team/b"), svc("team/c"), svc("team/d")],
      service: svc("team/s"),
      expected: { ips: ["198.51.100.8"], pool: "team2" },
    },
    {
      description: "full scoped pools give way to pools without serviceAllocation",
      pools: [pool("p", ["198.51.100.0"], { namespaces: ["team"] }), pool("z", ["192.0.2.7"])],
      before: [svc("team/a")],
      service: svc("team/s"),
      expected: { ips: ["192.0.2.7"], pool: "z" },
    },
    {
      description: "namespaceSelectors match the namespace's labels",
      pools: [
        pool("z", ["192.0.2.7"]),
        pool("p", ["198.51.100.1"], { namespaceSelectors: [{ matchLabels: { tier: "gold" } }] }),
      ],
      service: svc("team/s", { namespaceLabels: { tier: "gold" } }),
      expected: { ips: ["198.51.100.1"], pool: "p" },
    },
    {
      description: "a namespace listed by name or by selector is admitted (either suffices)",
      pools: [
        pool("z", ["192.0.2.7"]),
        pool("p", ["198.51.100.1"], {
          namespaces: ["other"],
          namespaceSelectors: [{ matchLabels: { tier: "gold" } }],
        }),
      ],
      service: svc("team/s", { namespaceLabels: { tier: "gold" } }),
      expected: { ips: ["198.51.100.1"], pool: "p" },
    },
    {
      description: "serviceSelectors match the Service's labels",
      pools: [
        pool("z", ["192.0.2.7"]),
        pool("p", ["198.51.100.1"], { serviceSelectors: [{ matchLabels: { app: "web" } }] }),
      ],
      service: svc("s", { labels: { app: "web" } }),
      expected: { ips: ["198.51.100.1"], pool: "p" },
    },
    {
      description: "serviceSelectors that do not match leave the pool out",
      pools: [
        pool("z", ["192.0.2.7"]),
        pool("p", ["198.51.100.1"], { serviceSelectors: [{ matchLabels: { app: "web" } }] }),
      ],
      service: svc("s", { labels: { app: "db" } }),
      expected: { ips: ["192.0.2.7"], pool: "z" },
    },
    {
      description: "namespace and service selectors must both match",
      pools: [
        pool("z", ["192.0.2.7"]),
        pool("p", ["198.51.100.1"], {
          namespaces: ["team"],
          serviceSelectors: [{ matchLabels: { app: "web" } }],
        }),
      ],
      service: svc("other/s", { labels: { app: "web" } }),
      expected: { ips: ["192.0.2.7"], pool: "z" },
    },
  ]);
});

describe("explicit requests", () => {
  const scoped = pool("scoped", ["198.51.100.0/29"], { namespaces: ["team"] });
  const labelled = pool("labelled", ["203.0.113.0/29"], {
    serviceSelectors: [{ matchLabels: { app: "web" } }],
  });
  run([
    {
      description: "a requested address is granted even when it is not the lowest",
      pools: [lan],
      service: svc("s", { requestedIPs: ["192.0.2.230"] }),
      expected: { ips: ["192.0.2.230"], pool: "lan" },
    },
    {
      description: "requested address text is returned canonical",
      pools: [pool("v6", ["2001:db8:1::200-2001:db8:1::2ff"])],
      service: svc("s", { ipFamilies: ["IPv6"], requestedIPs: ["2001:DB8:1:0::201"] }),
      expected: { ips: ["2001:db8:1::201"], pool: "v6" },
    },
    {
      description: "a requested address outside every pool",
      pools: [lan],
      service: svc("s", { requestedIPs: ["203.0.113.5"] }),
      expected: { code: "RequestedIPNotInAnyPool", fields: { ip: "203.0.113.5", source: "requested" } },
    },
    {
      description: "a requested address that does not parse",
      pools: [lan],
      service: svc("s", { requestedIPs: ["192.0.2.300"] }),
      expected: { code: "InvalidRequestedIP", fields: { ip: "192.0.2.300" } },
    },
    {
      description: "three requested addresses",
      pools: [lan],
      service: svc("s", { requestedIPs: ["192.0.2.201", "192.0.2.202", "192.0.2.203"] }),
      expected: { code: "TooManyRequestedIPs" },
    },
    {
      description: "a requested IPv6 address for an IPv4 single-stack Service",
      pools: [lan, pool("v6", ["2001:db8:1::/120"])],
      service: svc("s", { requestedIPs: ["2001:db8:1::5"] }),
      expected: {
        code: "RequestedIPsFamilyMismatch",
        fields: { policy: "SingleStack", ips: ["2001:db8:1::5"] },
      },
    },
    {
      description: "a requested .0 in a pool that avoids buggy IPs",
      pools: [pool("p", ["198.51.100.0/24"], { avoidBuggyIPs: true })],
      service: svc("s", { requestedIPs: ["198.51.100.0"] }),
      expected: { code: "RequestedIPAvoided", fields: { ip: "198.51.100.0", pool: "p" } },
    },
    {
      description: "a requested .255 in a pool that does not avoid buggy IPs",
      pools: [pool("p", ["198.51.100.0/24"])],
      service: svc("s", { requestedIPs: ["198.51.100.255"] }),
      expected: { ips: ["198.51.100.255"], pool: "p" },
    },
    {
      description: "a requested address outside the requested pool",
      pools: [lan, scoped],
      service: svc("team/s", { requestedIPs: ["192.0.2.210"], requestedPool: "scoped" }),
      expected: {
        code: "RequestedIPNotInRequestedPool",
        fields: { ip: "192.0.2.210", pool: "lan", requestedPool: "scoped" },
      },
    },
    {
      description: "a requested address in a pool scoped to another namespace",
      pools: [scoped],
      service: svc("other/s", { requestedIPs: ["198.51.100.3"] }),
      expected: {
        code: "PoolNotAllowed",
        fields: { pool: "scoped", restriction: "namespace", source: "requested" },
      },
    },
    {
      description: "a requested address in a pool whose serviceSelectors do not match",
      pools: [labelled],
      service: svc("s", { requestedIPs: ["203.0.113.3"] }),
      expected: { code: "PoolNotAllowed", fields: { pool: "labelled", restriction: "service-labels" } },
    },
    {
      description: "a requested pool that does not exist",
      pools: [lan],
      service: svc("s", { requestedPool: "nope" }),
      expected: { code: "RequestedPoolNotFound", fields: { pool: "nope" } },
    },
    {
      description: "a requested pool scoped to another namespace",
      pools: [lan, scoped],
      service: svc("other/s", { requestedPool: "scoped" }),
      expected: { code: "PoolNotAllowed", fields: { pool: "scoped", source: "pool" } },
    },
    {
      description: "a requested pool that is full",
      pools: [lan, pool("one", ["203.0.113.9"])],
      before: [svc("x", { requestedPool: "one" })],
      service: svc("s", { requestedPool: "one" }),
      expected: { code: "PoolExhausted", fields: { pools: ["one"], families: ["IPv4"] } },
    },
    {
      description: "a requested pool without the Service's family",
      pools: [lan],
      service: svc("s", { ipFamilies: ["IPv6"], requestedPool: "lan" }),
      expected: { code: "FamilyNotAvailable", fields: { pool: "lan", families: ["IPv6"] } },
    },
  ]);
});

describe("exhaustion", () => {
  it("fails when every pool is full, then succeeds with the released address", () => {
    const a = allocatorWith([pool("a", ["192.0.2.1-192.0.2.2"]), pool("b", ["192.0.2.9"])]);
    expect([mustAllocate(a, svc("x")), mustAllocate(a, svc("y")), mustAllocate(a, svc("z"))]).toEqual([
      ["192.0.2.1"],
      ["192.0.2.2"],
      ["192.0.2.9"],
    ]);
    expectResult(a.allocate(svc("late")), { code: "PoolExhausted", fields: { pools: ["a", "b"] } });
    expect(a.assignmentOf("default/late")).toBeUndefined();
    expect(a.release("default/y")).toBe(true);
    expect(a.release("default/y")).toBe(false);
    expectResult(a.allocate(svc("late")), { ips: ["192.0.2.2"], pool: "a" });
  });

  it("an avoidBuggyIPs /24 holds exactly 254 Services", () => {
    const a = allocatorWith([pool("p", ["198.51.100.0/24"], { avoidBuggyIPs: true })]);
    const got = new Set<string>();
    for (let i = 0; i < 254; i++) for (const ip of mustAllocate(a, svc(`s${i}`))) got.add(ip);
    expect(got.size).toBe(254);
    expect(got.has("198.51.100.0") || got.has("198.51.100.255")).toBe(false);
    expectResult(a.allocate(svc("late")), { code: "PoolExhausted" });
    expect(a.poolStats("p")).toEqual({
      assignedIPv4: 254n,
      assignedIPv6: 0n,
      availableIPv4: 0n,
      availableIPv6: 0n,
    });
  });

  it("no pool of the Service's family: FamilyNotAvailable, not exhaustion", () => {
    const a = allocatorWith([lan]);
    expectResult(a.allocate(svc("s", { ipFamilies: ["IPv6"] })), {
      code: "FamilyNotAvailable",
      fields: { families: ["IPv6"], pool: undefined },
    });
  });
});

describe("pool statistics", () => {
  it("counts per family, shared addresses once, and /64 sizes exactly", () => {
    const a = allocatorWith([
      pool("dual", ["192.0.2.0/24", "2001:db8:1::/64"], { avoidBuggyIPs: true }),
      pool("other", ["198.51.100.0/24"]),
    ]);
    expect(a.poolStats("dual")).toEqual({
      assignedIPv4: 0n,
      assignedIPv6: 0n,
      availableIPv4: 254n,
      availableIPv6: 1n << 64n,
    });
    mustAllocate(a, svc("v4", { sharingKey: "k" }));
    mustAllocate(a, svc("v4b", { sharingKey: "k", ports: [{ protocol: "UDP", port: 53 }] }));
    mustAllocate(a, svc("v6", { ipFamilies: ["IPv6"] }));
    expect(a.poolStats("dual")).toEqual({
      assignedIPv4: 1n,
      assignedIPv6: 1n,
      availableIPv4: 253n,
      availableIPv6: (1n << 64n) - 1n,
    });
    expect(a.poolStats("other")).toEqual({
      assignedIPv4: 0n,
      assignedIPv6: 0n,
      availableIPv4: 256n,
      availableIPv6: 0n,
    });
    expect(a.poolStats("missing")).toBeUndefined();
    expect(a.poolNames().sort()).toEqual(["dual", "other"]);
  });

  it("poolOf and holdersOf answer the doctor's questions", () => {
    const a = allocatorWith([pool("p", ["198.51.100.0/24"], { avoidBuggyIPs: true })]);
    mustAllocate(a, svc("b", { sharingKey: "k" }));
    mustAllocate(a, svc("a", { sharingKey: "k", ports: [{ protocol: "TCP", port: 443 }] }));
    expect(a.poolOf("198.51.100.7")).toBe("p");
    expect(a.poolOf("198.51.100.0")).toBeUndefined();
    expect(a.poolOf("192.0.2.1")).toBeUndefined();
    expect(a.poolOf("junk")).toBeUndefined();
    expect(a.holdersOf("198.51.100.1")).toEqual(["default/a", "default/b"]);
    expect(a.holdersOf("198.51.100.2")).toEqual([]);
  });
});
