import { describe, expect, it } from "vitest";
import type { ServiceRequest } from "../../../src/ipam/index.js";
import { allocatorWith, expectResult, mustAllocate, pool, svc, type Expectation } from "./fixtures.js";

const lan = pool("lan", ["192.0.2.200-192.0.2.250"]);
const tcp = (port: number) => ({ protocol: "TCP" as const, port });
const udp = (port: number) => ({ protocol: "UDP" as const, port });

/** The first Service holds 192.0.2.200; the second asks for it (or for any address). */
interface Case {
  description: string;
  first: ServiceRequest;
  second: ServiceRequest;
  expected: Expectation;
}

const want200 = { requestedIPs: ["192.0.2.200"] };

describe("sharing an address", () => {
  const cases: Case[] = [
    {
      description: "same key, other port, same backend: shares the requested address",
      first: svc("a", { sharingKey: "k", ports: [tcp(80)] }),
      second: svc("b", { ...want200, sharingKey: "k", ports: [tcp(443)] }),
      expected: { ips: ["192.0.2.200"], pool: "lan" },
    },
    {
      description: "same key without a requested address: joins the shareable address, not a new one",
      first: svc("a", { sharingKey: "k", ports: [tcp(80)] }),
      second: svc("b", { sharingKey: "k", ports: [tcp(443)] }),
      expected: { ips: ["192.0.2.200"], pool: "lan" },
    },
    {
      description: "same port number over another protocol is no overlap",
      first: svc("a", { sharingKey: "k", ports: [tcp(53)] }),
      second: svc("b", { ...want200, sharingKey: "k", ports: [udp(53)] }),
      expected: { ips: ["192.0.2.200"], pool: "lan" },
    },
    {
      description: "different keys conflict",
      first: svc("a", { sharingKey: "k1" }),
      second: svc("b", { ...want200, sharingKey: "k2", ports: [tcp(443)] }),
      expected: {
        code: "RequestedIPInUse",
        fields: { ip: "192.0.2.200", by: "default/a", conflict: "sharing-key", source: "requested" },
      },
    },
    {
      description: "the holder has no key",
      first: svc("a"),
      second: svc("b", { ...want200, sharingKey: "k", ports: [tcp(443)] }),
      expected: { code: "RequestedIPInUse", fields: { conflict: "sharing-key" } },
    },
    {
      description: "the newcomer has no key",
      first: svc("a", { sharingKey: "k" }),
      second: svc("b", { ...want200, ports: [tcp(443)] }),
      expected: { code: "RequestedIPInUse", fields: { conflict: "sharing-key" } },
    },
    {
      description: "one overlapping port out of several conflicts, naming the port",
      first: svc("a", { sharingKey: "k", ports: [tcp(80), tcp(8080)] }),
      second: svc("b", { ...want200, sharingKey: "k", ports: [tcp(443), tcp(8080)] }),
      expected: { code: "RequestedIPInUse", fields: { conflict: "port", port: "TCP/8080", by: "default/a" } },
    },
    {
      description: "different backends (ETP=Local with other selectors) conflict",
      first: svc("a", { sharingKey: "k", backendKey: "local:app=web" }),
      second: svc("b", { ...want200, sharingKey: "k", backendKey: "local:app=db", ports: [tcp(443)] }),
      expected: { code: "RequestedIPInUse", fields: { conflict: "backend" } },
    },
    {
      description: "an unshareable address is skipped by automatic allocation",
      first: svc("a", { sharingKey: "k", ports: [tcp(80)] }),
      second: svc("b", { sharingKey: "k", ports: [tcp(80)] }),
      expected: { ips: ["192.0.2.201"], pool: "lan" },
    },
  ];
  for (const c of cases) {
    it(c.description, () => {
      const a = allocatorWith([lan]);
      expect(mustAllocate(a, c.first)).toEqual(["192.0.2.200"]);
      expectResult(a.allocate(c.second), c.expected);
    });
  }

  it("the message names both keys", () => {
    const a = allocatorWith([lan]);
    mustAllocate(a, svc("a", { sharingKey: "k1" }));
    const r = a.allocate(svc("b", { ...want200, sharingKey: "k2", ports: [tcp(443)] }));
    expect(r.ok ? "" : r.reason.message).toMatch(/192\.0\.2\.200.*default\/a.*"k2".*"k1"/);
  });

  it("a sole owner changes its key in place; a third Service then shares under the new key", () => {
    const a = allocatorWith([lan]);
    mustAllocate(a, svc("a", { sharingKey: "old" }));
    const r = a.allocate(svc("a", { sharingKey: "new" }));
    expect(r).toMatchObject({ ok: true, ips: ["192.0.2.200"], changed: false });
    expectResult(a.allocate(svc("b", { ...want200, sharingKey: "new", ports: [tcp(443)] })), {
      ips: ["192.0.2.200"],
      pool: "lan",
    });
    expectResult(a.allocate(svc("c", { ...want200, sharingKey: "old", ports: [tcp(444)] })), {
      code: "RequestedIPInUse",
    });
  });

  it("a sharer cannot change its key while another Service shares the address", () => {
    const a = allocatorWith([lan]);
    mustAllocate(a, svc("a", { ...want200, sharingKey: "k", ports: [tcp(80)] }));
    mustAllocate(a, svc("b", { ...want200, sharingKey: "k", ports: [tcp(443)] }));
    expectResult(a.allocate(svc("b", { ...want200, sharingKey: "other", ports: [tcp(443)] })), {
      code: "RequestedIPInUse",
      fields: { by: "default/a", conflict: "sharing-key" },
    });
    // The failed update released b; a still holds the address alone.
    expect(a.assignmentOf("default/b")).toBeUndefined();
    expect(a.holdersOf("192.0.2.200")).toEqual(["default/a"]);
  });

  it("a sharer whose ports now overlap moves to another address when it asked for none", () => {
    const a = allocatorWith([lan]);
    mustAllocate(a, svc("a", { sharingKey: "k", ports: [tcp(80)] }));
    mustAllocate(a, svc("b", { sharingKey: "k", ports: [tcp(443)] }));
    expect(a.allocate(svc("b", { sharingKey: "k", ports: [tcp(80)] }))).toMatchObject({
      ok: true,
      ips: ["192.0.2.201"],
      changed: true,
    });
  });

  it("the address stays in use until its last sharer leaves", () => {
    const a = allocatorWith([lan]);
    mustAllocate(a, svc("a", { sharingKey: "k", ports: [tcp(80)] }));
    mustAllocate(a, svc("b", { sharingKey: "k", ports: [tcp(443)] }));
    a.release("default/a");
    expect(a.poolStats("lan")?.assignedIPv4).toBe(1n);
    // a's port is free again on the shared address.
    expectResult(a.allocate(svc("c", { sharingKey: "k", ports: [tcp(80)] })), {
      ips: ["192.0.2.200"],
      pool: "lan",
    });
    a.release("default/b");
    a.release("default/c");
    expect(a.poolStats("lan")?.assignedIPv4).toBe(0n);
    expectResult(a.allocate(svc("d")), { ips: ["192.0.2.200"], pool: "lan" });
  });

  it("of several shareable addresses, the lowest is joined", () => {
    const a = allocatorWith([lan]);
    mustAllocate(a, svc("a", { sharingKey: "k", ports: [tcp(80)] })); // .200
    mustAllocate(a, svc("b", { sharingKey: "k", ports: [tcp(80)] })); // .201: port 80 is taken on .200
    mustAllocate(a, svc("x")); // .202, unshareable
    expectResult(a.allocate(svc("c", { sharingKey: "k", ports: [tcp(443)] })), {
      ips: ["192.0.2.200"],
      pool: "lan",
    });
    expectResult(a.allocate(svc("d", { sharingKey: "k", ports: [tcp(80)] })), {
      ips: ["192.0.2.203"],
      pool: "lan",
    });
    a.release("default/a");
    expectResult(a.allocate(svc("e", { sharingKey: "k", ports: [tcp(80)] })), {
      ips: ["192.0.2.200"],
      pool: "lan",
    });
  });

  it("a sharing Service still follows pool order: it shares only inside the pool it would use", () => {
    const a = allocatorWith([pool("a", ["192.0.2.1"]), pool("b", ["192.0.2.9-192.0.2.10"])]);
    mustAllocate(a, svc("x")); // fills pool a
    mustAllocate(a, svc("s1", { sharingKey: "k" })); // 192.0.2.9 in pool b
    a.release("default/x"); // pool a has room again and comes first
    expectResult(a.allocate(svc("s2", { sharingKey: "k", ports: [tcp(443)] })), {
      ips: ["192.0.2.1"],
      pool: "a",
    });
  });

  it("a sharing Service can use a full pool through a shareable address", () => {
    const a = allocatorWith([pool("a", ["192.0.2.1"]), pool("b", ["192.0.2.9"])]);
    mustAllocate(a, svc("s1", { sharingKey: "k" }));
    mustAllocate(a, svc("x"));
    expect(a.poolStats("a")?.availableIPv4).toBe(0n);
    expectResult(a.allocate(svc("s2", { sharingKey: "k", ports: [tcp(443)] })), {
      ips: ["192.0.2.1"],
      pool: "a",
    });
  });
});
