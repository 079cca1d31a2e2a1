/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; tests build them as literals. */
import type { V1ValidatingWebhookConfiguration } from "@kubernetes/client-node";
import { describe, expect, test } from "vitest";
import { kubeProxyFindings, poolClaimsFromLegacyConfigMap } from "../../../src/ops/clusterChecks.js";
import { probeWebhooks } from "../../../src/ops/webhookProbe.js";
import { endpointSlice } from "./fixtures.js";

describe("kube-proxy strictARP", () => {
  const cases: { description: string; conf: string | undefined; finding: boolean }[] = [
    { description: "no ConfigMap (another proxy, or none)", conf: undefined, finding: false },
    { description: "iptables mode", conf: "mode: iptables\n", finding: false },
    { description: "default mode (empty)", conf: 'mode: ""\n', finding: false },
    {
      description: "IPVS with strictARP true",
      conf: "mode: ipvs\nipvs:\n  strictARP: true\n",
      finding: false,
    },
    {
      description: "IPVS with strictARP false",
      conf: "mode: ipvs\nipvs:\n  strictARP: false\n",
      finding: true,
    },
    { description: "IPVS without an ipvs section", conf: "mode: ipvs\n", finding: true },
    {
      description: "IPVS with strictARP as a string",
      conf: 'mode: ipvs\nipvs:\n  strictARP: "true"\n',
      finding: true,
    },
    { description: "unparsable YAML", conf: "mode: [ipvs\n", finding: false },
  ];
  test.each(cases)("$description", ({ conf, finding }) => {
    const map = conf === undefined ? undefined : { data: { "config.conf": conf } };
    expect(kubeProxyFindings(map).map((f) => f.code)).toEqual(finding ? ["KubeProxyStrictARP"] : []);
  });
});

describe("MetalLB legacy ConfigMap claims", () => {
  test("every address pool with its ranges; bad entries skipped", () => {
    const claims = poolClaimsFromLegacyConfigMap({
      metadata: { namespace: "metallb-system", name: "config" },
      data: {
        config:
          "address-pools:\n- name: a\n  addresses: [192.0.2.0/30, not-an-ip]\n- addresses: [198.51.100.7]\n",
      },
    });
    expect(claims.map((c) => [c.owner, c.ranges.length])).toEqual([
      ["MetalLB ConfigMap metallb-system/config address-pools[0] (a)", 1],
      ["MetalLB ConfigMap metallb-system/config address-pools[1] (#1)", 1],
    ]);
  });
});

describe("webhook probe", () => {
  const vwc = (clientConfig: Record<string, unknown>, names = ["ipaddresspool.validation.ironlb.io"]) =>
    ({
      metadata: { name: "ironlb-validating-webhook-configuration" },
      webhooks: [
        ...names.map((name) => ({
          name,
          clientConfig,
          sideEffects: "None",
          admissionReviewVersions: ["v1"],
        })),
        // Not IronLB's: ignored.
        {
          name: "other.example.com",
          clientConfig: { url: "https://example.invalid" },
          sideEffects: "None",
          admissionReviewVersions: ["v1"],
        },
      ],
    }) as V1ValidatingWebhookConfiguration;
  const ca = Buffer.from("-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n").toString("base64");

  test("a Service webhook: existence and ready endpoints, webhooks sharing a clientConfig grouped", async () => {
    const checks = await probeWebhooks({
      configurations: [
        vwc({ service: { namespace: "ironlb-system", name: "hook", port: 443 }, caBundle: ca }, [
          "ipaddresspool.validation.ironlb.io",
          "bgppeer.validation.ironlb.io",
        ]),
      ],
      services: [{ metadata: { namespace: "ironlb-system", name: "hook" } }],
      endpointSlices: [
        endpointSlice("ironlb-system", "hook", "n1", true),
        endpointSlice("ironlb-system", "hook", "n2", false),
      ],
      servingCertificatePem: undefined,
      certificateSource: "Secret ironlb-system/cert tls.crt",
    });
    expect(checks).toEqual([
      {
        configuration: "ironlb-validating-webhook-configuration",
        webhooks: ["ipaddresspool.validation.ironlb.io", "bgppeer.validation.ironlb.io"],
        caBundlePresent: true,
        target: { kind: "service", namespace: "ironlb-system", name: "hook", port: 443 },
        serviceExists: true,
        readyEndpoints: 1,
      },
    ]);
  });

  test("a URL webhook is dialled with its caBundle; without one it is not dialled", async () => {
    const dialled: string[] = [];
    const dial = (url: string) => {
      dialled.push(url);
      return Promise.resolve({ ok: false as const, kind: "unreachable" as const, message: "ECONNREFUSED" });
    };
    const checks = await probeWebhooks({
      configurations: [
        vwc({ url: "https://127.0.0.1:1/validate", caBundle: ca }),
        vwc({ url: "https://127.0.0.1:2/validate" }),
      ],
      services: [],
      endpointSlices: [],
      servingCertificatePem: undefined,
      certificateSource: "",
      dial,
    });
    expect(dialled).toEqual(["https://127.0.0.1:1/validate"]);
    expect(checks.map((c) => [c.caBundlePresent, c.dial?.ok])).toEqual([
      [true, false],
      [false, undefined],
    ]);
  });
});
