import { describe, expect, test } from "vitest";
import { backendKey, interpretService, servesClass } from "../../../src/controller/serviceRequest.js";
import { service } from "./fixtures.js";

describe("servesClass", () => {
  test.each([
    { description: "no class, default controller", cls: undefined, lbClass: undefined, want: true },
    { description: "empty class counts as none", cls: "", lbClass: undefined, want: true },
    { description: "a class, default controller", cls: "other.io/lb", lbClass: undefined, want: false },
    { description: "our class with --lb-class", cls: "ironlb.io/lb", lbClass: "ironlb.io/lb", want: true },
    {
      description: "another class with --lb-class",
      cls: "other.io/lb",
      lbClass: "ironlb.io/lb",
      want: false,
    },
    { description: "no class with --lb-class", cls: undefined, lbClass: "ironlb.io/lb", want: false },
  ])("$description", ({ cls, lbClass, want }) => {
    expect(servesClass(cls, { lbClass })).toBe(want);
  });
});

describe("interpretService: whose Service it is", () => {
  test.each([
    { description: "a missing Service is deleted", svc: undefined, code: "Deleted" },
    { description: "a Service being deleted", svc: service("a", { deleting: true }), code: "Deleted" },
    { description: "a ClusterIP Service", svc: service("a", { type: "ClusterIP" }), code: "NotLoadBalancer" },
    { description: "a NodePort Service", svc: service("a", { type: "NodePort" }), code: "NotLoadBalancer" },
    {
      description: "a LoadBalancer of another class",
      svc: service("a", { loadBalancerClass: "other.io/lb" }),
      code: "OtherClass",
    },
  ])("$description is not ours ($code)", ({ svc, code }) => {
    const intent = interpretService(svc, {}, {});
    expect(intent.ours).toBe(false);
    if (!intent.ours) expect(intent.why.code).toBe(code);
  });

  test("a LoadBalancer without a class is ours by default", () => {
    expect(interpretService(service("a"), {}, {}).ours).toBe(true);
  });

  test("with --lb-class only that class is ours", () => {
    expect(interpretService(service("a"), {}, { lbClass: "x.io/lb" }).ours).toBe(false);
    expect(
      interpretService(service("a", { loadBalancerClass: "x.io/lb" }), {}, { lbClass: "x.io/lb" }).ours,
    ).toBe(true);
  });
});

describe("interpretService: the request", () => {
  const requestOf = (svc: ReturnType<typeof service>, nsLabels: Record<string, string> = {}) => {
    const intent = interpretService(svc, nsLabels, {});
    if (!intent.ours) throw new Error("expected ours");
    return intent.request;
  };

  test.each([
    { description: "no request", o: {}, want: [] },
    { description: "spec.loadBalancerIP", o: { loadBalancerIP: "192.0.2.10" }, want: ["192.0.2.10"] },
    {
      description: "ironlb.io annotation, list with spaces",
      o: { annotations: { "ironlb.io/loadBalancerIPs": " 192.0.2.10 , 2001:db8:1::10 " } },
      want: ["192.0.2.10", "2001:db8:1::10"],
    },
    {
      description: "metallb.io annotation",
      o: { annotations: { "metallb.io/loadBalancerIPs": "192.0.2.11" } },
      want: ["192.0.2.11"],
    },
    {
      description: "metallb.universe.tf annotation",
      o: { annotations: { "metallb.universe.tf/loadBalancerIPs": "192.0.2.12" } },
      want: ["192.0.2.12"],
    },
    {
      description: "IronLB's annotation wins over MetalLB's",
      o: {
        annotations: {
          "metallb.universe.tf/loadBalancerIPs": "192.0.2.12",
          "metallb.io/loadBalancerIPs": "192.0.2.11",
          "ironlb.io/loadBalancerIPs": "192.0.2.10",
        },
      },
      want: ["192.0.2.10"],
    },
    {
      description: "metallb.io wins over metallb.universe.tf",
      o: {
        annotations: {
          "metallb.universe.tf/loadBalancerIPs": "192.0.2.12",
          "metallb.io/loadBalancerIPs": "192.0.2.11",
        },
      },
      want: ["192.0.2.11"],
    },
    {
      description: "an annotation wins over spec.loadBalancerIP",
      o: { loadBalancerIP: "192.0.2.99", annotations: { "ironlb.io/loadBalancerIPs": "192.0.2.10" } },
      want: ["192.0.2.10"],
    },
    {
      description: "an empty annotation falls through to the next source",
      o: { loadBalancerIP: "192.0.2.99", annotations: { "ironlb.io/loadBalancerIPs": " " } },
      want: ["192.0.2.99"],
    },
  ])("requested IPs: $description", ({ o, want }) => {
    expect(requestOf(service("a", o)).requestedIPs).toEqual(want);
  });

  test.each([
    { description: "none", annotations: {}, pool: undefined, sharing: undefined },
    {
      description: "IronLB's",
      annotations: { "ironlb.io/address-pool": "lan", "ironlb.io/allow-shared-ip": "web" },
      pool: "lan",
      sharing: "web",
    },
    {
      description: "MetalLB's",
      annotations: { "metallb.universe.tf/address-pool": "old", "metallb.io/allow-shared-ip": "k" },
      pool: "old",
      sharing: "k",
    },
    {
      description: "IronLB's over MetalLB's",
      annotations: {
        "metallb.io/address-pool": "old",
        "ironlb.io/address-pool": "new",
        "metallb.universe.tf/allow-shared-ip": "a",
        "ironlb.io/allow-shared-ip": "b",
      },
      pool: "new",
      sharing: "b",
    },
  ])("pool and sharing key: $description", ({ annotations, pool, sharing }) => {
    const r = requestOf(service("a", { annotations }));
    expect(r.requestedPool).toBe(pool);
    expect(r.sharingKey).toBe(sharing);
  });

  test("identity, labels, families, policy and ports are carried over", () => {
    const r = requestOf(
      service("shop/web", {
        labels: { app: "web" },
        ipFamilies: ["IPv6", "IPv4"],
        ipFamilyPolicy: "PreferDualStack",
        ports: [{ port: 443, protocol: "TCP" }, { port: 53, protocol: "UDP" }, { port: 8080 }],
      }),
      { team: "a" },
    );
    expect(r).toMatchObject({
      namespace: "shop",
      name: "web",
      labels: { app: "web" },
      namespaceLabels: { team: "a" },
      ipFamilies: ["IPv6", "IPv4"],
      ipFamilyPolicy: "PreferDualStack",
      ports: [
        { protocol: "TCP", port: 443 },
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 8080 },
      ],
    });
  });
});

describe("backendKey", () => {
  test.each([
    { description: "Cluster policy: any backends", o: { selector: { app: "a" } }, want: "cluster" },
    {
      description: "Local policy: the selector, order-independent",
      o: { externalTrafficPolicy: "Local", selector: { tier: "web", app: "a" } },
      want: "local:app=a,tier=web",
    },
    { description: "Local policy without a selector", o: { externalTrafficPolicy: "Local" }, want: "local:" },
  ])("$description", ({ o, want }) => {
    expect(backendKey(service("a", o))).toBe(want);
  });

  test("two Local Services with the same selector written in another order share a key", () => {
    const a = service("a", { externalTrafficPolicy: "Local", selector: { x: "1", y: "2" } });
    const b = service("b", { externalTrafficPolicy: "Local", selector: { y: "2", x: "1" } });
    const c = service("c", { externalTrafficPolicy: "Local", selector: { x: "1" } });
    expect(backendKey(a)).toBe(backendKey(b));
    expect(backendKey(a)).not.toBe(backendKey(c));
  });
});
