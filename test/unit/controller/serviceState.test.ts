import { describe, expect, test } from "vitest";
import { failure } from "../../../src/ipam/reasons.js";
import {
  CLEARED,
  IP_ALLOCATED_CONDITION,
  desiredForOutcome,
  desiredWhenNotOurs,
  planService,
} from "../../../src/controller/serviceState.js";
import { service } from "./fixtures.js";

const NOW = new Date("2026-03-01T12:00:00Z");
const EARLIER = new Date("2026-02-01T00:00:00Z");
const allocated = (ips: string[], pool: string) => desiredForOutcome({ ok: true, ips, pool });
const exhausted = desiredForOutcome({ ok: false, reason: failure.poolExhausted(["IPv4"], ["lan"], true) });

const trueCondition = (message: string, generation?: number) => ({
  type: IP_ALLOCATED_CONDITION,
  status: "True",
  reason: "Allocated",
  message,
  lastTransitionTime: EARLIER,
  ...(generation !== undefined && { observedGeneration: generation }),
});

describe("desiredForOutcome", () => {
  test("success: ingress in family order, pool, True condition", () => {
    expect(allocated(["192.0.2.1", "2001:db8:1::1"], "lan")).toEqual({
      ingressIPs: ["192.0.2.1", "2001:db8:1::1"],
      pool: "lan",
      condition: { status: "True", reason: "Allocated", message: '192.0.2.1, 2001:db8:1::1 from pool "lan"' },
    });
  });

  test("failure: no ingress, no pool, False condition with the typed reason and message", () => {
    expect(exhausted).toEqual({
      ingressIPs: [],
      pool: undefined,
      condition: {
        status: "False",
        reason: "PoolExhausted",
        message: 'pool "lan" has no free IPv4 address left',
      },
    });
  });
});

describe("planService: writes only what changed", () => {
  const settled = service("a", {
    ingress: ["192.0.2.1"],
    annotations: { "ironlb.io/ip-allocated-from-pool": "lan" },
    conditions: [trueCondition('192.0.2.1 from pool "lan"', 3)],
    generation: 3,
  });

  test("a Service already in the desired state needs nothing", () => {
    expect(planService(settled, allocated(["192.0.2.1"], "lan"), NOW)).toEqual({
      status: undefined,
      annotations: undefined,
      events: [],
    });
  });

  test("a new Service gets status, annotation and an IPAllocated Event", () => {
    const plan = planService(service("a", { generation: 1 }), allocated(["192.0.2.1"], "lan"), NOW);
    expect(plan.status?.loadBalancer?.ingress).toEqual([{ ip: "192.0.2.1", ipMode: "VIP" }]);
    expect(plan.status?.conditions).toEqual([
      {
        type: IP_ALLOCATED_CONDITION,
        status: "True",
        reason: "Allocated",
        message: '192.0.2.1 from pool "lan"',
        lastTransitionTime: NOW,
        observedGeneration: 1,
      },
    ]);
    expect(plan.annotations).toEqual({ "ironlb.io/ip-allocated-from-pool": "lan" });
    expect(plan.events).toEqual([
      {
        type: "Normal",
        reason: "IPAllocated",
        action: "Allocate",
        note: 'Assigned IP 192.0.2.1 from pool "lan"',
      },
    ]);
  });

  test("a missing annotation alone is patched without a status write or Event", () => {
    const svc = service("a", {
      ingress: ["192.0.2.1"],
      conditions: [trueCondition('192.0.2.1 from pool "lan"')],
    });
    const plan = planService(svc, allocated(["192.0.2.1"], "lan"), NOW);
    expect(plan).toEqual({
      status: undefined,
      annotations: { "ironlb.io/ip-allocated-from-pool": "lan" },
      events: [],
    });
  });

  test("a spec change (new generation) refreshes observedGeneration but keeps the transition time", () => {
    const svc = { ...settled, metadata: { ...settled.metadata, generation: 4 } };
    const plan = planService(svc, allocated(["192.0.2.1"], "lan"), NOW);
    expect(plan.status?.conditions?.[0]).toMatchObject({
      observedGeneration: 4,
      lastTransitionTime: EARLIER,
    });
    expect(plan.events).toEqual([]);
  });

  test("failure after success: ingress cleared, condition flips with a new time, one Warning Event", () => {
    const plan = planService(settled, exhausted, NOW);
    expect(plan.status?.loadBalancer?.ingress).toEqual([]);
    expect(plan.status?.conditions?.[0]).toMatchObject({
      status: "False",
      reason: "PoolExhausted",
      lastTransitionTime: NOW,
    });
    expect(plan.annotations).toEqual({ "ironlb.io/ip-allocated-from-pool": null });
    expect(plan.events).toEqual([
      {
        type: "Warning",
        reason: "AllocationFailed",
        action: "Allocate",
        note: 'PoolExhausted: pool "lan" has no free IPv4 address left',
      },
    ]);
  });

  test("the same failure again writes nothing and records no second Event", () => {
    const failed = service("a", {
      conditions: [
        {
          type: IP_ALLOCATED_CONDITION,
          status: "False",
          reason: "PoolExhausted",
          message: 'pool "lan" has no free IPv4 address left',
          lastTransitionTime: EARLIER,
        },
      ],
    });
    expect(planService(failed, exhausted, NOW)).toEqual({
      status: undefined,
      annotations: undefined,
      events: [],
    });
  });

  test("other conditions are kept in place", () => {
    const foreign = {
      type: "example.com/Ready",
      status: "True",
      reason: "Fine",
      message: "",
      lastTransitionTime: EARLIER,
    };
    const svc = service("a", { conditions: [foreign] });
    const plan = planService(svc, allocated(["192.0.2.1"], "lan"), NOW);
    expect(plan.status?.conditions?.map((c) => c.type)).toEqual([
      "example.com/Ready",
      IP_ALLOCATED_CONDITION,
    ]);
    const cleared = planService({ ...svc, status: plan.status }, CLEARED, NOW, {
      code: "NotLoadBalancer",
      type: "NodePort",
    });
    expect(cleared.status?.conditions).toEqual([foreign]);
  });

  test("an ingress entry with a hostname is rewritten to ours", () => {
    const svc = {
      ...settled,
      status: { ...settled.status, loadBalancer: { ingress: [{ ip: "192.0.2.1", hostname: "lb.example" }] } },
    };
    expect(planService(svc, allocated(["192.0.2.1"], "lan"), NOW).status?.loadBalancer?.ingress).toEqual([
      { ip: "192.0.2.1", ipMode: "VIP" },
    ]);
  });

  test("a changed address is a new IPAllocated Event", () => {
    const plan = planService(settled, allocated(["192.0.2.7"], "lan"), NOW);
    expect(plan.events.map((e) => e.note)).toEqual(['Assigned IP 192.0.2.7 from pool "lan"']);
  });
});

