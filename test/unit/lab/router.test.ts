import { describe, expect, it } from "vitest";
import { birdConfig, parseBirdEstablished, parseBirdRoutes } from "../../../src/lab/routerBird.js";
import type { RouterSettings } from "../../../src/lab/routerDaemon.js";
import { exabgpConfig, exabgpViewFrom } from "../../../src/lab/routerExabgp.js";
import { frrBgpdConfig, parseFrrEstablished, parseFrrRoutes } from "../../../src/lab/routerFrr.js";
import { routerLayout } from "../../../src/lab/routerTopology.js";
import { setupSteps } from "../../../src/lab/topology.js";

const SETTINGS: RouterSettings = {
  netns: "ilb-t-router",
  dir: "/tmp/x",
  asn: 64500,
  routerId: "192.0.2.1",
  localIPv4: "192.0.2.1",
  localIPv6: "2001:db8:1::1",
  neighbors: [
    { address: "192.0.2.11", asn: 64512, password: 'pa"ss' },
    { address: "2001:db8:1::11", asn: 64500 },
  ],
  holdTimeSeconds: 6,
};

// birdc output as BIRD 2.0.12 prints it (captured in the lab, trimmed).
const BIRD_ROUTES = `BIRD 2.0.12 ready.
Table master4:
192.0.2.0/24         unicast [direct1 21:09:46.743] * (240)
	dev br0
	Type: device univ
198.51.100.7/32      unicast [node_1 21:15:33.942] * (100) [AS64512i]
	via 192.0.2.11 on br0
	Type: BGP univ
	BGP.origin: IGP
	BGP.as_path: 64512
	BGP.next_hop: 192.0.2.11
	BGP.local_pref: 100
	BGP.community: (64512,100) (64512,200)
	BGP.large_community: (64512, 1, 2)
                     unicast [node_3 21:15:34.040] (100) [AS64512i]
	via 192.0.2.13 on br0
	Type: BGP univ
	BGP.origin: IGP
	BGP.as_path: 64512
	BGP.next_hop: 192.0.2.13
	BGP.local_pref: 100

Table master6:
2001:db8:100::7/128  unicast [node_2 21:15:33.932] * (100) [i]
	via 2001:db8:1::11 on br0
	Type: BGP univ
	BGP.origin: IGP
	BGP.as_path: 
	BGP.next_hop: 2001:db8:1::11 fe80::1
	BGP.local_pref: 150
`;

describe("BIRD", () => {
  it("parses show route all into paths of our protocols only", () => {
    const protocols = new Map([
      ["node_1", "192.0.2.11"],
      ["node_2", "2001:db8:1::11"],
      ["node_3", "192.0.2.13"],
    ]);
    expect(parseBirdRoutes(BIRD_ROUTES, protocols)).toEqual([
      {
        prefix: "198.51.100.7/32",
        from: "192.0.2.11",
        nextHop: "192.0.2.11",
        asPath: [64512],
        localPref: 100,
        communities: ["64512:100", "64512:200"],
        largeCommunities: ["64512:1:2"],
      },
      {
        prefix: "198.51.100.7/32",
        from: "192.0.2.13",
        nextHop: "192.0.2.13",
        asPath: [64512],
        localPref: 100,
        communities: [],
        largeCommunities: [],
      },
      {
        prefix: "2001:db8:100::7/128",
        from: "2001:db8:1::11",
        nextHop: "2001:db8:1::11",
        asPath: [],
        localPref: 150,
        communities: [],
        largeCommunities: [],
      },
    ]);
  });

  it("finds Established protocols in show protocols", () => {
    const text = `BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     21:09:46.742
node_1     BGP        ---        up     21:15:33.942  Established
node_2     BGP        ---        start  21:09:46.742  Active        Socket: Connection refused
node_3     BGP        ---        up     21:15:34.039  Established   `;
    expect(parseBirdEstablished(text)).toEqual(["node_1", "node_3"]);
  });

  it("writes one protocol per neighbor with family, password (quoted) and short error wait", () => {
    const conf = birdConfig(SETTINGS);
    expect(conf).toContain(
      "protocol bgp node_1 {\n  local 192.0.2.1 as 64500;\n  neighbor 192.0.2.11 as 64512;",
    );
    expect(conf).toContain('password "pa\\"ss";');
    expect(conf).toContain("protocol bgp node_2 {\n  local 2001:db8:1::1 as 64500;");
    expect(conf).toContain("ipv6 { import all; export none; gateway direct; };");
    expect(conf).toContain("error wait time 1, 5;");
    expect(conf).toContain("merge paths yes");
  });
});

