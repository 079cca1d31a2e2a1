import { describe, expect, it } from "vitest";
import {
  endpointSliceObjects,
  l2AdvertisementObject,
  nodeStatus,
  serviceObject,
} from "../../../src/lab/cluster.js";
import { l2Layout } from "../../../src/lab/topology.js";

const nodes = l2Layout({ nodes: 3 }).nodes;

describe("lab Kubernetes objects", () => {
  it("Nodes carry both InternalIPs, as kubelet reports them", () => {
    const [first] = nodes;
    if (first === undefined) throw new Error("no node");
    expect(nodeStatus(first).addresses).toEqual([
      { type: "InternalIP", address: "192.0.2.11" },
      { type: "InternalIP", address: "2001:db8:1::11" },
      { type: "Hostname", address: "ilb-node1" },
    ]);
  });

  it.each([
    {
      what: "dual-stack by default",
      families: undefined,
      policy: "RequireDualStack",
      want: ["IPv4", "IPv6"],
    },
    { what: "IPv6 only", families: ["IPv6" as const], policy: "SingleStack", want: ["IPv6"] },
  ])("Service: $what", ({ families, policy, want }) => {
    const svc = serviceObject({
      name: "web",
      ...(families === undefined ? {} : { families }),
      externalTrafficPolicy: "Local",
    });
    expect(svc.spec).toMatchObject({
      type: "LoadBalancer",
      ipFamilyPolicy: policy,
      ipFamilies: want,
      externalTrafficPolicy: "Local",
    });
    expect(svc.metadata?.namespace).toBe("default");
  });

  it("one EndpointSlice per family with endpoints on exactly the chosen nodes", () => {
    const slices = endpointSliceObjects({ name: "web", endpointNodes: ["ilb-node2"] }, nodes);
    expect(
      slices.map((s) => [s.metadata?.name, s.addressType, s.endpoints.map((e) => [e.addresses, e.nodeName])]),
    ).toEqual([
      ["web-ipv4", "IPv4", [[["192.0.2.12"], "ilb-node2"]]],
      ["web-ipv6", "IPv6", [[["2001:db8:1::12"], "ilb-node2"]]],
    ]);
    expect(slices[0]?.metadata?.labels?.["kubernetes.io/service-name"]).toBe("web");
  });

  it("endpoints on every node unless told otherwise; none when the list is empty", () => {
    expect(endpointSliceObjects({ name: "web" }, nodes)[0]?.endpoints).toHaveLength(3);
    expect(endpointSliceObjects({ name: "web", endpointNodes: [] }, nodes)[0]?.endpoints).toEqual([]);
  });

  it("L2Advertisement names interfaces only when asked", () => {
    expect(l2AdvertisementObject().spec).toEqual({ ipAddressPools: ["lab"] });
    expect(l2AdvertisementObject({ interfaces: ["ilb-eth0"] }).spec).toEqual({
      ipAddressPools: ["lab"],
      interfaces: ["ilb-eth0"],
    });
  });
});
