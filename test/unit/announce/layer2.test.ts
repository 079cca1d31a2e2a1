import { describe, expect, it } from "vitest";
import { decideLayer2, layer2ForNode, type L2AddressOutcome } from "../../../src/announce/layer2.js";
import { rendezvousWinner } from "../../../src/announce/hash.js";
import { describeIPNotAnnounced, describeServiceSkip } from "../../../src/announce/reasons.js";
import { EXCLUDE_FROM_LB_LABEL, type AnnouncementSnapshot } from "../../../src/announce/snapshot.js";
import { config, node, obj, service, shuffled, snapshot, THREE_NODES } from "./fixtures.js";

const ALL = ["node-a", "node-b", "node-c"];
const lanOnly = config({ l2Advertisements: [obj("lan", { ipAddressPools: ["lan"] })] });

function outcomes(snap: AnnouncementSnapshot, key = "default/web"): readonly L2AddressOutcome[] {
  const r = decideLayer2(snap).services.get(key);
  if (r === undefined || !r.considered) throw new Error(`service ${key} not considered`);
  return r.addresses;
}

/** The expected result of one address: the node announcing it, or the reason code and why. */
type Expect =
  | { node: string; among?: string[]; interfaces?: string[] }
  | { code: string; why?: string; endpointNodes?: string[] };

interface Case {
  description: string;
  snap: AnnouncementSnapshot;
  expect: Expect;
}