const FRR_V4 = JSON.stringify({
  routes: {
    "198.51.100.7/32": [
      { prefix: "198.51.100.7/32", version: 2 },
      {
        aspath: { segments: [{ type: "as-sequence", list: [64512] }] },
        community: { list: ["64512:200", "64512:100"] },
        largeCommunity: { list: ["64512:1:2"] },
        nexthops: [{ ip: "192.0.2.11", afi: "ipv4" }],
        peer: { peerId: "192.0.2.11" },
      },
      {
        aspath: { segments: [] },
        locPrf: 150,
        stale: true,
        nexthops: [
          { ip: "fe80::1", scope: "link-local" },
          { ip: "2001:db8:1::12", scope: "global" },
        ],
        peer: { peerId: "2001:db8:1::12" },
      },
    ],
  },
});

describe("FRR", () => {
  it("parses show bgp … json detail, skipping header entries and link-local next hops", () => {
    expect(parseFrrRoutes(FRR_V4)).toEqual([
      {
        prefix: "198.51.100.7/32",
        from: "192.0.2.11",
        nextHop: "192.0.2.11",
        asPath: [64512],
        communities: ["64512:100", "64512:200"],
        largeCommunities: ["64512:1:2"],
      },
      {
        prefix: "198.51.100.7/32",
        from: "2001:db8:1::12",
        nextHop: "2001:db8:1::12",
        asPath: [],
        localPref: 150,
        communities: [],
        largeCommunities: [],
        stale: true,
      },
    ]);
  });

  it("finds Established neighbors in every family of show bgp summary json", () => {
    const json = JSON.stringify({
      ipv4Unicast: { peers: { "192.0.2.11": { state: "Established" }, "192.0.2.12": { state: "Active" } } },
      ipv6Unicast: { peers: { "2001:DB8:1::11": { state: "Established" } } },
    });
    expect(parseFrrEstablished(json)).toEqual(["192.0.2.11", "2001:db8:1::11"]);
  });

  it("activates each neighbor in its own family, with ECMP for eBGP and iBGP", () => {
    const conf = frrBgpdConfig(SETTINGS);
    expect(conf).toContain(' neighbor 192.0.2.11 password pa"ss');
    expect(conf).toMatch(
      /address-family ipv4 unicast\n {2}neighbor 192\.0\.2\.11 activate\n {2}maximum-paths 16\n {2}maximum-paths ibgp 16/,
    );
    expect(conf).toMatch(/address-family ipv6 unicast\n {2}neighbor 2001:db8:1::11 activate/);
    expect(conf).toContain(" timers bgp 2 6");
  });
});

