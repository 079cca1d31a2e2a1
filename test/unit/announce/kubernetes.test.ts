import type { V1EndpointSlice, V1Node, V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  endpointsFromSlices,
  nodeSnapshot,
  serviceSnapshot,
  snapshotFromKubernetes,
} from "../../../src/announce/kubernetes.js";
import { decideLayer2 } from "../../../src/announce/layer2.js";
import { config, obj } from "./fixtures.js";

/** Objects as the API server sends them; client-node's model classes are plain data at runtime. */
function svc(
  spec: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  ingress: unknown[] = [{ ip: "192.0.2.201" }],
): V1Service {
  const object: unknown = {
    metadata: { name: "web", namespace: "shop", labels: { app: "web" }, ...extra },
    spec: { type: "LoadBalancer", ...spec },
    status: { loadBalancer: { ingress } },
  };
  return object as V1Service;
}

interface Ep {
  node?: string;
  uid?: string;
  addresses?: string[];
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

function slice(endpoints: Ep[], addressType = "IPv4", service = "web", namespace = "shop"): V1EndpointSlice {
  const object: unknown = {
    addressType,
    metadata: { name: `${service}-x`, namespace, labels: { "kubernetes.io/service-name": service } },
    endpoints: endpoints.map((e, i) => ({
      addresses: e.addresses ?? [`10.0.0.${String(i + 1)}`],
      ...(e.node === undefined ? {} : { nodeName: e.node }),
      ...(e.uid === undefined ? {} : { targetRef: { kind: "Pod", uid: e.uid } }),
      conditions: {
        ...(e.ready === undefined ? {} : { ready: e.ready }),
        ...(e.serving === undefined ? {} : { serving: e.serving }),
        ...(e.terminating === undefined ? {} : { terminating: e.terminating }),
      },
    })),
  };
  return object as V1EndpointSlice;
}

function k8sNode(
  name: string,
  labels: Record<string, string>,
  conditions: { type: string; status: string }[],
): V1Node {
  const object: unknown = { metadata: { name, labels }, status: { conditions } };
  return object as V1Node;
}

describe("serviceSnapshot", () => {
  const cases = [
    {
      description: "a LoadBalancer Service without a class is ours by default",
      service: svc({}),
      lbClass: undefined,
      want: { key: "shop/web", type: "LoadBalancer", ours: true, externalTrafficPolicy: "Cluster" },
    },
    {
      description: "an empty loadBalancerClass counts as none",
      service: svc({ loadBalancerClass: "" }),
      lbClass: undefined,
      want: { ours: true },
    },
    {
      description: "another class is not ours",
      service: svc({ loadBalancerClass: "other.io/lb" }),
      lbClass: undefined,
      want: { ours: false },
    },
    {
      description: "--lb-class serves exactly that class",
      service: svc({ loadBalancerClass: "ironlb.io/lb" }),
      lbClass: "ironlb.io/lb",
      want: { ours: true },
    },
    {
      description: "--lb-class does not serve classless Services",
      service: svc({}),
      lbClass: "ironlb.io/lb",
      want: { ours: false },
    },
    {
      description: "externalTrafficPolicy Local is kept; the type as written",
      service: svc({ externalTrafficPolicy: "Local", type: "NodePort" }),
      lbClass: undefined,
      want: { externalTrafficPolicy: "Local", type: "NodePort" },
    },
    {
      description: "IronLB's pool annotation wins over MetalLB's",
      service: svc(
        {},
        {
          annotations: {
            "metallb.universe.tf/ip-allocated-from-pool": "old",
            "ironlb.io/ip-allocated-from-pool": "lan",
          },
        },
      ),
      lbClass: undefined,
      want: { allocatedFromPool: "lan" },
    },
    {
      description: "MetalLB's pool annotation is honoured alone",
      service: svc({}, { annotations: { "metallb.io/ip-allocated-from-pool": "legacy" } }),
      lbClass: undefined,
      want: { allocatedFromPool: "legacy" },
    },
  ];
  it.each(cases)("$description", ({ service, lbClass, want }) => {
    expect(serviceSnapshot(service, [], { lbClass })).toMatchObject(want);
  });

  it("status IPs are canonicalised, hostname-only entries skipped, unparsable ones kept for the core to report", () => {
    const s = svc({}, {}, [
      { ip: "2001:DB8:1:0::201" },
      { hostname: "lb.example" },
      { ip: " 192.0.2.201 " },
      { ip: "bogus" },
    ]);
    expect(serviceSnapshot(s, [], {}).ips).toEqual(["2001:db8:1::201", "192.0.2.201", "bogus"]);
  });
});

describe("endpointsFromSlices", () => {
  const cases: {
    description: string;
    slices: V1EndpointSlice[];
    byNode: Record<string, [number, number]>;
    without: [number, number];
  }[] = [
    {
      description: "unset conditions mean ready and serving",
      slices: [slice([{ node: "a" }])],
      byNode: { a: [1, 1] },
      without: [0, 0],
    },
    {
      description: "a terminating endpoint that still serves counts as serving only",
      slices: [slice([{ node: "a", ready: false, serving: true, terminating: true }])],
      byNode: { a: [0, 1] },
      without: [0, 0],
    },
    {
      description: "a not-ready endpoint with serving unset defers to ready",
      slices: [slice([{ node: "a", ready: false }])],
      byNode: { a: [0, 0] },
      without: [0, 0],
    },
    {
      description: "ready is never counted for a terminating endpoint",
      slices: [slice([{ node: "a", ready: true, terminating: true }])],
      byNode: { a: [0, 1] },
      without: [0, 0],
    },
    {
      description: "endpoints without a nodeName are counted apart",
      slices: [slice([{}, { node: "b" }])],
      byNode: { b: [1, 1] },
      without: [1, 1],
    },
    {
      description: "one pod in an IPv4 and an IPv6 slice counts once",
      slices: [
        slice([{ node: "a", uid: "pod-1", addresses: ["10.0.0.1"] }]),
        slice([{ node: "a", uid: "pod-1", addresses: ["fd00::1"] }], "IPv6"),
      ],
      byNode: { a: [1, 1] },
      without: [0, 0],
    },
    {
      description: "a slice without endpoints (the API omits the empty list) adds nothing",
      slices: [
        Object.assign(slice([]), { endpoints: null as unknown as V1EndpointSlice["endpoints"] }),
        slice([{ node: "a" }]),
      ],
      byNode: { a: [1, 1] },
      without: [0, 0],
    },
    {
      description: "an endpoint arriving without addresses or targetRef is still counted, not thrown on",
      slices: [
        Object.assign(slice([]), {
          endpoints: [{ nodeName: "b", addresses: null as unknown as string[] }],
        }),
      ],
      byNode: { b: [1, 1] },
      without: [0, 0],
    },
    {
      description: "a duplicate during a slice split is ready if any copy is",
      slices: [slice([{ node: "a", uid: "pod-1", ready: false }]), slice([{ node: "a", uid: "pod-1" }])],
      byNode: { a: [1, 1] },
      without: [0, 0],
    },
  ];
  it.each(cases)("$description", ({ slices, byNode, without }) => {
    const got = endpointsFromSlices(slices);
    expect(Object.fromEntries([...got.byNode].map(([n, c]) => [n, [c.ready, c.serving]]))).toEqual(byNode);
    expect([got.withoutNode.ready, got.withoutNode.serving]).toEqual(without);
  });
});

describe("nodeSnapshot", () => {
  it.each([
    { description: "NetworkUnavailable=True marks the node", status: "True", want: true },
    { description: "NetworkUnavailable=False does not", status: "False", want: false },
  ])("$description", ({ status, want }) => {
    const n = nodeSnapshot(
      k8sNode("a", { zone: "x" }, [
        { type: "NetworkUnavailable", status },
        { type: "Ready", status: "True" },
      ]),
    );
    expect(n).toEqual({ name: "a", labels: { zone: "x" }, networkUnavailable: want });
  });
});

describe("snapshotFromKubernetes", () => {
  it("joins slices to their Service by namespace and service-name label and feeds the core", () => {
    const cfg = config({ l2Advertisements: [obj("lan", { ipAddressPools: ["lan"] })] });
    const otherNamespace = slice([{ node: "b" }], "IPv4", "web", "elsewhere");
    const snap = snapshotFromKubernetes({
      config: cfg,
      services: [svc({ externalTrafficPolicy: "Local" })],
      endpointSlices: [slice([{ node: "a" }]), slice([{ node: "c" }], "IPv4", "api"), otherNamespace],
      nodes: [k8sNode("a", {}, []), k8sNode("b", {}, []), k8sNode("c", {}, [])],
      liveSpeakers: ["a", "b", "c"],
    });
    expect([...(snap.services[0]?.endpoints.byNode.keys() ?? [])]).toEqual(["a"]);
    expect(decideLayer2(snap).announcements.map((a) => [a.ip, a.node])).toEqual([["192.0.2.201", "a"]]);
  });
});