const cases: Case[] = [
  {
    description: "Cluster policy with an endpoint: the hash winner among all live nodes",
    snap: snapshot(lanOnly, [service("web", { ips: ["192.0.2.201"] })], THREE_NODES),
    expect: { node: rendezvousWinner(ALL, "192.0.2.201") ?? "", among: ALL, interfaces: [] },
  },
  {
    description: "the address's pool has no L2Advertisement (only a BGP pool is advertised)",
    snap: snapshot(
      config({ l2Advertisements: [obj("bgp-only", { ipAddressPools: ["bgp"] })] }),
      [service("web", { ips: ["192.0.2.201"] })],
      THREE_NODES,
    ),
    expect: { code: "noAdvertisement" },
  },
  {
    description: "an address outside every pool is not announced",
    snap: snapshot(lanOnly, [service("web", { ips: ["203.0.113.5"], pool: "lan" })], THREE_NODES),
    expect: { code: "ipNotInPool" },
  },
  {
    description: "a stale pool annotation falls back to the pool that holds the address",
    snap: snapshot(lanOnly, [service("web", { ips: ["192.0.2.201"], pool: "bgp" })], THREE_NODES),
    expect: { node: rendezvousWinner(ALL, "192.0.2.201") ?? "" },
  },
  {
    description: "an L2Advertisement selecting pools by label covers the pool",
    snap: snapshot(
      config({
        l2Advertisements: [obj("wan", { ipAddressPoolSelectors: [{ matchLabels: { zone: "wan" } }] })],
      }),
      [service("web", { ips: ["198.51.100.7"] })],
      THREE_NODES,
    ),
    expect: { node: rendezvousWinner(ALL, "198.51.100.7") ?? "", among: ALL },
  },
  {
    description: "nodeSelectors limit the candidates to matching nodes",
    snap: snapshot(
      config({
        l2Advertisements: [
          obj("r1", { ipAddressPools: ["lan"], nodeSelectors: [{ matchLabels: { rack: "r1" } }] }),
        ],
      }),
      [service("web", { ips: ["192.0.2.201"] })],
      THREE_NODES,
    ),
    expect: {
      node: rendezvousWinner(["node-a", "node-b"], "192.0.2.201") ?? "",
      among: ["node-a", "node-b"],
    },
  },
  {
    description: "serviceSelectors: only the advertisement selecting the Service's labels applies",
    snap: snapshot(
      config({
        l2Advertisements: [
          obj("edge", {
            ipAddressPools: ["lan"],
            serviceSelectors: [{ matchLabels: { tier: "edge" } }],
            nodeSelectors: [{ matchLabels: { rack: "r2" } }],
          }),
          obj("web", {
            ipAddressPools: ["lan"],
            serviceSelectors: [{ matchLabels: { tier: "web" } }],
            nodeSelectors: [{ matchLabels: { rack: "r1" } }],
          }),
        ],
      }),
      [service("web", { ips: ["192.0.2.201"], labels: { tier: "edge" } })],
      THREE_NODES,
    ),
    expect: { node: "node-c", among: ["node-c"] },
  },
  {
    description: "serviceSelectors matching the Service nowhere: noAdvertisement",
    snap: snapshot(
      config({
        l2Advertisements: [
          obj("edge", { ipAddressPools: ["lan"], serviceSelectors: [{ matchLabels: { tier: "edge" } }] }),
        ],
      }),
      [service("web", { ips: ["192.0.2.201"], labels: { tier: "web" } })],
      THREE_NODES,
    ),
    expect: { code: "noAdvertisement" },
  },
  {
    description: "nodeSelectors matching no node: noEligibleNode/nodeSelectors",
    snap: snapshot(
      config({
        l2Advertisements: [
          obj("r9", { ipAddressPools: ["lan"], nodeSelectors: [{ matchLabels: { rack: "r9" } }] }),
        ],
      }),
      [service("web", { ips: ["192.0.2.201"] })],
      THREE_NODES,
    ),
    expect: { code: "noEligibleNode", why: "nodeSelectors" },
  },
  {
    description: "nodes labelled exclude-from-external-load-balancers never announce",
    snap: snapshot(
      lanOnly,
      [service("web", { ips: ["192.0.2.201"] })],
      [
        node("node-a", { [EXCLUDE_FROM_LB_LABEL]: "" }),
        node("node-b", { [EXCLUDE_FROM_LB_LABEL]: "true" }),
        node("node-c"),
      ],
    ),
    expect: { node: "node-c", among: ["node-c"] },
  },
  {
    description: "every node excluded (label or NetworkUnavailable): noEligibleNode/allExcluded",
    snap: snapshot(
      lanOnly,
      [service("web", { ips: ["192.0.2.201"] })],
      [node("node-a", { [EXCLUDE_FROM_LB_LABEL]: "" }), node("node-b", {}, true)],
    ),
    expect: { code: "noEligibleNode", why: "allExcluded" },
  },
  {
    description: "a node whose speaker is not live never announces",
    snap: snapshot(lanOnly, [service("web", { ips: ["192.0.2.201"] })], THREE_NODES, ["node-b"]),
    expect: { node: "node-b", among: ["node-b"] },
  },
  {
    description: "no live speaker at all: noEligibleNode/noLiveSpeaker",
    snap: snapshot(lanOnly, [service("web", { ips: ["192.0.2.201"] })], THREE_NODES, []),
    expect: { code: "noEligibleNode", why: "noLiveSpeaker" },
  },
  {
    description: "a live speaker without a Node object is not a candidate",
    snap: snapshot(lanOnly, [service("web", { ips: ["192.0.2.201"] })], [node("node-a")], ["node-z"]),
    expect: { code: "noEligibleNode", why: "noLiveSpeaker" },
  },
  {
    description: "no nodes in the snapshot: noEligibleNode/noNodes",
    snap: snapshot(lanOnly, [service("web", { ips: ["192.0.2.201"] })], []),
    expect: { code: "noEligibleNode", why: "noNodes" },
  },
  {
    description: "Local policy: only the node with a ready endpoint",
    snap: snapshot(
      lanOnly,
      [service("web", { ips: ["192.0.2.201"], etp: "Local", endpoints: { "node-c": [1] } })],
      THREE_NODES,
    ),
    expect: { node: "node-c", among: ["node-c"] },
  },
  {
    description: "Local policy: a ready endpoint beats a terminating-but-serving one",
    snap: snapshot(
      lanOnly,
      [
        service("web", {
          ips: ["192.0.2.201"],
          etp: "Local",
          endpoints: { "node-a": [0, 1], "node-b": [1] },
        }),
      ],
      THREE_NODES,
    ),
    expect: { node: "node-b", among: ["node-b"] },
  },
  {
    description: "Local policy: with no ready endpoint, the nodes with serving (terminating) ones",
    snap: snapshot(
      lanOnly,
      [
        service("web", {
          ips: ["192.0.2.201"],
          etp: "Local",
          endpoints: { "node-a": [0, 2], "node-b": [0, 0] },
        }),
      ],
      THREE_NODES,
    ),
    expect: { node: "node-a", among: ["node-a"] },
  },
  {
    description: "Local policy: the ready endpoint is on a dead node, so the serving one elsewhere is used",
    snap: snapshot(
      lanOnly,
      [
        service("web", {
          ips: ["192.0.2.201"],
          etp: "Local",
          endpoints: { "node-a": [1], "node-c": [0, 1] },
        }),
      ],
      THREE_NODES,
      ["node-b", "node-c"],
    ),
    expect: { node: "node-c", among: ["node-c"] },
  },
  {
    description: "Local policy: no endpoint anywhere: noEligibleNode/noReadyEndpoint",
    snap: snapshot(
      lanOnly,
      [service("web", { ips: ["192.0.2.201"], etp: "Local", endpoints: {} })],
      THREE_NODES,
    ),
    expect: { code: "noEligibleNode", why: "noReadyEndpoint", endpointNodes: [] },
  },
  {
    description: "Local policy: endpoints only on an excluded node are named in the reason",
    snap: snapshot(
      lanOnly,
      [service("web", { ips: ["192.0.2.201"], etp: "Local", endpoints: { "node-c": [1] } })],
      [node("node-a"), node("node-c", { [EXCLUDE_FROM_LB_LABEL]: "" })],
    ),
    expect: { code: "noEligibleNode", why: "noReadyEndpoint", endpointNodes: ["node-c"] },
  },
  {
    description: "Local policy: an endpoint without a node does not make any node eligible",
    snap: snapshot(
      lanOnly,
      [service("web", { ips: ["192.0.2.201"], etp: "Local", endpoints: {}, withoutNode: [3] })],
      THREE_NODES,
    ),
    expect: { code: "noEligibleNode", why: "noReadyEndpoint" },
  },
  {
    description: "Cluster policy with no endpoint anywhere: noEligibleNode/noReadyEndpoint",
    snap: snapshot(
      lanOnly,
      [service("web", { ips: ["192.0.2.201"], endpoints: { "node-a": [0, 0] } })],
      THREE_NODES,
    ),
    expect: { code: "noEligibleNode", why: "noReadyEndpoint" },
  },
  {
    description:
      "Cluster policy: an endpoint on a node that cannot announce still lets every candidate announce",
    snap: snapshot(
      lanOnly,
      [service("web", { ips: ["192.0.2.201"], endpoints: { "node-z": [1] } })],
      THREE_NODES,
    ),
    expect: { node: rendezvousWinner(ALL, "192.0.2.201") ?? "", among: ALL },
  },
  {
    description: "Cluster policy: only terminating-but-serving endpoints still keep the address announced",
    snap: snapshot(
      lanOnly,
      [service("web", { ips: ["192.0.2.201"], endpoints: { "node-a": [0, 1] } })],
      THREE_NODES,
    ),
    expect: { node: rendezvousWinner(ALL, "192.0.2.201") ?? "", among: ALL },
  },
  {
    description: "interfaces: the union over the advertisements selecting the winner, sorted",
    snap: snapshot(
      config({
        l2Advertisements: [
          obj("a", { ipAddressPools: ["lan"], interfaces: ["eth1", "bond0"] }),
          obj("b", { ipAddressPools: ["lan"], interfaces: ["eth1", "eth0"] }),
          obj("c", {
            ipAddressPools: ["lan"],
            interfaces: ["eth9"],
            nodeSelectors: [{ matchLabels: { rack: "r9" } }],
          }),
        ],
      }),
      [service("web", { ips: ["192.0.2.201"] })],
      THREE_NODES,
    ),
    expect: { node: rendezvousWinner(ALL, "192.0.2.201") ?? "", interfaces: ["bond0", "eth0", "eth1"] },
  },
  {
    description: "interfaces: one advertisement without a list means every interface (empty list)",
    snap: snapshot(
      config({
        l2Advertisements: [
          obj("a", { ipAddressPools: ["lan"], interfaces: ["eth1"] }),
          obj("b", { ipAddressPools: ["lan"] }),
        ],
      }),
      [service("web", { ips: ["192.0.2.201"] })],
      THREE_NODES,
    ),
    expect: { node: rendezvousWinner(ALL, "192.0.2.201") ?? "", interfaces: [] },
  },
  {
    description: "interfaces: only advertisements whose nodeSelectors match the winner count",
    snap: snapshot(
      config({
        l2Advertisements: [
          obj("r1", {
            ipAddressPools: ["lan"],
            interfaces: ["eth1"],
            nodeSelectors: [{ matchLabels: { rack: "r1" } }],
          }),
          obj("r2", {
            ipAddressPools: ["lan"],
            interfaces: ["eth2"],
            nodeSelectors: [{ matchLabels: { rack: "r2" } }],
          }),
        ],
      }),
      [service("web", { ips: ["192.0.2.201"], etp: "Local", endpoints: { "node-c": [1] } })],
      THREE_NODES,
    ),
    expect: { node: "node-c", interfaces: ["eth2"] },
  },
];

