import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import {
  assertValidConfig,
  configInputFromObjects,
  validateConfig,
  type ConfigInput,
} from "../../../src/api/config.js";
import { ConfigError, ConfigValidationError } from "../../../src/api/configError.js";
import { poolsOf } from "../../../src/api/selection.js";
import { baseInput, obj } from "./fixtures.js";

type Input = ReturnType<typeof baseInput>;

interface Expected {
  kind: string;
  name: string;
  path: string;
  message?: string;
}

interface Case {
  description: string;
  change: (input: Input) => void;
  errors: Expected[];
}

const pool = (name: string, spec: unknown, labels?: Record<string, string>) => obj(name, spec, labels);
const peer = (name: string, spec: Record<string, unknown>) =>
  obj(name, { myASN: 64501, peerASN: 64500, peerAddress: "203.0.113.9", ...spec });

/** Replaces one object; returns the list so one-line changes stay expressions. */
function replace(list: unknown[], index: number, value: unknown): unknown[] {
  list[index] = value;
  return list;
}

const rejected: Case[] = [
  // Addresses
  {
    description: "a range whose start is after its end",
    change: (i) => replace(i.ipAddressPools, 0, pool("lan", { addresses: ["192.0.2.250-192.0.2.200"] })),
    errors: [
      {
        kind: "IPAddressPool",
        name: "lan",
        path: "spec.addresses[0]",
        message: "the range start is after its end",
      },
    ],
  },
  {
    description: "a range mixing IPv4 and IPv6",
    change: (i) => replace(i.ipAddressPools, 0, pool("lan", { addresses: ["192.0.2.1-2001:db8:1::9"] })),
    errors: [{ kind: "IPAddressPool", name: "lan", path: "spec.addresses[0]", message: "mixes families" }],
  },
  {
    description: "a CIDR with host bits set",
    change: (i) => replace(i.ipAddressPools, 0, pool("lan", { addresses: ["192.0.2.1/24"] })),
    errors: [{ kind: "IPAddressPool", name: "lan", path: "spec.addresses[0]", message: "host bits are set" }],
  },
  {
    description: "an address that is not one",
    change: (i) => replace(i.ipAddressPools, 0, pool("lan", { addresses: ["192.0.2.10", "192.0.2.300"] })),
    errors: [{ kind: "IPAddressPool", name: "lan", path: "spec.addresses[1]" }],
  },
  {
    description: "an empty address list",
    change: (i) => replace(i.ipAddressPools, 0, pool("lan", { addresses: [] })),
    errors: [{ kind: "IPAddressPool", name: "lan", path: "spec.addresses", message: "must not be empty" }],
  },
  {
    description: "a pool without addresses",
    change: (i) => replace(i.ipAddressPools, 0, pool("lan", { autoAssign: false })),
    errors: [{ kind: "IPAddressPool", name: "lan", path: "spec.addresses", message: "is required" }],
  },
  {
    description: "a pool without a spec",
    change: (i) => replace(i.ipAddressPools, 0, { metadata: { name: "lan" } }),
    errors: [{ kind: "IPAddressPool", name: "lan", path: "spec", message: "is required" }],
  },
  {
    description: "autoAssign of the wrong type",
    change: (i) =>
      replace(i.ipAddressPools, 0, pool("lan", { addresses: ["192.0.2.200/29"], autoAssign: "yes" })),
    errors: [
      { kind: "IPAddressPool", name: "lan", path: "spec.autoAssign", message: "must be true or false" },
    ],
  },
  {
    description: "two pools overlapping (reported on the later name)",
    change: (i) => i.ipAddressPools.push(pool("extra", { addresses: ["198.51.100.128/25"] })),
    errors: [
      {
        kind: "IPAddressPool",
        name: "extra",
        path: "spec.addresses[0]",
        message: 'overlaps IPAddressPool "bgp" spec.addresses[0] (198.51.100.0/24)',
      },
    ],
  },
  {
    description: "an address listed twice in one pool",
    change: (i) =>
      replace(i.ipAddressPools, 0, pool("lan", { addresses: ["192.0.2.200/29", "192.0.2.200-192.0.2.207"] })),
    errors: [
      {
        kind: "IPAddressPool",
        name: "lan",
        path: "spec.addresses[1]",
        message: "duplicates spec.addresses[0] (192.0.2.200/29)",
      },
    ],
  },
  {
    description: "an IPv6 overlap across pools",
    change: (i) => i.ipAddressPools.push(pool("v6", { addresses: ["2001:db8:100::80-2001:db8:100::1ff"] })),
    errors: [{ kind: "IPAddressPool", name: "v6", path: "spec.addresses[0]", message: "overlaps" }],
  },
  {
    description: "an invalid namespace in serviceAllocation",
    change: (i) =>
      replace(
        i.ipAddressPools,
        0,
        pool("lan", { addresses: ["192.0.2.200/29"], serviceAllocation: { namespaces: ["Team_A"] } }),
      ),
    errors: [{ kind: "IPAddressPool", name: "lan", path: "spec.serviceAllocation.namespaces[0]" }],
  },
  {
    description: "a namespace selector with a bad key",
    change: (i) =>
      replace(
        i.ipAddressPools,
        0,
        pool("lan", {
          addresses: ["192.0.2.200/29"],
          serviceAllocation: { namespaceSelectors: [{ matchLabels: { "bad key": "x" } }] },
        }),
      ),
    errors: [
      {
        kind: "IPAddressPool",
        name: "lan",
        path: "spec.serviceAllocation.namespaceSelectors[0].matchLabels[bad key]",
      },
    ],
  },
  // Names
  {
    description: "two pools with the same name",
    change: (i) => i.ipAddressPools.push(pool("lan", { addresses: ["192.0.2.100/30"] })),
    errors: [{ kind: "IPAddressPool", name: "lan", path: "metadata.name", message: "same name" }],
  },
  {
    description: "a name that is not a DNS subdomain",
    change: (i) => replace(i.bfdProfiles, 0, obj("Fast_BFD", {})),
    errors: [
      { kind: "BFDProfile", name: "Fast_BFD", path: "metadata.name" },
      { kind: "BGPPeer", name: "router", path: "spec.bfdProfile", message: "no BFDProfile" },
    ],
  },
  {
    description: "an object without a name",
    change: (i) => i.communities.push({ metadata: {}, spec: {} }),
    errors: [{ kind: "Community", name: "#1", path: "metadata.name", message: "is required" }],
  },
  {
    description: "a MetalLB object handed to the IronLB validator",
    change: (i) =>
      replace(i.bfdProfiles, 0, {
        apiVersion: "metallb.io/v1beta1",
        kind: "BFDProfile",
        metadata: { name: "fast" },
      }),
    errors: [{ kind: "BFDProfile", name: "fast", path: "apiVersion", message: "ironlb migrate" }],
  },
  // Aggregation
  {
    description: "aggregationLength shorter than a CIDR pool's prefix",
    change: (i) =>
      replace(i.bgpAdvertisements, 0, obj("bgp", { ipAddressPools: ["bgp"], aggregationLength: 23 })),
    errors: [
      {
        kind: "BGPAdvertisement",
        name: "bgp",
        path: "spec.aggregationLength",
        message: 'is shorter than the /24 of IPAddressPool "bgp" spec.addresses[0] (198.51.100.0/24)',
      },
    ],
  },
  {
    description: "aggregationLength shorter than the widest block of a range pool",
    change: (i) => {
      replace(i.ipAddressPools, 1, pool("bgp", { addresses: ["198.51.100.240-198.51.100.250"] }));
      replace(i.bgpAdvertisements, 0, obj("bgp", { ipAddressPools: ["bgp"], aggregationLength: 28 }));
    },
    errors: [{ kind: "BGPAdvertisement", name: "bgp", path: "spec.aggregationLength", message: "/29" }],
  },
  {
    description: "aggregationLengthV6 shorter than an IPv6 pool's prefix",
    change: (i) =>
      replace(i.bgpAdvertisements, 0, obj("bgp", { ipAddressPools: ["bgp"], aggregationLengthV6: 112 })),
    errors: [{ kind: "BGPAdvertisement", name: "bgp", path: "spec.aggregationLengthV6", message: "/120" }],
  },
  {
    description: "aggregationLength above 32",
    change: (i) => replace(i.bgpAdvertisements, 0, obj("bgp", { aggregationLength: 33 })),
    errors: [
      { kind: "BGPAdvertisement", name: "bgp", path: "spec.aggregationLength", message: "at most 32" },
    ],
  },
  // LOCAL_PREF
  {
    description: "different localPref for the same prefixes, peers and nodes",
    change: (i) => {
      replace(i.bgpAdvertisements, 0, obj("a", { ipAddressPools: ["bgp"], localPref: 100 }));
      i.bgpAdvertisements.push(obj("b", { localPref: 200 }));
    },
    errors: [
      {
        kind: "BGPAdvertisement",
        name: "b",
        path: "spec.localPref",
        message: 'conflicts with BGPAdvertisement "a" (localPref 100)',
      },
    ],
  },
  {
    description: "a localPref next to an advertisement without one, same prefixes",
    change: (i) =>
      i.bgpAdvertisements.push(
        obj("preferred", { ipAddressPools: ["bgp"], localPref: 300, peers: ["router"] }),
      ),
    errors: [
      { kind: "BGPAdvertisement", name: "preferred", path: "spec.localPref", message: "(localPref 0)" },
    ],
  },
  // Communities
  {
    description: "a standard community with a half above 16 bits",
    change: (i) => replace(i.bgpAdvertisements, 0, obj("bgp", { communities: ["65536:1"] })),
    errors: [{ kind: "BGPAdvertisement", name: "bgp", path: "spec.communities[0]", message: "0 to 65535" }],
  },
  {
    description: "a community with three numbers",
    change: (i) => replace(i.bgpAdvertisements, 0, obj("bgp", { communities: ["65000:1", "1:2:3"] })),
    errors: [
      { kind: "BGPAdvertisement", name: "bgp", path: "spec.communities[1]", message: "not a community" },
    ],
  },
  {
    description: "a large community with two parts",
    change: (i) => replace(i.bgpAdvertisements, 0, obj("bgp", { communities: ["large:1:2"] })),
    errors: [
      { kind: "BGPAdvertisement", name: "bgp", path: "spec.communities[0]", message: "three numbers" },
    ],
  },
  {
    description: "a large community part above 32 bits",
    change: (i) => replace(i.bgpAdvertisements, 0, obj("bgp", { communities: ["large:4294967296:1:1"] })),
    errors: [
      { kind: "BGPAdvertisement", name: "bgp", path: "spec.communities[0]", message: "0 to 4294967295" },
    ],
  },
  {
    description: "an unknown community alias",
    change: (i) => replace(i.bgpAdvertisements, 0, obj("bgp", { communities: ["gold"] })),
    errors: [
      { kind: "BGPAdvertisement", name: "bgp", path: "spec.communities[0]", message: "Community alias" },
    ],
  },
  {
    description: "an alias whose value is not a community",
    change: (i) =>
      replace(i.communities, 0, obj("aliases", { communities: [{ name: "no-export", value: "65535" }] })),
    errors: [{ kind: "Community", name: "aliases", path: "spec.communities[0].value" }],
  },
  {
    description: "an alias defined twice",
    change: (i) =>
      i.communities.push(obj("more", { communities: [{ name: "no-export", value: "65535:65281" }] })),
    errors: [
      {
        kind: "Community",
        name: "more",
        path: "spec.communities[0].name",
        message: 'in Community "aliases"',
      },
    ],
  },
  // BGP peers
  {
    description: "a hold time under 3s",
    change: (i) => replace(i.bgpPeers, 0, peer("router", { holdTime: "2s" })),
    errors: [{ kind: "BGPPeer", name: "router", path: "spec.holdTime", message: "0 or at least 3s" }],
  },
  {
    description: "a keepalive longer than the hold time",
    change: (i) => replace(i.bgpPeers, 0, peer("router", { holdTime: "9s", keepaliveTime: "10s" })),
    errors: [{ kind: "BGPPeer", name: "router", path: "spec.keepaliveTime", message: "holdTime (9s)" }],
  },
  {
    description: "a hold time that is not a duration",
    change: (i) => replace(i.bgpPeers, 0, peer("router", { holdTime: "90" })),
    errors: [{ kind: "BGPPeer", name: "router", path: "spec.holdTime", message: "must be a duration" }],
  },
  {
    description: "a connect time with a fraction of a second",
    change: (i) => replace(i.bgpPeers, 0, peer("router", { connectTime: "1500ms" })),
    errors: [
      { kind: "BGPPeer", name: "router", path: "spec.connectTime", message: "whole number of seconds" },
    ],
  },
  {
    description: "a connect time above 65535s",
    change: (i) => replace(i.bgpPeers, 0, peer("router", { connectTime: "20h" })),
    errors: [{ kind: "BGPPeer", name: "router", path: "spec.connectTime", message: "from 1s to 65535s" }],
  },
  {
    description: "both peerASN and dynamicASN",
    change: (i) => replace(i.bgpPeers, 0, peer("router", { dynamicASN: "external" })),
    errors: [{ kind: "BGPPeer", name: "router", path: "spec.dynamicASN", message: "not both" }],
  },
  {
    description: "neither peerASN nor dynamicASN",
    change: (i) => replace(i.bgpPeers, 0, obj("router", { myASN: 64501, peerAddress: "203.0.113.1" })),
    errors: [{ kind: "BGPPeer", name: "router", path: "spec.peerASN", message: "set peerASN or dynamicASN" }],
  },
  {
    description: "a dynamicASN mode that does not exist",
    change: (i) =>
      replace(
        i.bgpPeers,
        0,
        obj("router", { myASN: 64501, dynamicASN: "sideways", peerAddress: "203.0.113.1" }),
      ),
    errors: [
      { kind: "BGPPeer", name: "router", path: "spec.dynamicASN", message: 'one of "internal", "external"' },
    ],
  },
  {
    description: "ebgpMultiHop on an iBGP session",
    change: (i) => replace(i.bgpPeers, 0, peer("router", { peerASN: 64501, ebgpMultiHop: true })),
    errors: [{ kind: "BGPPeer", name: "router", path: "spec.ebgpMultiHop", message: "iBGP" }],
  },
  {
    description: "ebgpMultiHop with dynamicASN internal",
    change: (i) =>
      replace(
        i.bgpPeers,
        0,
        obj("router", {
          myASN: 64501,
          dynamicASN: "internal",
          peerAddress: "203.0.113.1",
          ebgpMultiHop: true,
        }),
      ),
    errors: [{ kind: "BGPPeer", name: "router", path: "spec.ebgpMultiHop" }],
  },
  {
    description: "an AS number out of range",
    change: (i) => replace(i.bgpPeers, 0, peer("router", { myASN: 4294967296 })),
    errors: [{ kind: "BGPPeer", name: "router", path: "spec.myASN", message: "at most 4294967295" }],
  },
  {
    description: "a peer address that is not an IP",
    change: (i) => replace(i.bgpPeers, 0, peer("router", { peerAddress: "router.example" })),
    errors: [{ kind: "BGPPeer", name: "router", path: "spec.peerAddress" }],
  },
  {
    description: "a source address of the other family",
    change: (i) => replace(i.bgpPeers, 0, peer("router", { sourceAddress: "2001:db8:1::10" })),
    errors: [
      {
        kind: "BGPPeer",
        name: "router",
        path: "spec.sourceAddress",
        message: "is IPv6 but peerAddress is IPv4",
      },
    ],
  },
  {
    description: "an IPv6 router ID",
    change: (i) => replace(i.bgpPeers, 0, peer("router", { routerID: "2001:db8::1" })),
    errors: [{ kind: "BGPPeer", name: "router", path: "spec.routerID", message: "IPv4" }],
  },
  {
    description: "a password and a password Secret",
    change: (i) =>
      replace(i.bgpPeers, 0, peer("router", { password: "s3cret", passwordSecret: { name: "bgp" } })),
    errors: [{ kind: "BGPPeer", name: "router", path: "spec.password", message: "not both" }],
  },
  {
    description: "a BFD profile that does not exist",
    change: (i) => replace(i.bgpPeers, 0, peer("router", { bfdProfile: "slow" })),
    errors: [{ kind: "BGPPeer", name: "router", path: "spec.bfdProfile", message: "no BFDProfile" }],
  },
  {
    description: "a node selector that does not parse",
    change: (i) =>
      replace(
        i.bgpPeers,
        0,
        peer("router", { nodeSelectors: [{}, { matchExpressions: [{ key: "rack", operator: "Near" }] }] }),
      ),
    errors: [{ kind: "BGPPeer", name: "router", path: "spec.nodeSelectors[1].matchExpressions[0].operator" }],
  },
  {
    description: "two peers for the same address, port and nodes",
    change: (i) => i.bgpPeers.push(peer("router-copy", { peerAddress: "203.0.113.1" })),
    errors: [{ kind: "BGPPeer", name: "router-copy", path: "spec.peerAddress", message: 'BGPPeer "router"' }],
  },
  // BFD
  ...(
    [
      ["receiveInterval", 9, "at least 10"],
      ["transmitInterval", 60001, "at most 60000"],
      ["detectMultiplier", 1, "at least 2"],
      ["detectMultiplier", 256, "at most 255"],
      ["echoInterval", 9, "at least 10"],
      ["minimumTtl", 0, "at least 1"],
      ["minimumTtl", 255, "at most 254"],
    ] as const
  ).map(([field, value, message]): Case => ({
    description: `BFD ${field} ${value}`,
    change: (i) => replace(i.bfdProfiles, 0, obj("fast", { [field]: value })),
    errors: [{ kind: "BFDProfile", name: "fast", path: `spec.${field}`, message }],
  })),
  // Advertisements
  {
    description: "a pool selector with In and no values",
    change: (i) =>
      replace(
        i.l2Advertisements,
        0,
        obj("lan", { ipAddressPoolSelectors: [{ matchExpressions: [{ key: "zone", operator: "In" }] }] }),
      ),
    errors: [
      {
        kind: "L2Advertisement",
        name: "lan",
        path: "spec.ipAddressPoolSelectors[0].matchExpressions[0].values",
      },
    ],
  },
  {
    description: "an interface name that cannot exist",
    change: (i) =>
      replace(i.l2Advertisements, 0, obj("lan", { interfaces: ["eth0", "a-very-long-interface-name"] })),
    errors: [{ kind: "L2Advertisement", name: "lan", path: "spec.interfaces[1]" }],
  },
];

