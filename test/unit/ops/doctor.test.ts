import { describe, expect, test } from "vitest";
import { buildDoctorReport, type DoctorInputs } from "../../../src/ops/doctor.js";
import { renderFindings } from "../../../src/ops/findings.js";
import {
  doctorInputs,
  endpointSlice,
  l2Advertisement,
  lease,
  node,
  NOW,
  NS,
  pool,
  service,
} from "./fixtures.js";

const options = { namespace: NS, now: NOW };

/** A healthy base: one pool, one advertisement, one node with a live speaker. */
function base(parts: Partial<DoctorInputs> = {}): DoctorInputs {
  return doctorInputs({
    ironlbConfig: [pool("lan", ["192.0.2.10-192.0.2.11"]), l2Advertisement("lan")],
    nodes: [node("n1")],
    leases: [lease("n1")],
    ...parts,
  });
}

interface Case {
  description: string;
  inputs: DoctorInputs;
  target?: string;
  code: string;
  /** Substrings the finding's title, evidence or fix must contain. */
  mentions: string[];
}

const cases: Case[] = [
  {
    description: "no pool matches: the only pool is manual",
    inputs: base({
      ironlbConfig: [pool("manual", ["192.0.2.10/32"], { autoAssign: false })],
      services: [service("web", "a", { condition: { reason: "NoPoolMatches", message: "no pool" } })],
    }),
    code: "NoPoolMatches",
    mentions: ["ironlb.io/address-pool", "condition ironlb.io/IPAllocated: False NoPoolMatches"],
  },
  {
    description: "pool exhausted: both addresses held",
    inputs: base({
      services: [
        service("web", "a", { ips: ["192.0.2.10"] }),
        service("web", "b", { ips: ["192.0.2.11"] }),
        service("web", "c", { condition: { reason: "PoolExhausted", message: "full" } }),
      ],
      endpointSlices: [endpointSlice("web", "a", "n1", true), endpointSlice("web", "b", "n1", true)],
    }),
    code: "PoolExhausted",
    mentions: ["pool exhausted: lan", "IPAddressPool lan: IPv4 2 assigned, 0 available"],
  },
  {
    description: "requested address outside every pool",
    inputs: base({ services: [service("web", "a", { loadBalancerIP: "203.0.113.5" })] }),
    code: "RequestedIPOutsidePools",
    mentions: ["spec.loadBalancerIP: 203.0.113.5", "203.0.113.5"],
  },
  {
    description: "requested address taken by a Service without a sharing key",
    inputs: base({
      services: [
        service("web", "holder", { ips: ["192.0.2.10"] }),
        service("web", "wants", { annotations: { "ironlb.io/loadBalancerIPs": "192.0.2.10" } }),
      ],
      endpointSlices: [endpointSlice("web", "holder", "n1", true)],
    }),
    code: "RequestedIPTaken",
    mentions: ["web/holder", "allow-shared-ip"],
  },
  {
    description: "sharing conflict: same key, same port",
    inputs: base({
      services: [
        service("web", "holder", { ips: ["192.0.2.10"], annotations: { "ironlb.io/allow-shared-ip": "k" } }),
        service("web", "wants", {
          annotations: { "ironlb.io/allow-shared-ip": "k", "ironlb.io/loadBalancerIPs": "192.0.2.10" },
        }),
      ],
      endpointSlices: [endpointSlice("web", "holder", "n1", true)],
    }),
    code: "SharingConflict",
    mentions: ["web/holder", "port TCP/80"],
  },
  {
    description: "class not ours, for the Service asked about",
    inputs: base({ services: [service("web", "a", { loadBalancerClass: "example.com/other" })] }),
    target: "web/a",
    code: "ClassNotOurs",
    mentions: ["spec.loadBalancerClass: example.com/other"],
  },
  {
    description: "no advertisement covers the pool",
    inputs: base({
      ironlbConfig: [pool("lan", ["192.0.2.10/31"])],
      services: [service("web", "a", { ips: ["192.0.2.10"] })],
      endpointSlices: [endpointSlice("web", "a", "n1", true)],
    }),
    code: "NoAdvertisement",
    mentions: ['IPAddressPool "lan"', "L2Advertisement"],
  },
  {
    description: "no eligible node: nodeSelectors match nothing",
    inputs: base({
      ironlbConfig: [
        pool("lan", ["192.0.2.10/31"]),
        l2Advertisement("edge", { nodeSelectors: [{ matchLabels: { edge: "true" } }] }),
      ],
      services: [service("web", "a", { ips: ["192.0.2.10"] })],
      endpointSlices: [endpointSlice("web", "a", "n1", true)],
    }),
    code: "NoEligibleNode",
    mentions: ["nodeSelectors", "edge"],
  },
  {
    description: "no eligible node: the only node carries the exclusion label",
    inputs: base({
      nodes: [node("n1", { "node.kubernetes.io/exclude-from-external-load-balancers": "" })],
      services: [service("web", "a", { ips: ["192.0.2.10"] })],
      endpointSlices: [endpointSlice("web", "a", "n1", true)],
    }),
    code: "NoEligibleNode",
    mentions: ['Node n1 metadata.labels["node.kubernetes.io/exclude-from-external-load-balancers"]'],
  },
  {
    description: "no eligible node: NetworkUnavailable",
    inputs: base({
      nodes: [node("n1", {}, true)],
      services: [service("web", "a", { ips: ["192.0.2.10"] })],
      endpointSlices: [endpointSlice("web", "a", "n1", true)],
    }),
    code: "NoEligibleNode",
    mentions: ["Node n1 status.conditions NetworkUnavailable: True"],
  },
  {
    description: "no eligible node: the speaker's Lease expired",
    inputs: base({
      leases: [lease("n1", 60_000)],
      services: [service("web", "a", { ips: ["192.0.2.10"] })],
      endpointSlices: [endpointSlice("web", "a", "n1", true)],
    }),
    code: "NoEligibleNode",
    mentions: ["ironlb-speaker-n1", "expired", "start the IronLB speaker"],
  },
  {
    description: "no eligible node: no speaker Lease at all",
    inputs: base({
      leases: [],
      services: [service("web", "a", { ips: ["192.0.2.10"] })],
      endpointSlices: [endpointSlice("web", "a", "n1", true)],
    }),
    code: "NoEligibleNode",
    mentions: ["Node n1: no speaker Lease"],
  },
  {
    description: "no eligible node: externalTrafficPolicy Local without a ready endpoint",
    inputs: base({
      services: [service("web", "a", { ips: ["192.0.2.10"], local: true })],
      endpointSlices: [endpointSlice("web", "a", "n1", false)],
    }),
    code: "NoEligibleNode",
    mentions: ["no ready endpoint", "externalTrafficPolicy"],
  },
  {
    description: "kube-proxy IPVS without strictARP",
    inputs: base({
      kubeProxyConfigMap: {
        metadata: { namespace: "kube-system", name: "kube-proxy" },
        data: { "config.conf": "mode: ipvs\nipvs:\n  strictARP: false\n" },
      },
    }),
    code: "KubeProxyStrictARP",
    mentions: ["ipvs.strictARP: false", "strictARP: true"],
  },
  {
    description: "configuration invalid: which object and field",
    inputs: base({ ironlbConfig: [pool("bad", ["192.0.2.300/32"])] }),
    code: "ConfigInvalid",
    mentions: ['IPAddressPool "bad"', "addresses"],
  },
  {
    description: "two IronLB pools claim the same addresses",
    inputs: base({ ironlbConfig: [pool("a", ["192.0.2.0/28"]), pool("b", ["192.0.2.8-192.0.2.9"])] }),
    code: "OverlappingPools",
    mentions: ["IronLB IPAddressPool ironlb-system/a", "IronLB IPAddressPool ironlb-system/b"],
  },
  {
    description: "MetalLB's legacy ConfigMap claims IronLB's addresses",
    inputs: base({
      metallbConfigMap: {
        metadata: { namespace: "metallb-system", name: "config" },
        data: {
          config: "address-pools:\n- name: old\n  protocol: layer2\n  addresses:\n  - 192.0.2.0/24\n",
        },
      },
    }),
    code: "OverlappingPools",
    mentions: ["MetalLB ConfigMap metallb-system/config address-pools[0] (old)", "uninstall MetalLB"],
  },
  {
    description: "MetalLB IPAddressPool CR claims IronLB's addresses",
    inputs: base({
      metallbConfig: [
        {
          apiVersion: "metallb.io/v1beta1",
          kind: "IPAddressPool",
          metadata: { namespace: "metallb-system", name: "mlb" },
          spec: { addresses: ["192.0.2.11/32"] },
        },
      ],
    }),
    code: "OverlappingPools",
    mentions: ["MetalLB IPAddressPool metallb-system/mlb"],
  },
  {
    description: "webhook Service without ready endpoints",
    inputs: base({
      webhooks: [
        {
          configuration: "ironlb-validating-webhook-configuration",
          webhooks: ["ipaddresspool.validation.ironlb.io"],
          target: { kind: "service", namespace: NS, name: "ironlb-webhook-service", port: 443 },
          serviceExists: true,
          readyEndpoints: 0,
          caBundlePresent: true,
        },
      ],
    }),
    code: "WebhookUnreachable",
    mentions: ["0 ready endpoints"],
  },
  {
    description: "webhook URL whose certificate the caBundle does not trust",
    inputs: base({
      webhooks: [
        {
          configuration: "ironlb-validating-webhook-configuration",
          webhooks: ["ipaddresspool.validation.ironlb.io"],
          target: { kind: "url", url: "https://127.0.0.1:9443/validate" },
          dial: { ok: false, kind: "certificate", message: "self-signed certificate in certificate chain" },
          caBundlePresent: true,
        },
      ],
    }),
    code: "WebhookCertificateMismatch",
    mentions: ["self-signed certificate"],
  },
];

