import { describe, expect, it } from "vitest";
import {
  BGP_DEMO_VIPS,
  bgpDemoService,
  bgpLabLayout,
  bgpLabObjects,
  bgpRouterSettings,
  renderRouterView,
  routesFromPaths,
  type RouterView,
} from "../../../src/lab/bgpLab.js";
import type { RouterPath } from "../../../src/lab/routerDaemon.js";
import { renderStatus, type LabStatus } from "../../../src/lab/status.js";
import { teardownOrder } from "../../../src/lab/topology.js";
import { labState } from "./fixtures.js";
import { validateConfig } from "../../../src/api/config.js";

describe("BGP lab layout", () => {
  const layout = bgpLabLayout({ nodes: 3 });

  it("has a switch, a router, a client behind it, the control plane and the nodes, all ilb-", () => {
    expect(layout.topology.namespaces.map((ns) => [ns.name, ns.role]).sort()).toEqual(
      [
        ["ilb-sw", "switch"],
        ["ilb-router", "router"],
        ["ilb-client", "client"],
        ["ilb-cp", "control-plane"],
        ["ilb-node1", "node"],
        ["ilb-node2", "node"],
        ["ilb-node3", "node"],
      ].sort(),
    );
    expect(teardownOrder(layout.topology).at(-1)).toBe("ilb-sw");
    expect(layout.routerNetns).toBe("ilb-router");
    expect(layout.clientAddresses).toEqual({ ipv4: "203.0.113.10", ipv6: "2001:db8:2::10" });
  });

  it("puts the control plane on the nodes' LAN and the client on the router's other side", () => {
    const link = (netns: string) => layout.topology.links.find((l) => l.netns === netns);
    expect(link("ilb-cp")?.addresses).toEqual(["192.0.2.10/24", "2001:db8:1::10/64"]);
    expect(link("ilb-cp")?.bridge).toEqual(link("ilb-node1")?.bridge);
    expect(link("ilb-client")?.addresses).toEqual(["203.0.113.10/24", "2001:db8:2::10/64"]);
    expect(link("ilb-client")?.bridge).not.toEqual(link("ilb-node1")?.bridge);
  });

  it("routes the nodes' replies through the router, which forwards and hashes flows by ports", () => {
    expect(layout.topology.routes.filter((r) => r.netns === "ilb-node2")).toEqual([
      { netns: "ilb-node2", destination: "default", via: "192.0.2.1" },
      { netns: "ilb-node2", destination: "::/0", via: "2001:db8:1::1" },
    ]);
    const sysctls = (name: string) => layout.topology.namespaces.find((ns) => ns.name === name)?.sysctls;
    expect(sysctls("ilb-router")).toMatchObject({
      "net.ipv4.ip_forward": "1",
      "net.ipv6.conf.all.forwarding": "1",
      "net.ipv4.fib_multipath_hash_policy": "1",
      "net.ipv6.fib_multipath_hash_policy": "1",
    });
    expect(sysctls("ilb-node1")).toMatchObject({ "net.ipv4.conf.all.arp_ignore": "1" });
  });

  it("a test prefix renames the namespaces only", () => {
    const tagged = bgpLabLayout({ prefix: "ilb-t1-", nodes: 1 });
    expect(tagged.routerNetns).toBe("ilb-t1-router");
    expect(tagged.controlPlaneNetns).toBe("ilb-t1-cp");
    expect(tagged.nodes.map((n) => [n.netns, n.nodeName])).toEqual([["ilb-t1-node1", "ilb-node1"]]);
  });
});

