import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { assertValidConfig, configInputFromObjects } from "../../../src/api/config.js";
import {
  MigrateInputError,
  migrateYaml,
  parseDocuments,
  renderObjects,
} from "../../../src/compat/migrate.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const example = (name: string) => readFileSync(join(root, "examples", name), "utf8");
const options = { namespace: "ironlb-system" };

describe("migrate the examples", () => {
  it.each([
    {
      file: "metallb-legacy-configmap.yaml",
      kinds: [
        "IPAddressPool/default",
        "IPAddressPool/bgp-pool",
        "Community/bgp-communities",
        "BGPPeer/peer-203.0.113.1",
        "L2Advertisement/default",
        "BGPAdvertisement/bgp-pool",
      ],
      notes: 0,
    },
    {
      file: "metallb-crs.yaml",
      kinds: [
        "IPAddressPool/lan",
        "IPAddressPool/bgp",
        "Community/communities",
        "BFDProfile/fast",
        "BGPPeer/router",
        "L2Advertisement/lan",
        "BGPAdvertisement/bgp",
      ],
      notes: 1,
    },
    { file: "ironlb-l2.yaml", kinds: ["IPAddressPool/lan", "L2Advertisement/lan"], notes: 0 },
  ])("$file converts completely and validates", ({ file, kinds, notes }) => {
    const result = migrateYaml(example(file), options);
    expect(result.issues.filter((i) => i.severity === "dropped")).toEqual([]);
    expect(result.issues).toHaveLength(notes);
    expect(result.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(kinds);
    expect(result.validation.ok ? [] : result.validation.errors.map(String)).toEqual([]);
    expect(result.validation.warnings).toEqual([]);
  });

  it("gives the legacy example's pools to the allocator as written", () => {
    const result = migrateYaml(example("metallb-legacy-configmap.yaml"), options);
    if (!result.validation.ok) throw new Error("invalid");
    const { pools, bgpPeers, bgpAdvertisements } = result.validation.config;
    expect(pools.map((p) => [p.name, p.avoidBuggyIPs, p.ranges[0]?.last])).toEqual([
      ["bgp-pool", true, 0xc63364ffn],
      ["default", false, 0xc0a801fan],
    ]);
    expect(bgpPeers.map((p) => [p.myASN, p.peerASN, p.sessionType])).toEqual([[64501, 64500, "ebgp"]]);
    expect(bgpAdvertisements[0]?.communities).toEqual([{ kind: "standard", asn16: 65535, value16: 65281 }]);
  });

  it("prints YAML that reads back into the same valid configuration", () => {
    const result = migrateYaml(example("metallb-crs.yaml"), options);
    const again = parseDocuments(renderObjects(result.objects));
    expect(again).toEqual(JSON.parse(JSON.stringify(result.objects)));
    expect(() => assertValidConfig(configInputFromObjects(again).input)).not.toThrow();
  });
});

describe("common MetalLB guide configurations", () => {
  const legacy = (pools: string, peers = "") =>
    `apiVersion: v1
kind: ConfigMap
metadata: {namespace: metallb-system, name: config}
data:
  config: |
${(peers + pools)
  .split("\n")
  .map((l) => `    ${l}`)
  .join("\n")}
`;
  it.each([
    {
      description: "a layer2 range on the home LAN",
      yaml: legacy(`address-pools:
- name: default
  protocol: layer2
  addresses:
  - 192.168.1.240-192.168.1.250`),
    },
    {
      description: "a layer2 /28",
      yaml: legacy(`address-pools:
- name: default
  protocol: layer2
  addresses:
  - 192.168.1.240/28`),
    },
    {
      description: "a BGP /24 avoiding buggy IPs, with a router peer",
      yaml: legacy(
        `address-pools:
- name: default
  protocol: bgp
  avoid-buggy-ips: true
  addresses:
  - 198.51.100.0/24`,
        `peers:
- peer-address: 203.0.113.1
  peer-asn: 64500
  my-asn: 64501
`,
      ),
    },
    {
      description: "the CR form of the layer2 guide",
      yaml: `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: first-pool, namespace: metallb-system}
spec:
  addresses: [192.168.1.240-192.168.1.250]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: example, namespace: metallb-system}
`,
    },
  ])("$description converts and validates", ({ yaml }) => {
    const result = migrateYaml(yaml, options);
    expect(result.issues).toEqual([]);
    expect(result.validation.ok ? [] : result.validation.errors.map(String)).toEqual([]);
    expect(result.objects.length).toBeGreaterThan(0);
  });
});

describe("migrate input handling", () => {
  it("flattens a List (kubectl get -o yaml) and keeps IronLB objects' namespace", () => {
    const result = migrateYaml(
      `apiVersion: v1
kind: List
items:
- apiVersion: ironlb.io/v1beta1
  kind: IPAddressPool
  metadata: {name: kept, namespace: lb-prod}
  spec: {addresses: [192.0.2.200/29]}
- apiVersion: ironlb.io/v1beta1
  kind: L2Advertisement
  metadata: {name: defaulted}
`,
      options,
    );
    expect(result.issues).toEqual([]);
    expect(result.objects.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      "lb-prod/kept",
      "ironlb-system/defaulted",
    ]);
  });

  it("reports objects that are neither MetalLB nor IronLB configuration", () => {
    const result = migrateYaml(
      "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n---\nplain text\n---\n",
      options,
    );
    expect(result.issues.map((i) => `${i.severity} ${i.source}`)).toEqual([
      'dropped v1 Service "web"',
      "dropped document 2",
    ]);
  });

  it("refuses text that is not YAML, naming the problem", () => {
    expect(() => migrateYaml("a: [1, 2\nb: c", options)).toThrow(MigrateInputError);
  });
});
