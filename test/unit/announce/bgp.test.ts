import { describe, expect, it } from "vitest";
import {
  bgpPlanForNode,
  decideBGP,
  sessionsForNode,
  type BGPNodePlan,
  type BGPPrefixAdvertisement,
} from "../../../src/announce/bgp.js";
import { describeIPNotAnnounced } from "../../../src/announce/reasons.js";
import { EXCLUDE_FROM_LB_LABEL, type AnnouncementSnapshot } from "../../../src/announce/snapshot.js";
import type { IronLBConfig } from "../../../src/api/configTypes.js";
import { adjRibOutForPeer, diffAdjRibOut, EMPTY_RIB, prefixKey } from "../../../src/bgp/adjRibOut.js";
import { formatCIDR, parseIP } from "../../../src/net/ip.js";
import { config, node, obj, service, shuffled, snapshot, THREE_NODES } from "./fixtures.js";

const IBGP = obj("ibgp", { myASN: 64500, peerASN: 64500, peerAddress: "203.0.113.1" });
const EBGP = obj("ebgp", { myASN: 64501, peerASN: 64500, peerAddress: "203.0.113.2" });
const R2_ONLY = obj("r2-tor", {
  myASN: 64501,
  peerASN: 64510,
  peerAddress: "203.0.113.3",
  nodeSelectors: [{ matchLabels: { rack: "r2" } }],
});

function bgpConfig(ads: unknown[], peers: unknown[] = [IBGP, EBGP]): IronLBConfig {
  return config({
    bgpAdvertisements: ads,
    bgpPeers: peers,
    communities: [obj("aliases", { communities: [{ name: "no-export", value: "65535:65281" }] })],
  });
}

const plain = bgpConfig([obj("bgp", { ipAddressPools: ["bgp"] })]);

/** One advertisement as text: prefix, then LOCAL_PREF, communities and large communities when set. */
function render(a: BGPPrefixAdvertisement): string {
  const parts = [formatCIDR(a.prefix)];
  if (a.localPref !== undefined) parts.push(`lp=${String(a.localPref)}`);
  if (a.communities.length > 0)
    parts.push(`c=${a.communities.map((c) => `${String(c >>> 16)}:${String(c & 0xffff)}`).join(",")}`);
  if (a.largeCommunities.length > 0)
    parts.push(
      `lc=${a.largeCommunities.map((l) => `${String(l.globalAdmin)}:${String(l.localData1)}:${String(l.localData2)}`).join(",")}`,
    );
  return parts.join(" ");
}

type Table = Record<string, Record<string, string[]>>;

function table(plan: BGPNodePlan): Record<string, string[]> {
  return Object.fromEntries(plan.peers.map((p) => [p.peer, p.advertisements.map(render)]));
}

function tables(snap: AnnouncementSnapshot): Table {
  return Object.fromEntries([...decideBGP(snap).nodes].map(([n, plan]) => [n, table(plan)]));
}

const every = (nodes: string[], perPeer: Record<string, string[]>): Table =>
  Object.fromEntries(nodes.map((n) => [n, perPeer]));

interface Case {
  description: string;
  snap: AnnouncementSnapshot;
  want: Table;
}

const ABC = ["node-a", "node-b", "node-c"];
const web = (o: Partial<Parameters<typeof service>[1]> = {}) =>
  service("web", { ips: ["198.51.100.7"], ...o });

