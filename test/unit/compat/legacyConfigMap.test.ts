import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { migrateDocuments } from "../../../src/compat/migrate.js";
import type { ConversionIssue, IronLBObject } from "../../../src/compat/types.js";

function configMap(config: unknown, extraData: Record<string, string> = {}): unknown {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "config", namespace: "metallb-system" },
    data: { config: typeof config === "string" ? config : stringify(config), ...extraData },
  };
}

function convert(config: unknown, extraData?: Record<string, string>) {
  return migrateDocuments([configMap(config, extraData)], { namespace: "ironlb-system" });
}

function brief(objects: readonly IronLBObject[]): string[] {
  return objects.map((o) => `${o.kind}/${o.metadata.name}`);
}

function issueSummary(issues: readonly ConversionIssue[]): string[] {
  return issues.map((i) => `${i.severity} ${i.path}`);
}

describe("legacy MetalLB ConfigMap", () => {
  it.each([
    {
      description: "a layer2 pool becomes a pool and an L2Advertisement for it",
      config: {
        "address-pools": [
          {
            name: "default",
            protocol: "layer2",
            addresses: ["192.168.1.240-192.168.1.250"],
            "auto-assign": false,
          },
        ],
      },
      objects: ["IPAddressPool/default", "L2Advertisement/default"],
      specs: {
        "IPAddressPool/default": { addresses: ["192.168.1.240-192.168.1.250"], autoAssign: false },
        "L2Advertisement/default": { ipAddressPools: ["default"] },
      },
    },
    {
      description: "a bgp pool without advertisements gets a default BGPAdvertisement",
      config: {
        "address-pools": [
          { name: "bgp", protocol: "bgp", addresses: ["198.51.100.0/24"], "avoid-buggy-ips": true },
        ],
      },
      objects: ["IPAddressPool/bgp", "BGPAdvertisement/bgp"],
      specs: {
        "IPAddressPool/bgp": { addresses: ["198.51.100.0/24"], avoidBuggyIPs: true },
        "BGPAdvertisement/bgp": { ipAddressPools: ["bgp"] },
      },
    },
    {
      description: "each of several bgp-advertisements becomes a BGPAdvertisement",
      config: {
        "address-pools": [
          {
            name: "bgp",
            protocol: "bgp",
            addresses: ["198.51.100.0/24"],
            "bgp-advertisements": [
              { "aggregation-length": 32, localpref: 100, communities: ["65000:1"] },
              { "aggregation-length": 24, "aggregation-length-v6": 128 },
            ],
          },
        ],
      },
      objects: ["IPAddressPool/bgp", "BGPAdvertisement/bgp-1", "BGPAdvertisement/bgp-2"],
      specs: {
        "BGPAdvertisement/bgp-1": {
          aggregationLength: 32,
          localPref: 100,
          communities: ["65000:1"],
          ipAddressPools: ["bgp"],
        },
        "BGPAdvertisement/bgp-2": {
          aggregationLength: 24,
          aggregationLengthV6: 128,
          ipAddressPools: ["bgp"],
        },
      },
    },
    {
      description: "a peer with every field, selectors in kebab case, port 0 meaning the default",
      config: {
        peers: [
          {
            "peer-address": "203.0.113.1",
            "peer-asn": 64500,
            "my-asn": 64501,
            "peer-port": 0,
            "hold-time": "90s",
            "keepalive-time": "30s",
            "router-id": "192.0.2.10",
            "source-address": "192.0.2.10",
            password: "s3cret",
            "bfd-profile": "fast",
            "ebgp-multihop": true,
            "node-selectors": [
              {
                "match-labels": { rack: "r1" },
                "match-expressions": [{ key: "kubernetes.io/hostname", operator: "In", values: ["a", "b"] }],
              },
            ],
          },
        ],
        "bfd-profiles": [
          { name: "fast", "receive-interval": 100, "transmit-interval": 100, "echo-mode": false },
        ],
      },
      objects: ["BFDProfile/fast", "BGPPeer/peer-203.0.113.1"],
      specs: {
        "BFDProfile/fast": { receiveInterval: 100, transmitInterval: 100, echoMode: false },
        "BGPPeer/peer-203.0.113.1": {
          myASN: 64501,
          peerASN: 64500,
          peerAddress: "203.0.113.1",
          sourceAddress: "192.0.2.10",
          holdTime: "90s",
          keepaliveTime: "30s",
          routerID: "192.0.2.10",
          nodeSelectors: [
            {
              matchLabels: { rack: "r1" },
              matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["a", "b"] }],
            },
          ],
          password: "s3cret",
          bfdProfile: "fast",
          ebgpMultiHop: true,
        },
      },
    },
    {
      description: "bgp-communities become one Community of aliases",
      config: { "bgp-communities": { "no-export": "65535:65281", gold: "large:64500:1:1" } },
      objects: ["Community/bgp-communities"],
      specs: {
        "Community/bgp-communities": {
          communities: [
            { name: "no-export", value: "65535:65281" },
            { name: "gold", value: "large:64500:1:1" },
          ],
        },
      },
    },
    {
      description: "two peers on one address and an IPv6 peer get distinct valid names",
      config: {
        peers: [
          { "peer-address": "203.0.113.1", "peer-asn": 64500, "my-asn": 64501 },
          {
            "peer-address": "203.0.113.1",
            "peer-asn": 64500,
            "my-asn": 64501,
            "peer-port": 1179,
          },
          { "peer-address": "2001:db8:2::1", "peer-asn": 64500, "my-asn": 64501 },
        ],
      },
      objects: ["BGPPeer/peer-203.0.113.1", "BGPPeer/peer-203.0.113.1-2", "BGPPeer/peer-2001-db8-2--1"],
      specs: {},
    },
  ])("$description", ({ config, objects, specs }) => {
    const result = convert(config);
    expect(issueSummary(result.issues)).toEqual([]);
    expect(brief(result.objects)).toEqual(objects);
    for (const [key, spec] of Object.entries(specs)) {
      expect(result.objects.find((o) => `${o.kind}/${o.metadata.name}` === key)?.spec, key).toEqual(spec);
    }
    expect(result.objects.every((o) => o.metadata.namespace === "ironlb-system")).toBe(true);
    expect(result.validation.ok ? [] : result.validation.errors.map(String)).toEqual([]);
  });

  it.each([
    {
      description: "an unknown section",
      config: { "address-pools": [], "bgp-peers": [] },
      issues: ["dropped bgp-peers"],
    },
    {
      description: "an unknown peer field",
      config: { peers: [{ "peer-address": "203.0.113.1", "peer-asn": 1, "my-asn": 2, vrf: "red" }] },
      issues: ["dropped peers[0].vrf"],
    },
    {
      description: "a pool without protocol",
      config: { "address-pools": [{ name: "p", addresses: ["198.51.100.0/24"] }] },
      issues: ["dropped address-pools[0].protocol"],
    },
    {
      description: "an unknown protocol",
      config: { "address-pools": [{ name: "p", protocol: "ospf", addresses: ["198.51.100.0/24"] }] },
      issues: ["dropped address-pools[0].protocol"],
    },
    {
      description: "BGP advertisements on a layer2 pool",
      config: {
        "address-pools": [
          {
            name: "p",
            protocol: "layer2",
            addresses: ["198.51.100.0/24"],
            "bgp-advertisements": [{ localpref: 1 }],
          },
        ],
      },
      issues: ["dropped address-pools[0].bgp-advertisements"],
    },
    {
      description: "a BFD profile without a name",
      config: { "bfd-profiles": [{ "receive-interval": 100 }] },
      issues: ["dropped bfd-profiles[0]"],
    },
    {
      description: "an unknown key in a selector",
      config: {
        peers: [
          {
            "peer-address": "203.0.113.1",
            "peer-asn": 1,
            "my-asn": 2,
            "node-selectors": [{ "match-label": { a: "b" } }],
          },
        ],
      },
      issues: ["dropped peers[0].node-selectors[0].match-label"],
    },
  ])("reports $description as not converted, with its path", ({ config, issues }) => {
    expect(issueSummary(convert(config).issues)).toEqual(issues);
  });

  it.each([
    {
      description: "no config key",
      doc: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "other" }, data: { x: "1" } },
      issue: "dropped data",
    },
    { description: "config that is not YAML", doc: configMap("peers: [\n"), issue: "dropped data.config" },
    {
      description: "an extra data key",
      doc: configMap({ peers: [] }, { extra: "1" }),
      issue: "dropped data.extra",
    },
  ])("says what is wrong with a ConfigMap holding $description", ({ doc, issue }) => {
    const result = migrateDocuments([doc], { namespace: "ironlb-system" });
    expect(issueSummary(result.issues)).toEqual([issue]);
    expect(result.issues[0]?.source).toMatch(/^ConfigMap /);
  });

  it("converts the legacy configuration without its ConfigMap wrapper too", () => {
    const result = migrateDocuments(
      [{ "address-pools": [{ name: "lan", protocol: "layer2", addresses: ["192.168.1.240/28"] }] }],
      { namespace: "lb" },
    );
    expect(brief(result.objects)).toEqual(["IPAddressPool/lan", "L2Advertisement/lan"]);
    expect(result.objects[0]?.metadata.namespace).toBe("lb");
  });

  it("passes bad values through so validation reports them with their path", () => {
    const result = convert({
      "address-pools": [{ name: "lan", protocol: "layer2", addresses: ["192.168.1.250-192.168.1.240"] }],
    });
    expect(result.validation.ok).toBe(false);
    if (result.validation.ok) return;
    expect(result.validation.errors.map(String)).toEqual([
      'IPAddressPool "lan": spec.addresses[0]: "192.168.1.250-192.168.1.240": the range start is after its end',
    ]);
  });
});