describe("BGP lab configuration", () => {
  it("is a valid IronLB configuration: the BGP pools, a peer per family, one advertisement", () => {
    const objects = bgpLabObjects();
    const of = (kind: string) => objects.filter((o) => o.kind === kind);
    const result = validateConfig({
      ipAddressPools: of("IPAddressPool"),
      bgpPeers: of("BGPPeer"),
      bgpAdvertisements: of("BGPAdvertisement"),
    });
    expect(result.ok ? [] : result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(objects.map((o) => `${o.kind}/${o.metadata?.name ?? ""}`)).toEqual([
      "IPAddressPool/lab-bgp",
      "BGPPeer/router-v4",
      "BGPPeer/router-v6",
      "BGPAdvertisement/lab-bgp",
    ]);
    expect(objects[0]?.spec["addresses"]).toEqual(["198.51.100.0/24", "2001:db8:100::/120"]);
    expect(
      objects.slice(1, 3).map((o) => [o.spec["peerAddress"], o.spec["myASN"], o.spec["peerASN"]]),
    ).toEqual([
      ["192.0.2.1", 64512, 64500],
      ["2001:db8:1::1", 64512, 64500],
    ]);
  });

  it("the demo Service asks the BGP pool for the lab's VIPs", () => {
    expect(bgpDemoService("demo", "default").annotations).toEqual({
      "ironlb.io/address-pool": "lab-bgp",
      "ironlb.io/loadBalancerIPs": BGP_DEMO_VIPS.join(","),
    });
  });

  it("the router has an eBGP session per node and family", () => {
    const settings = bgpRouterSettings(bgpLabLayout({ nodes: 2 }), "/tmp/r");
    expect(settings.netns).toBe("ilb-router");
    expect(settings.neighbors).toEqual([
      { address: "192.0.2.11", asn: 64512 },
      { address: "2001:db8:1::11", asn: 64512 },
      { address: "192.0.2.12", asn: 64512 },
      { address: "2001:db8:1::12", asn: 64512 },
    ]);
  });
});

const path = (prefix: string, from: string, nextHop = from): RouterPath => ({
  prefix,
  from,
  nextHop,
  asPath: [64512],
  communities: [],
  largeCommunities: [],
});

describe("the router's view", () => {
  it("groups paths by prefix, IPv4 first, with sorted next hops and the kernel's", () => {
    const routes = routesFromPaths(
      [
        path("2001:db8:100::10/128", "2001:db8:1::12"),
        path("198.51.100.10/32", "192.0.2.13"),
        path("198.51.100.10/32", "192.0.2.11"),
        path("198.51.100.9/32", "192.0.2.12"),
      ],
      new Map([["198.51.100.10/32", ["192.0.2.13", "192.0.2.11"]]]),
    );
    expect(routes).toEqual([
      { prefix: "198.51.100.9/32", nextHops: ["192.0.2.12"] },
      {
        prefix: "198.51.100.10/32",
        nextHops: ["192.0.2.11", "192.0.2.13"],
        fibNextHops: ["192.0.2.11", "192.0.2.13"],
      },
      { prefix: "2001:db8:100::10/128", nextHops: ["2001:db8:1::12"] },
    ]);
  });

  it.each<{ description: string; view: RouterView; want: string[] }>([
    {
      description: "sessions and ECMP routes",
      view: {
        netns: "ilb-router",
        daemon: "BIRD",
        sessions: 6,
        established: 6,
        routes: [
          {
            prefix: "198.51.100.10/32",
            nextHops: ["192.0.2.11", "192.0.2.12"],
            fibNextHops: ["192.0.2.11", "192.0.2.12"],
          },
          { prefix: "2001:db8:100::10/128", nextHops: ["2001:db8:1::11"], fibNextHops: [] },
        ],
      },
      want: [
        "router ilb-router (BIRD, AS 64500): 6 of 6 BGP sessions Established",
        "  198.51.100.10/32      via 192.0.2.11, 192.0.2.12; kernel: ECMP over 2",
        "  2001:db8:100::10/128  via 2001:db8:1::11; kernel: none",
      ],
    },
    {
      description: "no routes yet",
      view: { netns: "ilb-router", daemon: "BIRD", sessions: 2, established: 1, routes: [] },
      want: [
        "router ilb-router (BIRD, AS 64500): 1 of 2 BGP sessions Established",
        "  no routes from the nodes",
      ],
    },
    {
      description: "a router that does not answer",
      view: {
        netns: "ilb-router",
        daemon: "BIRD",
        sessions: 2,
        established: 0,
        routes: [],
        error: "connect ENOENT",
      },
      want: ["router ilb-router (BIRD, AS 64500): not reachable (connect ENOENT)"],
    },
  ])("renders $description", ({ view, want }) => {
    expect(renderRouterView(view)).toEqual(want);
  });

  it("lab status of a BGP lab names the peers each node advertises a Service to", () => {
    const status: LabStatus = {
      state: labState({ mode: "bgp", nodes: 1 }),
      processes: [],
      speakerLeaseAges: {},
      services: [
        {
          namespace: "default",
          name: "demo",
          ips: ["198.51.100.10"],
          externalTrafficPolicy: "Cluster",
          announcedBy: [{ node: "ilb-node1", interfaces: ["router-v4", "router-v6"] }],
        },
      ],
    };
    const text = renderStatus(status, "ilb-client");
    expect(text).toContain("mode bgp");
    expect(text).toContain("announced by ilb-node1 (to router-v4, router-v6)");
  });
});