const cases: Case[] = [
  {
    description: "Cluster policy with an endpoint: every node to every peer, /32, LOCAL_PREF only when set",
    snap: snapshot(plain, [web()], THREE_NODES),
    want: every(ABC, { ebgp: ["198.51.100.7/32"], ibgp: ["198.51.100.7/32"] }),
  },
  {
    description: "Cluster policy without endpoints: sessions stay, nothing advertised",
    snap: snapshot(plain, [web({ endpoints: {} })], THREE_NODES),
    want: every(ABC, { ebgp: [], ibgp: [] }),
  },
  {
    description: "Cluster policy: nodes announce even when every endpoint is elsewhere",
    snap: snapshot(plain, [web({ endpoints: { "node-c": [1] } })], THREE_NODES),
    want: every(ABC, { ebgp: ["198.51.100.7/32"], ibgp: ["198.51.100.7/32"] }),
  },
  {
    description: "Local policy: only nodes with a ready endpoint",
    snap: snapshot(plain, [web({ etp: "Local", endpoints: { "node-a": [1], "node-c": [2] } })], THREE_NODES),
    want: {
      "node-a": { ebgp: ["198.51.100.7/32"], ibgp: ["198.51.100.7/32"] },
      "node-b": { ebgp: [], ibgp: [] },
      "node-c": { ebgp: ["198.51.100.7/32"], ibgp: ["198.51.100.7/32"] },
    },
  },
  {
    description: "Local policy: serving-only nodes withdraw while a ready node exists",
    snap: snapshot(
      plain,
      [web({ etp: "Local", endpoints: { "node-a": [0, 1], "node-b": [1] } })],
      THREE_NODES,
    ),
    want: {
      "node-a": { ebgp: [], ibgp: [] },
      "node-b": { ebgp: ["198.51.100.7/32"], ibgp: ["198.51.100.7/32"] },
      "node-c": { ebgp: [], ibgp: [] },
    },
  },
  {
    description: "Local policy: with no ready endpoint, nodes with serving ones announce",
    snap: snapshot(
      plain,
      [web({ etp: "Local", endpoints: { "node-a": [0, 1], "node-b": [0, 0] } })],
      THREE_NODES,
    ),
    want: {
      "node-a": { ebgp: ["198.51.100.7/32"], ibgp: ["198.51.100.7/32"] },
      "node-b": { ebgp: [], ibgp: [] },
      "node-c": { ebgp: [], ibgp: [] },
    },
  },
  {
    description: "BGPPeer nodeSelectors: only rack r2 opens the r2-tor session",
    snap: snapshot(
      bgpConfig([obj("bgp", { ipAddressPools: ["bgp"] })], [IBGP, R2_ONLY]),
      [web()],
      THREE_NODES,
    ),
    want: {
      "node-a": { ibgp: ["198.51.100.7/32"] },
      "node-b": { ibgp: ["198.51.100.7/32"] },
      "node-c": { ibgp: ["198.51.100.7/32"], "r2-tor": ["198.51.100.7/32"] },
    },
  },
  {
    description: "BGPAdvertisement peers: only the listed peers receive the prefix",
    snap: snapshot(
      bgpConfig([obj("bgp", { ipAddressPools: ["bgp"], peers: ["ebgp"] })]),
      [web()],
      THREE_NODES,
    ),
    want: every(ABC, { ebgp: ["198.51.100.7/32"], ibgp: [] }),
  },
  {
    description: "BGPAdvertisement nodeSelectors: only rack r1 announces",
    snap: snapshot(
      bgpConfig([obj("bgp", { ipAddressPools: ["bgp"], nodeSelectors: [{ matchLabels: { rack: "r1" } }] })]),
      [web()],
      THREE_NODES,
    ),
    want: {
      ...every(["node-a", "node-b"], { ebgp: ["198.51.100.7/32"], ibgp: ["198.51.100.7/32"] }),
      "node-c": { ebgp: [], ibgp: [] },
    },
  },
  {
    description: "excluded nodes keep their sessions but advertise nothing",
    snap: snapshot(
      plain,
      [web()],
      [node("node-a", { [EXCLUDE_FROM_LB_LABEL]: "" }), node("node-b", {}, true), node("node-c")],
    ),
    want: {
      "node-a": { ebgp: [], ibgp: [] },
      "node-b": { ebgp: [], ibgp: [] },
      "node-c": { ebgp: ["198.51.100.7/32"], ibgp: ["198.51.100.7/32"] },
    },
  },
  {
    description: "a dead speaker's node is still planned (BGP does not elect; each node speaks for itself)",
    snap: snapshot(plain, [web()], [node("node-a")], []),
    want: { "node-a": { ebgp: ["198.51.100.7/32"], ibgp: ["198.51.100.7/32"] } },
  },
  {
    description: "aggregation: addresses roll up to aggregationLength / aggregationLengthV6, once per prefix",
    snap: snapshot(
      bgpConfig([obj("agg", { ipAddressPools: ["bgp"], aggregationLength: 24, aggregationLengthV6: 120 })]),
      [
        service("a", { ips: ["198.51.100.7", "2001:db8:100::7"] }),
        service("b", { ips: ["198.51.100.99"] }),
        service("c", { ips: ["2001:db8:100::ff"] }),
      ],
      [node("node-a")],
    ),
    want: {
      "node-a": {
        ebgp: ["198.51.100.0/24", "2001:db8:100::/120"],
        ibgp: ["198.51.100.0/24", "2001:db8:100::/120"],
      },
    },
  },
  {
    description: "IPv6 addresses are /128 by default and sort after IPv4",
    snap: snapshot(plain, [service("web", { ips: ["2001:db8:100::7", "198.51.100.7"] })], [node("node-a")]),
    want: {
      "node-a": {
        ebgp: ["198.51.100.7/32", "2001:db8:100::7/128"],
        ibgp: ["198.51.100.7/32", "2001:db8:100::7/128"],
      },
    },
  },
  {
    description: "two advertisements with different aggregation lengths announce both prefixes",
    snap: snapshot(
      bgpConfig([
        obj("host", { ipAddressPools: ["bgp"], peers: ["ibgp"] }),
        obj("agg", { ipAddressPools: ["bgp"], aggregationLength: 24, peers: ["ibgp"] }),
      ]),
      [web()],
      [node("node-a")],
    ),
    want: { "node-a": { ebgp: [], ibgp: ["198.51.100.0/24", "198.51.100.7/32"] } },
  },
  {
    description: "LOCAL_PREF goes to iBGP peers only",
    snap: snapshot(
      bgpConfig([obj("bgp", { ipAddressPools: ["bgp"], localPref: 250 })]),
      [web()],
      [node("node-a")],
    ),
    want: { "node-a": { ebgp: ["198.51.100.7/32"], ibgp: ["198.51.100.7/32 lp=250"] } },
  },
  {
    description: "communities: aliases resolved, standard and large, united across advertisements, sorted",
    snap: snapshot(
      bgpConfig([
        obj("one", { ipAddressPools: ["bgp"], communities: ["65000:200", "no-export", "large:64500:2:1"] }),
        obj("two", {
          ipAddressPoolSelectors: [{ matchLabels: { zone: "wan" } }],
          communities: ["65000:100", "65000:200", "large:64500:1:9"],
        }),
      ]),
      [web()],
      [node("node-a")],
    ),
    want: {
      "node-a": {
        ebgp: ["198.51.100.7/32 c=65000:100,65000:200,65535:65281 lc=64500:1:9,64500:2:1"],
        ibgp: ["198.51.100.7/32 c=65000:100,65000:200,65535:65281 lc=64500:1:9,64500:2:1"],
      },
    },
  },
  {
    description: "communities apply per peer: an advertisement for one peer does not tag the other's route",
    snap: snapshot(
      bgpConfig([
        obj("all", { ipAddressPools: ["bgp"] }),
        obj("tagged", { ipAddressPools: ["bgp"], peers: ["ebgp"], communities: ["65000:1"] }),
      ]),
      [web()],
      [node("node-a")],
    ),
    want: { "node-a": { ebgp: ["198.51.100.7/32 c=65000:1"], ibgp: ["198.51.100.7/32"] } },
  },
  {
    description: "a shared address is one prefix",
    snap: snapshot(
      plain,
      [service("web", { ips: ["198.51.100.7"] }), service("dns", { ips: ["198.51.100.7"] })],
      [node("node-a")],
    ),
    want: { "node-a": { ebgp: ["198.51.100.7/32"], ibgp: ["198.51.100.7/32"] } },
  },
  {
    description: "Layer 2 pools and Services not ours are not advertised",
    snap: snapshot(
      plain,
      [
        service("lan", { ips: ["192.0.2.201"] }),
        service("other", { ips: ["198.51.100.8"], ours: false }),
        service("cip", { ips: ["198.51.100.9"], type: "ClusterIP" }),
      ],
      [node("node-a")],
    ),
    want: { "node-a": { ebgp: [], ibgp: [] } },
  },
  {
    description: "a node no peer selects has no sessions",
    snap: snapshot(
      bgpConfig([obj("bgp", { ipAddressPools: ["bgp"] })], [R2_ONLY]),
      [web()],
      [node("node-a")],
    ),
    want: { "node-a": {} },
  },
];

