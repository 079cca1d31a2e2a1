import { describe, expect, it } from "vitest";
import { Allocator, PoolConfigError, type PoolSpec, type ServiceRequest } from "../../../src/ipam/index.js";
import { allocatorWith, expectResult, mustAllocate, mustFail, pool, svc } from "./fixtures.js";

const require46 = { ipFamilies: ["IPv4", "IPv6"], ipFamilyPolicy: "RequireDualStack" } as const;

describe("configuration changes", () => {
  interface Case {
    description: string;
    pools: PoolSpec[];
    services: ServiceRequest[];
    next: PoolSpec[];
    /** Evicted Service keys with their reason codes. */
    evicted: [string, string][];
    /** Every kept Service key with its pool afterwards. */
    kept: [string, string][];
  }
  const cases: Case[] = [
    {
      description: "an unchanged configuration keeps everything",
      pools: [pool("p", ["192.0.2.0/29"])],
      services: [svc("a"), svc("b")],
      next: [pool("p", ["192.0.2.0/29"])],
      evicted: [],
      kept: [
        ["default/a", "p"],
        ["default/b", "p"],
      ],
    },
    {
      description: "a shrunk pool evicts only the addresses now outside it",
      pools: [pool("p", ["192.0.2.0/29"])],
      services: [svc("a"), svc("b"), svc("c")],
      next: [pool("p", ["192.0.2.1-192.0.2.7"])],
      evicted: [["default/a", "RequestedIPNotInAnyPool"]],
      kept: [
        ["default/b", "p"],
        ["default/c", "p"],
      ],
    },
    {
      description: "a renamed pool keeps the addresses under the new name",
      pools: [pool("old", ["192.0.2.0/29"])],
      services: [svc("a"), svc("b")],
      next: [pool("new", ["192.0.2.0/29"])],
      evicted: [],
      kept: [
        ["default/a", "new"],
        ["default/b", "new"],
      ],
    },
    {
      description: "a split pool keeps each address in the part that holds it",
      pools: [pool("p", ["192.0.2.0/31", "198.51.100.0/31"])],
      services: [svc("a"), svc("b"), svc("c")],
      next: [pool("p1", ["192.0.2.0/31"]), pool("p2", ["198.51.100.0/31"])],
      evicted: [],
      kept: [
        ["default/a", "p1"],
        ["default/b", "p1"],
        ["default/c", "p2"],
      ],
    },
    {
      description: "a dual-stack pair split across two pools is evicted",
      pools: [pool("p", ["192.0.2.0/31", "2001:db8:1::/127"])],
      services: [svc("a", require46)],
      next: [pool("v4", ["192.0.2.0/31"]), pool("v6", ["2001:db8:1::/127"])],
      evicted: [["default/a", "RequestedIPsInDifferentPools"]],
      kept: [],
    },
    {
      description: "a removed pool evicts its Services",
      pools: [pool("p", ["192.0.2.0/31"]), pool("q", ["198.51.100.0/31"], { autoAssign: false })],
      services: [svc("a"), svc("b", { requestedPool: "q" })],
      next: [pool("p", ["192.0.2.0/31"])],
      evicted: [["default/b", "RequestedIPNotInAnyPool"]],
      kept: [["default/a", "p"]],
    },
    {
      description: "a pool newly scoped to other namespaces evicts its Services",
      pools: [pool("p", ["192.0.2.0/29"])],
      services: [svc("team/a"), svc("other/b")],
      next: [pool("p", ["192.0.2.0/29"], { namespaces: ["team"] })],
      evicted: [["other/b", "PoolNotAllowed"]],
      kept: [["team/a", "p"]],
    },
    {
      description: "turning on avoidBuggyIPs evicts a holder of .0",
      pools: [pool("p", ["192.0.2.0/29"])],
      services: [svc("a"), svc("b")],
      next: [pool("p", ["192.0.2.0/29"], { avoidBuggyIPs: true })],
      evicted: [["default/a", "RequestedIPAvoided"]],
      kept: [["default/b", "p"]],
    },
    {
      description: "turning off autoAssign keeps what was allocated",
      pools: [pool("p", ["192.0.2.0/29"])],
      services: [svc("a")],
      next: [pool("p", ["192.0.2.0/29"], { autoAssign: false })],
      evicted: [],
      kept: [["default/a", "p"]],
    },
    {
      description: "a Service that names a renamed pool is evicted: its request no longer fits",
      pools: [pool("old", ["192.0.2.0/29"])],
      services: [svc("a", { requestedPool: "old" }), svc("b")],
      next: [pool("new", ["192.0.2.0/29"])],
      evicted: [["default/a", "RequestedIPNotInRequestedPool"]],
      kept: [["default/b", "new"]],
    },
  ];
  for (const c of cases) {
    it(c.description, () => {
      const a = allocatorWith(c.pools);
      const before = new Map(c.services.map((s) => [`${s.namespace}/${s.name}`, mustAllocate(a, s)]));
      const evicted = a.setPools(c.next);
      expect(evicted.map((e) => [e.assignment.key, e.reason.code])).toEqual(c.evicted);
      for (const e of evicted) {
        expect(e.assignment.ips).toEqual(before.get(e.assignment.key));
        expect(a.assignmentOf(e.assignment.key)).toBeUndefined();
      }
      expect([...a.assignments()].map((x) => [x.key, x.pool])).toEqual(c.kept);
      for (const [key] of c.kept) expect(a.assignmentOf(key)?.ips).toEqual(before.get(key));
    });
  }

  it("counters follow the addresses into the new pools", () => {
    const a = allocatorWith([pool("p", ["192.0.2.0/31", "198.51.100.0/31"])]);
    for (const s of ["a", "b", "c"]) mustAllocate(a, svc(s));
    a.setPools([pool("p1", ["192.0.2.0/31"]), pool("p2", ["198.51.100.0/30"])]);
    expect(a.poolStats("p1")).toMatchObject({ assignedIPv4: 2n, availableIPv4: 0n });
    expect(a.poolStats("p2")).toMatchObject({ assignedIPv4: 1n, availableIPv4: 3n });
    expect(a.poolStats("p")).toBeUndefined();
    // The kept address is taken: the next allocation gets the one after it.
    expectResult(a.allocate(svc("d")), { ips: ["198.51.100.1"], pool: "p2" });
  });

  it("evicted addresses become free for others", () => {
    const a = allocatorWith([pool("p", ["192.0.2.0/31"])]);
    mustAllocate(a, svc("other/a"));
    const evicted = a.setPools([pool("p", ["192.0.2.0/31"], { namespaces: ["team"] })]);
    expect(evicted).toHaveLength(1);
    expectResult(a.allocate(svc("team/b")), { ips: ["192.0.2.0"], pool: "p" });
  });

  it.each([
    { description: "duplicate names", pools: [pool("p", ["192.0.2.0/31"]), pool("p", ["192.0.2.8/31"])] },
    { description: "overlapping pools", pools: [pool("p", ["192.0.2.0/24"]), pool("q", ["192.0.2.8/31"])] },
    {
      description: "overlapping ranges inside a pool",
      pools: [pool("p", ["192.0.2.0/24", "192.0.2.255-192.0.3.1"])],
    },
  ])("rejects $description (the loader must have caught them)", ({ pools }) => {
    expect(() => new Allocator().setPools(pools)).toThrow(PoolConfigError);
  });
});

