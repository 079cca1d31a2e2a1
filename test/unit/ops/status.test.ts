import { describe, expect, test } from "vitest";
import { buildClusterModel } from "../../../src/ops/cluster.js";
import { buildStatusReport, renderStatusTable, type ServiceRow } from "../../../src/ops/status.js";
import {
  endpointSlice,
  l2Advertisement,
  l2Status,
  lease,
  node,
  NOW,
  NS,
  objects,
  pool,
  service,
} from "./fixtures.js";

const options = { namespace: NS, now: NOW };

describe("ironlb status report", () => {
  test("pool counts come from IPAddressPool.status when present, else from the loaded assignments", () => {
    const input = objects({
      ironlbConfig: [
        pool("a", ["192.0.2.10-192.0.2.13"]),
        pool(
          "b",
          ["192.0.2.20/31", "2001:db8:1::20/127"],
          {},
          {
            assignedIPv4: 1,
            availableIPv4: 1,
            assignedIPv6: 0,
            availableIPv6: 2,
          },
        ),
      ],
      services: [
        service("web", "one", { ips: ["192.0.2.10"] }),
        service("web", "two", { ips: ["192.0.2.11"] }),
      ],
    });
    const report = buildStatusReport(input, buildClusterModel(input, options));
    expect(report.pools).toEqual([
      {
        name: "a",
        source: "ironlb",
        counts: "computed",
        ipv4: { total: "4", assigned: "2", available: "2" },
        ipv6: undefined,
      },
      {
        name: "b",
        source: "ironlb",
        counts: "status",
        ipv4: { total: "2", assigned: "1", available: "1" },
        ipv6: { total: "2", assigned: "0", available: "2" },
      },
    ]);
  });

  const cases: { description: string; svc: ReturnType<typeof service>; want: Partial<ServiceRow> }[] = [
    {
      description: "pending: the controller's condition is the reason",
      svc: service("web", "p", { condition: { reason: "PoolExhausted", message: "pool lan is full" } }),
      want: { state: "pending", reason: "PoolExhausted: pool lan is full", ips: [] },
    },
    {
      description: "pending without a condition: the controller has not handled it",
      svc: service("web", "q"),
      want: { state: "pending" },
    },
    {
      description: "allocated and announced: the announcing node from ServiceL2Status",
      svc: service("web", "ok", {
        ips: ["192.0.2.10"],
        annotations: { "ironlb.io/allow-shared-ip": "k1", "ironlb.io/ip-allocated-from-pool": "lan" },
      }),
      want: { state: "allocated", pool: "lan", sharingKey: "k1", l2Nodes: ["n1"], ips: ["192.0.2.10"] },
    },
    {
      description: "allocated from a pool no advertisement covers: not announced",
      svc: service("web", "dark", { ips: ["192.0.2.30"] }),
      want: { state: "not-announced", pool: "dark" },
    },
    {
      description: "another loadBalancerClass",
      svc: service("web", "theirs", { loadBalancerClass: "other.io/lb" }),
      want: { state: "other-class", reason: "loadBalancerClass other.io/lb" },
    },
  ];
  test.each(cases)("$description", ({ svc, want }) => {
    const input = objects({
      ironlbConfig: [
        pool("lan", ["192.0.2.10-192.0.2.19"]),
        pool("dark", ["192.0.2.30/32"], { autoAssign: false }),
        l2Advertisement("lan", { ipAddressPools: ["lan"] }),
      ],
      services: [svc],
      nodes: [node("n1")],
      leases: [lease("n1")],
      l2Statuses: [l2Status("web", "ok", "n1")],
      endpointSlices: [endpointSlice("web", svc.metadata?.name ?? "", "n1", true)],
    });
    const report = buildStatusReport(input, buildClusterModel(input, options));
    expect(report.services).toHaveLength(1);
    expect(report.services[0]).toMatchObject(want);
    expect(renderStatusTable(report)).toContain(`web/${svc.metadata?.name ?? ""}`);
  });

  test("not announced names the reason", () => {
    const input = objects({
      ironlbConfig: [pool("dark", ["192.0.2.30/32"])],
      services: [service("web", "dark", { ips: ["192.0.2.30"] })],
    });
    const row = buildStatusReport(input, buildClusterModel(input, options)).services[0];
    expect(row?.reason).toContain('IPAddressPool "dark"');
  });

  test("BGP announcers come from ServiceBGPStatus, one per node with its peers", () => {
    const bgpStatus = (nodeName: string, peers: string[]) => ({
      apiVersion: "ironlb.io/v1beta1",
      kind: "ServiceBGPStatus",
      metadata: { namespace: NS, name: `web.ok.${nodeName}` },
      status: { node: nodeName, serviceName: "ok", serviceNamespace: "web", peers },
    });
    const input = objects({
      ironlbConfig: [pool("lan", ["192.0.2.10/31"])],
      services: [service("web", "ok", { ips: ["192.0.2.10"] })],
      bgpStatuses: [bgpStatus("n2", ["tor-b", "tor-a"]), bgpStatus("n1", ["tor-a"])],
    });
    const report = buildStatusReport(input, buildClusterModel(input, options));
    expect(report.services[0]?.bgp).toEqual([
      { node: "n1", peers: ["tor-a"] },
      { node: "n2", peers: ["tor-a", "tor-b"] },
    ]);
    expect(renderStatusTable(report)).toContain("bgp:n1(tor-a) bgp:n2(tor-a,tor-b)");
  });

  test("an invalid configuration is reported above the tables", () => {
    const input = objects({ ironlbConfig: [pool("a", ["192.0.2.0/28"]), pool("b", ["192.0.2.8/32"])] });
    const report = buildStatusReport(input, buildClusterModel(input, options));
    expect(report.configErrors.length).toBeGreaterThan(0);
    expect(renderStatusTable(report)).toMatch(/^The IronLB configuration is invalid/);
  });

  test("10,000 Services: one report, every Service in it", () => {
    const services = Array.from({ length: 10_000 }, (_, i) =>
      service(`ns${String(i % 50)}`, `svc${String(i)}`, {
        ips: i < 9_000 ? [`2001:db8:100::${i.toString(16)}`] : [],
        families: ["IPv6"],
      }),
    );
    const input = objects({
      ironlbConfig: [pool("big", ["2001:db8:100::/112"]), l2Advertisement("all")],
      endpointSlices: services.map((s, i) =>
        endpointSlice(s.metadata?.namespace ?? "", s.metadata?.name ?? "", `n${String(1 + (i % 3))}`, true),
      ),
      services,
      nodes: [node("n1"), node("n2"), node("n3")],
      leases: [lease("n1"), lease("n2"), lease("n3")],
    });
    const start = performance.now();
    const report = buildStatusReport(input, buildClusterModel(input, options));
    const ms = performance.now() - start;
    // A figure for the record (the bench has the same measurement), not an assertion.
    console.info(`ops status report on 10,000 Services: ${ms.toFixed(0)} ms`);
    expect(report.services).toHaveLength(10_000);
    expect(report.services.filter((s) => s.state === "allocated")).toHaveLength(9_000);
    expect(report.services.filter((s) => s.state === "pending")).toHaveLength(1_000);
    expect(report.pools[0]?.ipv6).toEqual({ total: "65536", assigned: "9000", available: "56536" });
  }, 120_000);
});