describe("decideBGP: per node and peer", () => {
  it.each(cases)("$description", ({ snap, want }) => {
    expect(tables(snap)).toEqual(want);
    // A speaker computing only its own node gets the same answer.
    for (const name of Object.keys(want)) expect(table(bgpPlanForNode(snap, name))).toEqual(want[name]);
    expect(decideBGP(shuffled(snap, 11))).toEqual(decideBGP(snap));
  });
});

describe("decideBGP: provenance", () => {
  it("a prefix names the addresses, Services and BGPAdvertisements behind it", () => {
    const snap = snapshot(
      bgpConfig([obj("agg", { ipAddressPools: ["bgp"], aggregationLength: 24 })]),
      [
        service("web", { ips: ["198.51.100.70"] }),
        service("dns", { ips: ["198.51.100.9"] }),
        service("ntp", { ips: ["198.51.100.9"] }),
      ],
      [node("node-a")],
    );
    const [adv] = decideBGP(snap).nodes.get("node-a")?.peers[0]?.advertisements ?? [];
    expect(adv).toMatchObject({
      ips: ["198.51.100.9", "198.51.100.70"],
      services: ["default/dns", "default/ntp", "default/web"],
      bgpAdvertisements: ["agg"],
    });
  });

  it("a Service's outcome lists the nodes and prefixes announcing each address", () => {
    const snap = snapshot(
      plain,
      [web({ etp: "Local", endpoints: { "node-b": [1], "node-c": [1] } })],
      THREE_NODES,
    );
    expect(decideBGP(snap).services.get("default/web")).toEqual({
      key: "default/web",
      considered: true,
      addresses: [
        { kind: "announced", ip: "198.51.100.7", nodes: ["node-b", "node-c"], prefixes: ["198.51.100.7/32"] },
      ],
    });
  });
});