describe("decideLayer2: one address", () => {
  it.each(cases)("$description", ({ snap, expect: want }) => {
    const [got, ...rest] = outcomes(snap);
    expect(rest).toEqual([]);
    if ("node" in want) {
      expect(got).toMatchObject({ kind: "announced", node: want.node, nodeEligibleForService: true });
      const decision = decideLayer2(snap);
      const ann = decision.announcements[0];
      expect(decision.announcements).toHaveLength(1);
      if (want.among !== undefined) expect(ann?.candidates).toEqual(want.among);
      if (want.interfaces !== undefined) expect(ann?.interfaces).toEqual(want.interfaces);
      expect(layer2ForNode(decision, want.node).map((a) => a.ip)).toEqual([got?.ip]);
    } else {
      expect(got?.kind).toBe("notAnnounced");
      if (got?.kind !== "notAnnounced") return;
      expect(got.reason.code).toBe(want.code);
      if (got.reason.code === "noEligibleNode") {
        expect(got.reason.why).toBe(want.why);
        if (want.endpointNodes !== undefined) expect(got.reason.endpointNodes).toEqual(want.endpointNodes);
      }
      expect(decideLayer2(snap).announcements).toEqual([]);
      expect(describeIPNotAnnounced(got.ip, got.reason, "layer2")).toContain(got.ip);
    }
    // Whatever the case, the answer does not depend on input order.
    expect(decideLayer2(shuffled(snap, 7))).toEqual(decideLayer2(snap));
  });
});