describe("clearing a Service that is no longer ours", () => {
  const ours = service("a", {
    type: "NodePort",
    ingress: ["192.0.2.1"],
    annotations: { "ironlb.io/ip-allocated-from-pool": "lan" },
    conditions: [trueCondition('192.0.2.1 from pool "lan"')],
  });

  test.each([
    {
      description: "type changed to NodePort",
      why: { code: "NotLoadBalancer", type: "NodePort" } as const,
      note: "released 192.0.2.1: the Service is of type NodePort, no longer LoadBalancer",
    },
    {
      description: "class changed",
      why: { code: "OtherClass", loadBalancerClass: "other.io/lb" } as const,
      note: 'released 192.0.2.1: the Service has loadBalancerClass "other.io/lb", which this IronLB does not serve',
    },
  ])("$description: ingress, condition and annotation removed, ClearAssignment Event", ({ why, note }) => {
    const plan = planService(ours, desiredWhenNotOurs(ours, false), NOW, why);
    expect(plan.status?.loadBalancer?.ingress).toEqual([]);
    expect(plan.status?.conditions).toEqual([]);
    expect(plan.annotations).toEqual({ "ironlb.io/ip-allocated-from-pool": null });
    expect(plan.events).toEqual([{ type: "Normal", reason: "ClearAssignment", action: "Release", note }]);
  });

  test("someone else's Service (no marks of ours, nothing held) is left alone", () => {
    const theirs = service("b", { loadBalancerClass: "other.io/lb", ingress: ["203.0.113.5"] });
    const plan = planService(theirs, desiredWhenNotOurs(theirs, false), NOW, {
      code: "OtherClass",
      loadBalancerClass: "other.io/lb",
    });
    expect(plan).toEqual({ status: undefined, annotations: undefined, events: [] });
  });

  test("an ingress without marks is cleared when the allocator held the addresses", () => {
    const svc = service("c", { type: "ClusterIP", ingress: ["192.0.2.3"] });
    const plan = planService(svc, desiredWhenNotOurs(svc, true), NOW, {
      code: "NotLoadBalancer",
      type: "ClusterIP",
    });
    expect(plan.status?.loadBalancer?.ingress).toEqual([]);
    expect(plan.events.map((e) => e.reason)).toEqual(["ClearAssignment"]);
  });

  test("the released addresses are named even when the API server emptied the ingress already", () => {
    const emptied = service("e", {
      type: "NodePort",
      annotations: { "ironlb.io/ip-allocated-from-pool": "lan" },
      conditions: [trueCondition('192.0.2.5 from pool "lan"')],
    });
    const plan = planService(
      emptied,
      desiredWhenNotOurs(emptied, true),
      NOW,
      { code: "NotLoadBalancer", type: "NodePort" },
      ["192.0.2.5"],
    );
    expect(plan.events.map((e) => e.note)).toEqual([
      "released 192.0.2.5: the Service is of type NodePort, no longer LoadBalancer",
    ]);
  });

  test("a cleared Service needs nothing more", () => {
    const clean = service("d", { type: "NodePort" });
    expect(planService(clean, CLEARED, NOW, { code: "NotLoadBalancer", type: "NodePort" })).toEqual({
      status: undefined,
      annotations: undefined,
      events: [],
    });
  });
});