describe("restart: loading existing assignments", () => {
  const p = pool("p", ["192.0.2.0/29"]);

  it("loads assignments first, so new allocations take none of them", () => {
    const a = allocatorWith([p]);
    expect(a.assign(svc("a"), ["192.0.2.0"])).toEqual({ ok: true, ips: ["192.0.2.0"], pool: "p" });
    expect(a.assign(svc("b"), ["192.0.2.2"])).toEqual({ ok: true, ips: ["192.0.2.2"], pool: "p" });
    expect(mustAllocate(a, svc("c"))).toEqual(["192.0.2.1"]);
    expect(mustAllocate(a, svc("d"))).toEqual(["192.0.2.3"]);
  });

  it("a loaded Service allocated again keeps its address unchanged", () => {
    const a = allocatorWith([p]);
    a.assign(svc("a"), ["192.0.2.5"]);
    expect(a.allocate(svc("a"))).toEqual({ ok: true, ips: ["192.0.2.5"], pool: "p", changed: false });
  });

  it("loads a shared address for several Services", () => {
    const a = allocatorWith([p]);
    const tcp = (port: number) => [{ protocol: "TCP" as const, port }];
    expect(a.assign(svc("a", { sharingKey: "k", ports: tcp(80) }), ["192.0.2.3"]).ok).toBe(true);
    expect(a.assign(svc("b", { sharingKey: "k", ports: tcp(443) }), ["192.0.2.3"]).ok).toBe(true);
    expect(a.holdersOf("192.0.2.3")).toEqual(["default/a", "default/b"]);
    expect(a.poolStats("p")?.assignedIPv4).toBe(1n);
  });

  const failing: {
    description: string;
    service: ServiceRequest;
    ips: string[];
    code: string;
    fields?: Record<string, unknown>;
  }[] = [
    {
      description: "an address already held without sharing",
      service: svc("b"),
      ips: ["192.0.2.1"],
      code: "RequestedIPInUse",
      fields: { by: "default/a", source: "assigned" },
    },
    {
      description: "an address outside every pool",
      service: svc("b"),
      ips: ["203.0.113.1"],
      code: "RequestedIPNotInAnyPool",
      fields: { source: "assigned" },
    },
    { description: "text that is no address", service: svc("b"), ips: ["nope"], code: "InvalidRequestedIP" },
    { description: "no address", service: svc("b"), ips: [], code: "RequestedIPsFamilyMismatch" },
    {
      description: "two addresses for a single-stack Service",
      service: svc("b", { ipFamilies: ["IPv4", "IPv6"] }),
      ips: ["192.0.2.4", "2001:db8::1"],
      code: "RequestedIPsFamilyMismatch",
    },
    {
      description: "an address other than the requested one",
      service: svc("b", { requestedIPs: ["192.0.2.5"] }),
      ips: ["192.0.2.4"],
      code: "AssignedIPsNotRequested",
      fields: { ips: ["192.0.2.4"], requestedIPs: ["192.0.2.5"] },
    },
    {
      description: "an address from a pool other than the requested one",
      service: svc("b", { requestedPool: "q" }),
      ips: ["192.0.2.4"],
      code: "RequestedIPNotInRequestedPool",
    },
  ];
  for (const c of failing) {
    it(`refuses ${c.description} and changes nothing`, () => {
      const a = allocatorWith([p]);
      a.assign(svc("a"), ["192.0.2.1"]);
      const before = [...a.assignments()];
      const reason = mustFail(a.assign(c.service, c.ips));
      expect(reason.code).toBe(c.code);
      if (c.fields) expect(reason).toMatchObject(c.fields);
      expect([...a.assignments()]).toEqual(before);
      expect(a.poolStats("p")?.assignedIPv4).toBe(1n);
    });
  }

  it("a failed reload leaves the Service's previous assignment in place", () => {
    const a = allocatorWith([p]);
    a.assign(svc("a"), ["192.0.2.1"]);
    a.assign(svc("b"), ["192.0.2.2"]);
    expect(mustFail(a.assign(svc("b"), ["192.0.2.1"])).code).toBe("RequestedIPInUse");
    expect(a.assignmentOf("default/b")?.ips).toEqual(["192.0.2.2"]);
  });
});