describe("decideLayer2: Services not considered", () => {
  const skipped = [
    {
      description: "a ClusterIP Service",
      svc: service("web", { ips: ["192.0.2.201"], type: "ClusterIP" }),
      code: "notLoadBalancer",
    },
    {
      description: "a Service of another loadBalancerClass",
      svc: service("web", { ips: ["192.0.2.201"], ours: false }),
      code: "otherClass",
    },
    { description: "a Service with no status IP yet", svc: service("web", { ips: [] }), code: "noIPs" },
  ];
  it.each(skipped)("$description", ({ svc, code }) => {
    const decision = decideLayer2(snapshot(lanOnly, [svc], THREE_NODES));
    const r = decision.services.get("default/web");
    expect(r).toMatchObject({ considered: false, reason: { code } });
    if (r !== undefined && !r.considered) expect(describeServiceSkip(r.reason)).not.toBe("");
    expect(decision.announcements).toEqual([]);
  });
});

describe("decideLayer2: several addresses and Services", () => {
  it("a dual-stack Service's two addresses land on one node (the first address is hashed)", () => {
    const v6 = "2001:db8:1::201";
    // An IPv4 address that, hashed on its own, would go elsewhere: only the shared key unites them.
    const v4 = Array.from({ length: 50 }, (_, i) => `192.0.2.${String(200 + i)}`).find(
      (ip) => rendezvousWinner(ALL, ip) !== rendezvousWinner(ALL, v6),
    );
    expect(v4).toBeDefined();
    const decision = decideLayer2(snapshot(lanOnly, [service("web", { ips: [v6, v4 ?? ""] })], THREE_NODES));
    const nodes = decision.announcements.map((a) => a.node);
    expect(nodes).toEqual([rendezvousWinner(ALL, v6), rendezvousWinner(ALL, v6)]);
    // IPv4 sorts first in the output regardless of the Service's order.
    expect(decision.announcements.map((a) => a.ip)).toEqual([v4, v6]);
  });

  it("Services sharing an address are announced once, from one node, naming both", () => {
    const decision = decideLayer2(
      snapshot(
        lanOnly,
        [service("web", { ips: ["192.0.2.210"] }), service("dns", { ips: ["192.0.2.210"] })],
        THREE_NODES,
      ),
    );
    expect(decision.announcements).toHaveLength(1);
    expect(decision.announcements[0]?.services).toEqual(["default/dns", "default/web"]);
    const web = outcomes(snapshot(lanOnly, [service("web", { ips: ["192.0.2.210"] })], THREE_NODES))[0];
    expect(web).toMatchObject({ kind: "announced", node: decision.announcements[0]?.node });
  });

  it("sharing Local Services: the node every holder accepts wins", () => {
    const eps = { "node-a": [1] as [number], "node-b": [1] as [number] };
    const decision = decideLayer2(
      snapshot(
        lanOnly,
        [
          service("web", { ips: ["192.0.2.210"], etp: "Local", endpoints: eps }),
          service("dns", { ips: ["192.0.2.210"], etp: "Local", endpoints: { "node-b": [1], "node-c": [1] } }),
        ],
        THREE_NODES,
      ),
    );
    expect(decision.announcements.map((a) => [a.node, a.candidates])).toEqual([["node-b", ["node-b"]]]);
  });

  it("sharing Services whose nodes do not overlap: still one announcer, and the loser is told", () => {
    const decision = decideLayer2(
      snapshot(
        lanOnly,
        [
          service("web", { ips: ["192.0.2.210"], etp: "Local", endpoints: { "node-a": [1] } }),
          service("dns", { ips: ["192.0.2.210"], etp: "Local", endpoints: { "node-c": [1] } }),
        ],
        THREE_NODES,
      ),
    );
    expect(decision.announcements).toHaveLength(1);
    const node = decision.announcements[0]?.node;
    expect(["node-a", "node-c"]).toContain(node);
    const flags = ["default/dns", "default/web"].map((k) => {
      const r = decision.services.get(k);
      const o = r?.considered === true ? r.addresses[0] : undefined;
      return o?.kind === "announced" ? o.nodeEligibleForService : undefined;
    });
    expect(flags.sort()).toEqual([false, true]);
  });

  it("a sharing Service without endpoints rides on its partner's announcement", () => {
    const decision = decideLayer2(
      snapshot(
        lanOnly,
        [service("web", { ips: ["192.0.2.210"] }), service("dns", { ips: ["192.0.2.210"], endpoints: {} })],
        THREE_NODES,
      ),
    );
    expect(decision.services.get("default/dns")).toMatchObject({
      considered: true,
      addresses: [{ kind: "announced", nodeEligibleForService: false }],
    });
  });

  it("per address outcomes: one announced, one in no pool", () => {
    const got = outcomes(
      snapshot(lanOnly, [service("web", { ips: ["192.0.2.201", "203.0.113.9"] })], THREE_NODES),
    );
    expect(got.map((o) => o.kind)).toEqual(["announced", "notAnnounced"]);
  });

  it("an unparsable status IP is reported, not thrown", () => {
    const got = outcomes(snapshot(lanOnly, [service("web", { ips: ["not-an-ip"] })], THREE_NODES));
    expect(got).toMatchObject([{ kind: "notAnnounced", reason: { code: "invalidIP" } }]);
  });

  it("the funnel counts nodes at each filter", () => {
    const [got] = outcomes(
      snapshot(
        lanOnly,
        [service("web", { ips: ["192.0.2.201"], etp: "Local", endpoints: { "node-a": [1] } })],
        [...THREE_NODES, node("node-d", { [EXCLUDE_FROM_LB_LABEL]: "" })],
        ["node-b", "node-c"],
      ),
    );
    expect(got).toMatchObject({
      reason: {
        code: "noEligibleNode",
        why: "noReadyEndpoint",
        nodes: 4,
        funnel: [
          { stage: "nodeSelectors", remaining: 4 },
          { stage: "exclusion", remaining: 3 },
          { stage: "liveSpeaker", remaining: 2 },
          { stage: "endpoints", remaining: 0 },
        ],
        endpointNodes: ["node-a"],
      },
    });
    if (got?.kind === "notAnnounced") {
      expect(describeIPNotAnnounced(got.ip, got.reason, "layer2")).toMatch(
        /only on nodes that may not announce: node-a/,
      );
    }
  });
});
