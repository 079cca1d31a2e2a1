import { describe, expect, it } from "vitest";
import { migrateDocuments } from "../../../src/compat/migrate.js";

function cr(apiVersion: string, kind: string, name: string, spec: unknown, labels?: Record<string, string>) {
  return {
    apiVersion,
    kind,
    metadata: { name, namespace: "metallb-system", ...(labels ? { labels } : {}) },
    spec,
  };
}

const V1 = "metallb.io/v1beta1";
const V2 = "metallb.io/v1beta2";
const peerSpec = { myASN: 64501, peerASN: 64500, peerAddress: "203.0.113.1" };

function convert(...docs: unknown[]) {
  return migrateDocuments(docs, { namespace: "ironlb-system" });
}

describe("MetalLB custom resources", () => {
  it.each([
    {
      description: "IPAddressPool keeps its fields and labels, moves namespace",
      doc: cr(
        V1,
        "IPAddressPool",
        "p",
        { addresses: ["192.168.1.240/28"], autoAssign: false, avoidBuggyIPs: true },
        {
          tier: "lan",
        },
      ),
      kind: "IPAddressPool",
      spec: { addresses: ["192.168.1.240/28"], autoAssign: false, avoidBuggyIPs: true },
    },
    {
      description: "L2Advertisement with interfaces and selectors",
      doc: cr(V1, "L2Advertisement", "l2", {
        ipAddressPoolSelectors: [{ matchLabels: { tier: "lan" } }],
        nodeSelectors: [{ matchLabels: { "kubernetes.io/hostname": "node-a" } }],
        interfaces: ["eth0"],
      }),
      kind: "L2Advertisement",
      spec: {
        ipAddressPoolSelectors: [{ matchLabels: { tier: "lan" } }],
        nodeSelectors: [{ matchLabels: { "kubernetes.io/hostname": "node-a" } }],
        interfaces: ["eth0"],
      },
    },
    {
      description: "v1beta1 BGPPeer with port 0 (MetalLB's default)",
      doc: cr(V1, "BGPPeer", "r", { ...peerSpec, peerPort: 0, holdTime: "90s" }),
      kind: "BGPPeer",
      spec: { ...peerSpec, holdTime: "90s" },
    },
    {
      description: "v1beta2 BGPPeer with dynamicASN, connectTime and defaults MetalLB writes",
      doc: cr(V2, "BGPPeer", "r", {
        myASN: 64501,
        dynamicASN: "external",
        peerAddress: "203.0.113.1",
        connectTime: "10s",
        enableGracefulRestart: true,
        disableMP: false,
        dualStackAddressFamily: false,
        vrf: "",
      }),
      kind: "BGPPeer",
      spec: {
        myASN: 64501,
        dynamicASN: "external",
        peerAddress: "203.0.113.1",
        connectTime: "10s",
        enableGracefulRestart: true,
      },
    },
  ])("$description", ({ doc, kind, spec }) => {
    const result = convert(doc);
    expect(result.issues).toEqual([]);
    expect(result.objects).toHaveLength(1);
    expect(result.objects[0]).toMatchObject({
      apiVersion: "ironlb.io/v1beta1",
      kind,
      metadata: { name: doc.metadata.name, namespace: "ironlb-system" },
      spec,
    });
    expect(result.objects[0]?.metadata.labels).toEqual(doc.metadata.labels);
  });

  it.each([
    {
      description: "a VRF",
      doc: cr(V2, "BGPPeer", "r", { ...peerSpec, vrf: "red" }),
      issues: ["dropped spec.vrf"],
    },
    {
      description: "unnumbered peering",
      doc: cr(V2, "BGPPeer", "r", { ...peerSpec, interface: "eth1" }),
      issues: ["dropped spec.interface"],
    },
    {
      description: "dualStackAddressFamily",
      doc: cr(V2, "BGPPeer", "r", { ...peerSpec, dualStackAddressFamily: true }),
      issues: ["dropped spec.dualStackAddressFamily"],
    },
    {
      description: "an unknown field",
      doc: cr(V1, "IPAddressPool", "p", { addresses: ["198.51.100.0/24"], color: "blue" }),
      issues: ["dropped spec.color"],
    },
    {
      description: "a MetalLB operator resource",
      doc: cr(V1, "MetalLB", "metallb", {}),
      issues: ["dropped "],
    },
    {
      description: "a status object",
      doc: cr(V1, "ServiceL2Status", "l2-abc", {}),
      issues: ["note "],
    },
    {
      description: "a Secret reference in MetalLB's namespace",
      doc: cr(V2, "BGPPeer", "r", {
        ...peerSpec,
        passwordSecret: { name: "bgp", namespace: "metallb-system" },
      }),
      issues: ["note spec.passwordSecret"],
    },
  ])("reports $description", ({ doc, issues }) => {
    const result = convert(doc);
    expect(result.issues.map((i) => `${i.severity} ${i.path}`)).toEqual(issues);
    expect(result.issues[0]?.source).toContain(`${doc.kind} "${doc.metadata.name}"`);
  });

  it("points a Secret reference at the IronLB namespace", () => {
    const result = convert(cr(V2, "BGPPeer", "r", { ...peerSpec, passwordSecret: { name: "bgp" } }));
    expect(result.objects[0]?.spec.passwordSecret).toEqual({ name: "bgp", namespace: "ironlb-system" });
  });

  it("converts the deprecated AddressPool like a legacy pool", () => {
    const result = convert(
      cr(V1, "AddressPool", "old", {
        protocol: "bgp",
        addresses: ["198.51.100.0/24"],
        bgpAdvertisements: [{ aggregationLength: 32, localPref: 50, communities: ["65000:1"] }],
      }),
    );
    expect(result.issues).toEqual([]);
    expect(result.objects.map((o) => [o.kind, o.metadata.name, o.spec])).toEqual([
      ["IPAddressPool", "old", { addresses: ["198.51.100.0/24"] }],
      [
        "BGPAdvertisement",
        "old",
        { aggregationLength: 32, localPref: 50, communities: ["65000:1"], ipAddressPools: ["old"] },
      ],
    ]);
  });
});