function summary(errors: readonly ConfigError[]): Expected[] {
  return errors.map((e) => ({ kind: e.kind, name: e.name, path: e.path }));
}

describe("validateConfig", () => {
  it("accepts the base configuration", () => {
    const result = validateConfig(baseInput());
    expect(result.ok ? [] : result.errors.map(String)).toEqual([]);
  });

  it.each(rejected)("rejects $description", ({ change, errors }) => {
    const input = baseInput();
    change(input);
    const result = validateConfig(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(summary(result.errors)).toEqual(errors.map(({ kind, name, path }) => ({ kind, name, path })));
    errors.forEach((expected, i) => {
      if (expected.message) expect(result.errors[i]?.message).toContain(expected.message);
    });
  });

  it("reports every error at once, across objects and kinds", () => {
    const input = baseInput();
    for (const c of rejected.slice(0, 3)) c.change(input);
    replace(input.bgpPeers, 0, peer("router", { holdTime: "1s", dynamicASN: "external" }));
    replace(input.bfdProfiles, 0, obj("fast", { detectMultiplier: 1 }));
    const result = validateConfig(input);
    if (result.ok) throw new Error("expected errors");
    expect(summary(result.errors).map((e) => `${e.kind}/${e.name} ${e.path}`)).toEqual([
      "BFDProfile/fast spec.detectMultiplier",
      "IPAddressPool/lan spec.addresses[0]",
      "BGPPeer/router spec.dynamicASN",
      "BGPPeer/router spec.holdTime",
    ]);
  });

  const accepted: { description: string; change: (i: Input) => void }[] = [
    {
      description: "different localPref with different aggregation lengths (different prefixes)",
      change: (i) => {
        replace(i.bgpAdvertisements, 0, obj("bgp", { ipAddressPools: ["bgp"], aggregationLengthV6: 120 }));
        i.bgpAdvertisements.push(
          obj("agg", { ipAddressPools: ["bgp"], localPref: 50, aggregationLength: 24 }),
        );
      },
    },
    {
      description: "different localPref towards different peers",
      change: (i) => {
        i.bgpPeers.push(peer("spine", { peerAddress: "203.0.113.2" }));
        replace(
          i.bgpAdvertisements,
          0,
          obj("bgp", { ipAddressPools: ["bgp"], peers: ["router"], localPref: 100 }),
        );
        i.bgpAdvertisements.push(
          obj("bgp-spine", { ipAddressPools: ["bgp"], peers: ["spine"], localPref: 200 }),
        );
      },
    },
    {
      description: "different localPref from nodes that cannot overlap",
      change: (i) => {
        replace(
          i.bgpAdvertisements,
          0,
          obj("rack1", { nodeSelectors: [{ matchLabels: { rack: "1" } }], localPref: 100 }),
        );
        i.bgpAdvertisements.push(
          obj("rack2", { nodeSelectors: [{ matchLabels: { rack: "2" } }], localPref: 200 }),
        );
      },
    },
    {
      description: "a hold time of 0 (no keepalives), as RFC 4271 allows",
      change: (i) => replace(i.bgpPeers, 0, peer("router", { holdTime: "0s", keepaliveTime: "0s" })),
    },
    {
      description: "aggregationLength equal to the widest block of a range",
      change: (i) => {
        replace(i.ipAddressPools, 1, pool("bgp", { addresses: ["198.51.100.240-198.51.100.250"] }));
        replace(i.bgpAdvertisements, 0, obj("bgp", { ipAddressPools: ["bgp"], aggregationLength: 29 }));
      },
    },
    {
      description: "adjacent pools that touch but do not overlap",
      change: (i) => i.ipAddressPools.push(pool("next", { addresses: ["192.0.2.251-192.0.2.254"] })),
    },
    {
      description: "the same peer address from different nodes",
      change: (i) =>
        i.bgpPeers.push(
          peer("router-rack2", {
            peerAddress: "203.0.113.1",
            nodeSelectors: [{ matchLabels: { rack: "2" } }],
          }),
        ),
    },
  ];

  it.each(accepted)("accepts $description", ({ change }) => {
    const input = baseInput();
    change(input);
    const result = validateConfig(input);
    expect(result.ok ? [] : result.errors.map(String)).toEqual([]);
  });

  it.each([
    {
      description: "an L2Advertisement naming a missing pool",
      change: (i: ReturnType<typeof baseInput>) =>
        replace(i.l2Advertisements, 0, obj("lan", { ipAddressPools: ["lan", "guest"] })),
      warning: "L2Advertisement lan spec.ipAddressPools[1]",
    },
    {
      description: "a BGPAdvertisement naming a missing peer",
      change: (i: ReturnType<typeof baseInput>) =>
        replace(i.bgpAdvertisements, 0, obj("bgp", { peers: ["router", "spine"] })),
      warning: "BGPAdvertisement bgp spec.peers[1]",
    },
  ])(
    "accepts $description with an UnknownReference warning (apply order must not matter)",
    ({ change, warning }) => {
      const input = baseInput();
      change(input);
      const result = validateConfig(input);
      expect(result.ok).toBe(true);
      expect(
        result.warnings
          .filter((w) => w.code === "UnknownReference")
          .map((w) => `${w.kind} ${w.name} ${w.path}`),
      ).toEqual([warning]);
    },
  );

  it("warns about unknown fields without rejecting", () => {
    const input = baseInput();
    replace(input.ipAddressPools, 0, pool("lan", { addresses: ["192.0.2.200/29"], autoassign: false }));
    const result = validateConfig(input);
    expect(result.ok).toBe(true);
    expect(result.warnings.map((w) => `${w.code} ${w.path}`)).toEqual(["UnknownField spec.autoassign"]);
  });

  it("warns when peers on the same nodes use different local AS numbers", () => {
    const input = baseInput();
    input.bgpPeers.push(peer("spine", { myASN: 64502, peerAddress: "203.0.113.2" }));
    const result = validateConfig(input);
    expect(result.ok).toBe(true);
    expect(result.warnings.map((w) => `${w.name} ${w.path}`)).toEqual(["spine spec.myASN"]);
  });
});

describe("ConfigError", () => {
  it.each([
    {
      description: "with a value",
      error: new ConfigError(
        "InvalidAddress",
        "IPAddressPool",
        "lan",
        "spec.addresses[1]",
        "192.0.2.9-192.0.2.1",
        "the range start is after its end",
      ),
      text: 'IPAddressPool "lan": spec.addresses[1]: "192.0.2.9-192.0.2.1": the range start is after its end',
    },
    {
      description: "without a value",
      error: new ConfigError(
        "ConflictingFields",
        "BGPPeer",
        "r",
        "spec.peerASN",
        undefined,
        "set peerASN or dynamicASN",
      ),
      text: 'BGPPeer "r": spec.peerASN: set peerASN or dynamicASN',
    },
    {
      description: "with a number",
      error: new ConfigError(
        "SchemaViolation",
        "BFDProfile",
        "f",
        "spec.minimumTtl",
        255,
        "must be at most 254",
      ),
      text: 'BFDProfile "f": spec.minimumTtl: 255: must be at most 254',
    },
  ])("reads well $description", ({ error, text }) => {
    expect(error.toString()).toBe(text);
  });

  it("assertValidConfig throws every error in one ConfigValidationError", () => {
    const input = baseInput();
    replace(input.ipAddressPools, 0, pool("lan", { addresses: ["x", "y"] }));
    let thrown: unknown;
    try {
      assertValidConfig(input);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigValidationError);
    expect((thrown as ConfigValidationError).errors).toHaveLength(2);
    expect((thrown as ConfigValidationError).code).toBe("IRONLB_CONFIG_INVALID");
  });
});

describe("the validated configuration", () => {
  const config = assertValidConfig(baseInput());

  it("exposes pools as the allocator's PoolSpec, sorted by name, defaults applied", () => {
    expect(config.pools.map((p) => [p.name, p.ranges.length, p.autoAssign, p.avoidBuggyIPs])).toEqual([
      ["bgp", 2, true, true],
      ["lan", 2, true, false],
    ]);
    expect(config.pools[1]?.ranges[0]).toEqual({ family: "IPv4", first: 0xc00002c8n, last: 0xc00002fan });
    expect(config.poolsByName.get("lan")).toBe(config.pools[1]);
  });

  it("resolves communities, aliases included", () => {
    expect(config.bgpAdvertisements[0]?.communities).toEqual([
      { kind: "standard", asn16: 65000, value16: 100 },
      { kind: "standard", asn16: 65535, value16: 65281 },
    ]);
  });

  it("parses peer timers and applies defaults", () => {
    const router = config.bgpPeers[0];
    expect(router).toMatchObject({
      name: "router",
      peerASN: 64500,
      sessionType: "ebgp",
      peerPort: 179,
      holdTimeSeconds: 90,
      keepaliveTimeSeconds: 30,
      connectTimeSeconds: 120,
      auth: { kind: "none" },
      bfdProfile: "fast",
    });
    expect(router?.peerAddress).toEqual({ family: "IPv4", value: 0xcb007101n });
  });

  it("fills BFD defaults", () => {
    expect(config.bfdProfiles.get("fast")).toEqual({
      name: "fast",
      receiveInterval: 100,
      transmitInterval: 100,
      detectMultiplier: 3,
      echoInterval: 50,
      echoMode: false,
      passiveMode: false,
      minimumTtl: 254,
    });
  });

  it.each([
    {
      description: "keepalive only: hold is three keepalives",
      spec: { keepaliveTime: "20s" },
      hold: 60,
      keepalive: 20,
    },
    { description: "hold only: keepalive is a third", spec: { holdTime: "3m" }, hold: 180, keepalive: 60 },
    { description: "fractions are truncated to seconds", spec: { holdTime: "9.9s" }, hold: 9, keepalive: 3 },
  ])("derives BGP timers: $description", ({ spec, hold, keepalive }) => {
    const input = baseInput();
    replace(input.bgpPeers, 0, peer("router", spec));
    const peerConfig = assertValidConfig(input).bgpPeers[0];
    expect([peerConfig?.holdTimeSeconds, peerConfig?.keepaliveTimeSeconds]).toEqual([hold, keepalive]);
  });

  it("keeps a password out of JSON and a Secret reference in the peer's namespace", () => {
    const input = baseInput();
    replace(input.bgpPeers, 0, peer("router", { password: "s3cret" }));
    input.bgpPeers.push(peer("spine", { peerAddress: "203.0.113.2", passwordSecret: { name: "bgp-auth" } }));
    const peers = assertValidConfig(input).bgpPeers;
    const router = peers.find((p) => p.name === "router");
    expect(JSON.stringify(router?.auth)).not.toContain("s3cret");
    expect(inspect(router)).not.toContain("s3cret");
    expect(router?.auth.kind === "password" ? router.auth.password.reveal() : undefined).toBe("s3cret");
    expect(peers.find((p) => p.name === "spine")?.auth).toEqual({
      kind: "secret",
      secretName: "bgp-auth",
      secretNamespace: "ironlb-system",
    });
  });

  it("treats serviceAllocation priority 0 as unset, as MetalLB does", () => {
    const input = baseInput();
    replace(
      input.ipAddressPools,
      0,
      pool("lan", { addresses: ["192.0.2.200/29"], serviceAllocation: { priority: 0, namespaces: ["web"] } }),
    );
    expect(assertValidConfig(input).poolsByName.get("lan")?.serviceAllocation).toEqual({
      namespaces: ["web"],
    });
  });

  it.each([
    { description: "neither names nor selectors: every pool", ref: {}, pools: ["bgp", "lan"] },
    { description: "names only", ref: { ipAddressPools: ["lan"] }, pools: ["lan"] },
    {
      description: "selectors only",
      ref: { ipAddressPoolSelectors: [{ matchLabels: { zone: "wan" } }] },
      pools: ["bgp"],
    },
    {
      description: "names and selectors: the union",
      ref: { ipAddressPools: ["lan"], ipAddressPoolSelectors: [{ matchLabels: { zone: "wan" } }] },
      pools: ["bgp", "lan"],
    },
    {
      description: "a selector matching nothing: no pool",
      ref: { ipAddressPoolSelectors: [{ matchLabels: { zone: "dmz" } }] },
      pools: [],
    },
  ])("poolsOf: $description", ({ ref, pools }) => {
    const input = baseInput();
    replace(input.l2Advertisements, 0, obj("lan", ref));
    const cfg = assertValidConfig(input);
    const adv = cfg.l2Advertisements[0];
    if (!adv) throw new Error("no advertisement");
    expect(poolsOf(adv, cfg).map((p) => p.name)).toEqual(pools);
  });
});

describe("configInputFromObjects", () => {
  it("sorts ironlb.io objects by kind and returns the rest", () => {
    const objects = [
      {
        apiVersion: "ironlb.io/v1beta1",
        kind: "IPAddressPool",
        metadata: { name: "a" },
        spec: { addresses: [] },
      },
      { apiVersion: "ironlb.io/v1beta1", kind: "BGPPeer", metadata: { name: "p" } },
      { apiVersion: "metallb.io/v1beta1", kind: "IPAddressPool", metadata: { name: "m" } },
      { apiVersion: "v1", kind: "Service", metadata: { name: "s" } },
    ];
    const { input, other } = configInputFromObjects(objects);
    const counts = Object.fromEntries(Object.entries(input).map(([k, v]) => [k, (v as unknown[]).length]));
    expect(counts).toEqual({
      ipAddressPools: 1,
      l2Advertisements: 0,
      bgpAdvertisements: 0,
      bgpPeers: 1,
      bfdProfiles: 0,
      communities: 0,
    } satisfies Record<keyof ConfigInput, number>);
    expect(other).toEqual([objects[2], objects[3]]);
  });
});