describe("ExaBGP", () => {
  const line = (o: unknown): string => JSON.stringify(o);
  const peer = (address: string) => ({ address: { local: "192.0.2.1", peer: address } });

  it("rebuilds routes, sessions and notifications from the JSON lines; a session going down drops its routes", () => {
    const lines = [
      line({ type: "state", neighbor: { ...peer("192.0.2.11"), state: "up" } }),
      line({ type: "state", neighbor: { ...peer("192.0.2.12"), state: "up" } }),
      line({
        type: "update",
        neighbor: {
          ...peer("192.0.2.11"),
          direction: "receive",
          message: {
            update: {
              attribute: {
                "as-path": [64512],
                community: [[64512, 100]],
                "large-community": [[64512, 1, 2]],
              },
              announce: {
                "ipv4 unicast": { "192.0.2.11": [{ nlri: "198.51.100.7/32" }, { nlri: "198.51.100.8/32" }] },
              },
            },
          },
        },
      }),
      line({
        type: "update",
        neighbor: {
          ...peer("192.0.2.11"),
          direction: "receive",
          message: { update: { withdraw: { "ipv4 unicast": [{ nlri: "198.51.100.8/32" }] } } },
        },
      }),
      line({
        type: "update",
        neighbor: {
          ...peer("192.0.2.12"),
          direction: "receive",
          message: {
            update: { announce: { "ipv4 unicast": { "192.0.2.12": [{ nlri: "198.51.100.7/32" }] } } },
          },
        },
      }),
      line({
        type: "notification",
        neighbor: { ...peer("192.0.2.12"), direction: "receive", notification: { code: 3, subcode: 9 } },
      }),
      line({ type: "state", neighbor: { ...peer("192.0.2.12"), state: "down", reason: "x" } }),
      "not json",
    ];
    const view = exabgpViewFrom(lines);
    expect([...view.established]).toEqual(["192.0.2.11"]);
    expect(view.paths).toEqual([
      {
        prefix: "198.51.100.7/32",
        from: "192.0.2.11",
        nextHop: "192.0.2.11",
        asPath: [64512],
        communities: ["64512:100"],
        largeCommunities: ["64512:1:2"],
      },
    ]);
    expect(view.notifications).toEqual([{ neighbor: "192.0.2.12", code: 3, subcode: 9 }]);
  });

  it("gives every neighbor its family, password and both API processes", () => {
    const conf = exabgpConfig(SETTINGS, { receiver: "/tmp/x/r.sh", commands: "/tmp/x/c" });
    expect(conf).toContain("neighbor 192.0.2.11 {\n  router-id 192.0.2.1;\n  local-address 192.0.2.1;");
    expect(conf).toContain('md5-password pa"ss;');
    expect(conf).toContain("local-address 2001:db8:1::1;");
    expect(conf).toContain("family { ipv6 unicast; }");
    expect(conf).toContain("run /usr/bin/tail -n +1 -F /tmp/x/c;");
  });
});

describe("routerLayout", () => {
  it("puts the router between the node LAN and the client network, with default routes through it", () => {
    const layout = routerLayout({ prefix: "ilb-t-", nodes: 2 });
    const steps = setupSteps(layout.topology).map((s) => s.argv.join(" "));
    expect(layout.nodes.map((n) => [n.netns, n.ipv4, n.ipv6])).toEqual([
      ["ilb-t-node1", "192.0.2.11", "2001:db8:1::11"],
      ["ilb-t-node2", "192.0.2.12", "2001:db8:1::12"],
    ]);
    expect(steps).toContain("ip -n ilb-t-router addr add 192.0.2.1/24 dev ilb-eth0");
    expect(steps).toContain("ip -n ilb-t-router addr add 203.0.113.1/24 dev ilb-eth1");
    expect(steps).toContain("ip -n ilb-t-client route add ::/0 via 2001:db8:2::1");
    expect(steps).toContain("ip -n ilb-t-node2 route add default via 192.0.2.1");
    expect(
      steps.some((s) => s.includes("ilb-t-router sysctl -q -w") && s.includes("net.ipv4.ip_forward=1")),
    ).toBe(true);
    // Only lab names and documentation prefixes.
    for (const ns of layout.topology.namespaces) expect(ns.name.startsWith("ilb-")).toBe(true);
    expect(() => routerLayout({ prefix: "lab-", nodes: 1 })).toThrow(RangeError);
  });
});