describe("decideBGP: why an address is not advertised", () => {
  const reasons = [
    {
      description: "a pool no BGPAdvertisement covers",
      snap: snapshot(plain, [service("web", { ips: ["192.0.2.201"] })], THREE_NODES),
      code: "noAdvertisement",
      why: undefined,
    },
    {
      description: "advertisement nodeSelectors matching no node",
      snap: snapshot(
        bgpConfig([
          obj("bgp", { ipAddressPools: ["bgp"], nodeSelectors: [{ matchLabels: { rack: "r9" } }] }),
        ]),
        [web()],
        THREE_NODES,
      ),
      code: "noEligibleNode",
      why: "nodeSelectors",
    },
    {
      description: "the listed peer has sessions only on nodes the advertisement does not select",
      snap: snapshot(
        bgpConfig(
          [
            obj("bgp", {
              ipAddressPools: ["bgp"],
              peers: ["r2-tor"],
              nodeSelectors: [{ matchLabels: { rack: "r1" } }],
            }),
          ],
          [IBGP, R2_ONLY],
        ),
        [web()],
        THREE_NODES,
      ),
      code: "noEligibleNode",
      why: "noPeerSession",
    },
    {
      description: "no peers configured at all",
      snap: snapshot(bgpConfig([obj("bgp", { ipAddressPools: ["bgp"] })], []), [web()], THREE_NODES),
      code: "noEligibleNode",
      why: "noPeerSession",
    },
    {
      description: "every node excluded",
      snap: snapshot(plain, [web()], [node("node-a", { [EXCLUDE_FROM_LB_LABEL]: "" })]),
      code: "noEligibleNode",
      why: "allExcluded",
    },
    {
      description: "Local policy with endpoints only on a node that has no session",
      snap: snapshot(
        bgpConfig([obj("bgp", { ipAddressPools: ["bgp"] })], [R2_ONLY]),
        [web({ etp: "Local", endpoints: { "node-a": [1] } })],
        THREE_NODES,
      ),
      code: "noEligibleNode",
      why: "noReadyEndpoint",
    },
  ];
  it.each(reasons)("$description", ({ snap, code, why }) => {
    const r = decideBGP(snap).services.get("default/web");
    const o = r?.considered === true ? r.addresses[0] : undefined;
    expect(o?.kind).toBe("notAnnounced");
    if (o?.kind !== "notAnnounced") return;
    expect(o.reason.code).toBe(code);
    if (o.reason.code === "noEligibleNode") expect(o.reason.why).toBe(why);
    expect(describeIPNotAnnounced(o.ip, o.reason, "bgp")).toContain(o.ip);
  });
});