describe("ironlb doctor findings", () => {
  test.each(cases)("$description", ({ inputs, target, code, mentions }) => {
    const report = buildDoctorReport(inputs, { ...options, target });
    const finding = report.findings.find((f) => f.code === code);
    expect(finding, JSON.stringify(report.findings, null, 1)).toBeDefined();
    const text = JSON.stringify(finding);
    for (const m of mentions) expect(text).toContain(JSON.stringify(m).slice(1, -1));
    expect(report.problems).toBeGreaterThan(0);
    expect(renderFindings(report.findings)).toContain(finding?.title ?? "?");
  });

  test("a healthy cluster has no finding", () => {
    const report = buildDoctorReport(
      base({
        services: [service("web", "a", { ips: ["192.0.2.10"] })],
        endpointSlices: [endpointSlice("web", "a", "n1", true)],
        kubeProxyConfigMap: { data: { "config.conf": "mode: ipvs\nipvs:\n  strictARP: true\n" } },
      }),
      options,
    );
    expect(report.findings).toEqual([]);
    expect(report.problems).toBe(0);
    expect(renderFindings(report.findings)).toBe("No problems found.\n");
  });

  test("a pending Service the allocator could serve now: the controller is not doing its job", () => {
    const report = buildDoctorReport(base({ services: [service("web", "a")] }), options);
    expect(report.findings.map((f) => f.code)).toEqual(["NotAllocatedYet"]);
    expect(report.findings[0]?.evidence.join("\n")).toContain("no ironlb.io/IPAllocated condition");
  });

  test("the dry run leaves the allocator as it was: two pending Services each see the free address", () => {
    const report = buildDoctorReport(
      base({
        ironlbConfig: [pool("lan", ["192.0.2.10/32"]), l2Advertisement("lan")],
        services: [service("web", "a"), service("web", "b")],
      }),
      options,
    );
    expect(report.findings.map((f) => `${f.service ?? ""} ${f.code}`)).toEqual([
      "web/a NotAllocatedYet",
      "web/b NotAllocatedYet",
    ]);
  });

  test("a Service of another class is not a problem when the whole cluster is checked", () => {
    const report = buildDoctorReport(
      base({ services: [service("web", "a", { loadBalancerClass: "example.com/other" })] }),
      options,
    );
    expect(report.problems).toBe(0);
    expect(report.findings.map((f) => `${f.severity} ${f.code}`)).toEqual(["info ClassNotOurs"]);
  });

  test("asking about a Service that does not exist", () => {
    const report = buildDoctorReport(base(), { ...options, target: "web/nope" });
    expect(report.findings.map((f) => f.code)).toEqual(["ServiceNotFound"]);
  });

  test("the condition differing from the recomputed reason is shown", () => {
    const report = buildDoctorReport(
      base({
        ironlbConfig: [pool("manual", ["192.0.2.10/32"], { autoAssign: false })],
        services: [service("web", "a", { condition: { reason: "PoolExhausted", message: "old news" } })],
      }),
      options,
    );
    expect(report.findings[0]?.evidence.join("\n")).toContain(
      "differs from the recomputed one (NoPoolMatches)",
    );
  });
});