describe("Services that change", () => {
  const p = pool("p", ["192.0.2.0/29"]);

  it("a new requested address moves the Service and frees the old one", () => {
    const a = allocatorWith([p]);
    mustAllocate(a, svc("a"));
    expect(a.allocate(svc("a", { requestedIPs: ["192.0.2.6"] }))).toMatchObject({
      ok: true,
      ips: ["192.0.2.6"],
      changed: true,
    });
    expect(mustAllocate(a, svc("b"))).toEqual(["192.0.2.0"]);
  });

  it("a new requested pool moves the Service", () => {
    const a = allocatorWith([p, pool("q", ["198.51.100.0/31"], { autoAssign: false })]);
    mustAllocate(a, svc("a"));
    expect(a.allocate(svc("a", { requestedPool: "q" }))).toMatchObject({
      ok: true,
      pool: "q",
      changed: true,
    });
  });

  it("labels that leave a scoped pool move the Service to a pool it may use", () => {
    const web = [{ matchLabels: { app: "web" } }];
    const a = allocatorWith([pool("web", ["198.51.100.0/31"], { serviceSelectors: web }), p]);
    expect(mustAllocate(a, svc("a", { labels: { app: "web" } }))).toEqual(["198.51.100.0"]);
    expect(a.allocate(svc("a", { labels: { app: "db" } }))).toMatchObject({
      ok: true,
      pool: "p",
      changed: true,
    });
  });

  it("an update that cannot be satisfied releases the old address", () => {
    const a = allocatorWith([p]);
    mustAllocate(a, svc("a"));
    expectResult(a.allocate(svc("a", { requestedIPs: ["203.0.113.1"] })), {
      code: "RequestedIPNotInAnyPool",
    });
    expect(a.assignmentOf("default/a")).toBeUndefined();
    expect(a.poolStats("p")?.assignedIPv4).toBe(0n);
  });

  it("changed ports are recorded, so a port freed by one Service is available to a sharer", () => {
    const a = allocatorWith([p]);
    const tcp = (port: number) => [{ protocol: "TCP" as const, port }];
    mustAllocate(a, svc("a", { sharingKey: "k", ports: tcp(80) }));
    expectResult(a.allocate(svc("b", { sharingKey: "k", ports: tcp(80), requestedIPs: ["192.0.2.0"] })), {
      code: "RequestedIPInUse",
      fields: { conflict: "port" },
    });
    expect(a.allocate(svc("a", { sharingKey: "k", ports: tcp(8080) }))).toMatchObject({
      ok: true,
      changed: false,
    });
    expectResult(a.allocate(svc("b", { sharingKey: "k", ports: tcp(80), requestedIPs: ["192.0.2.0"] })), {
      ips: ["192.0.2.0"],
      pool: "p",
    });
  });
});

describe("assignments as values", () => {
  it("serialise to exactly the Assignment fields", () => {
    const a = allocatorWith([pool("p", ["192.0.2.0/29"])]);
    const s = svc("a");
    mustAllocate(a, s);
    expect(JSON.parse(JSON.stringify(a.assignmentOf("default/a")))).toEqual({
      key: "default/a",
      service: JSON.parse(JSON.stringify(s)) as unknown,
      ips: ["192.0.2.0"],
      pool: "p",
    });
  });

  it("an assignment handed out does not change when the Service is updated", () => {
    const a = allocatorWith([pool("p", ["192.0.2.0/29"])]);
    mustAllocate(a, svc("a"));
    const before = a.assignmentOf("default/a");
    mustAllocate(a, svc("a", { requestedIPs: ["192.0.2.5"] }));
    expect(before?.ips).toEqual(["192.0.2.0"]);
    expect(a.assignmentOf("default/a")?.ips).toEqual(["192.0.2.5"]);
  });
});