describe("sessionsForNode", () => {
  const cfg = bgpConfig([], [R2_ONLY, IBGP, EBGP]);
  it.each([
    {
      description: "a node in rack r1 peers with the unrestricted peers",
      labels: { rack: "r1" },
      want: ["ebgp", "ibgp"],
    },
    {
      description: "a node in rack r2 also peers with r2-tor (sorted by name)",
      labels: { rack: "r2" },
      want: ["ebgp", "ibgp", "r2-tor"],
    },
  ])("$description", ({ labels, want }) => {
    expect(sessionsForNode(cfg, { labels }).map((p) => p.name)).toEqual(want);
  });
});

describe("decideBGP into the Adj-RIB-Out: minimal changes", () => {
  const ctx = {
    localAs: 64500,
    peerAs: 64500,
    nextHopIPv4: parseIP("203.0.113.10"),
    nextHopIPv6: parseIP("2001:db8::10"),
  };
  const agg = bgpConfig([obj("agg", { ipAddressPools: ["bgp"], aggregationLength: 24, peers: ["ibgp"] })]);
  const rib = (cfg: IronLBConfig, services: ReturnType<typeof service>[]) => {
    const plan = bgpPlanForNode(snapshot(cfg, services, [node("node-a")]), "node-a");
    const peer = plan.peers.find((p) => p.peer === "ibgp");
    return adjRibOutForPeer(peer?.advertisements ?? [], ctx).rib;
  };
  const diffText = (before: ReturnType<typeof rib>, after: ReturnType<typeof rib>) => {
    const d = diffAdjRibOut(before, after);
    return { announce: d.announce.map((r) => prefixKey(r.prefix)), withdraw: d.withdraw.map(prefixKey) };
  };
  const web = service("web", { ips: ["198.51.100.7"] });
  const dns = service("dns", { ips: ["198.51.100.7"] });
  const ntp = service("ntp", { ips: ["198.51.100.8", "2001:db8:100::8"] });

  it.each([
    {
      description: "the first Service announces its prefix",
      before: [],
      after: [web],
      announce: ["198.51.100.7/32"],
      withdraw: [],
    },
    {
      description: "a second Service on the same address changes nothing",
      before: [web],
      after: [web, dns],
      announce: [],
      withdraw: [],
    },
    {
      description: "removing one of two sharing Services changes nothing",
      before: [web, dns],
      after: [dns],
      announce: [],
      withdraw: [],
    },
    {
      description: "removing the last one withdraws",
      before: [dns],
      after: [],
      announce: [],
      withdraw: ["198.51.100.7/32"],
    },
    {
      description: "adding a dual-stack Service touches only its two prefixes",
      before: [web],
      after: [web, ntp],
      announce: ["198.51.100.8/32", "2001:db8:100::8/128"],
      withdraw: [],
    },
  ])("$description", ({ before, after, announce, withdraw }) => {
    expect(diffText(rib(plain, before), rib(plain, after))).toEqual({ announce, withdraw });
  });

  it("an aggregate stays while any address behind it is announced", () => {
    const both = rib(agg, [web, ntp]);
    expect([...both.keys()]).toEqual(["198.51.100.0/24", "2001:db8:100::8/128"]);
    expect(diffText(both, rib(agg, [ntp]))).toEqual({ announce: [], withdraw: [] });
    expect(diffText(rib(agg, [ntp]), rib(agg, [web]))).toEqual({
      announce: [],
      withdraw: ["2001:db8:100::8/128"],
    });
    expect(diffText(rib(agg, [web]), rib(agg, []))).toEqual({ announce: [], withdraw: ["198.51.100.0/24"] });
  });

  it("a community change re-announces only the prefixes it touches", () => {
    const tagged = bgpConfig([
      obj("bgp", { ipAddressPools: ["bgp"] }),
      obj("tag", { ipAddressPools: ["bgp"], peers: ["ibgp"], communities: ["65000:7"] }),
    ]);
    const d = diffAdjRibOut(rib(plain, [web, ntp]), rib(tagged, [web, ntp]));
    expect(d.withdraw).toEqual([]);
    expect(d.announce.map((r) => [prefixKey(r.prefix), r.attributes.communities])).toEqual([
      ["198.51.100.7/32", [65000 * 65536 + 7]],
      ["198.51.100.8/32", [65000 * 65536 + 7]],
      ["2001:db8:100::8/128", [65000 * 65536 + 7]],
    ]);
    expect(rib(plain, []).size).toBe(EMPTY_RIB.size);
  });
});
