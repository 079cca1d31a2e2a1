/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment, @typescript-eslint/no-misused-spread --
   client-node models are plain data classes with no behaviour: copies by spread lose nothing. */
import { beforeAll, describe, expect, it } from "vitest";
import { caBundleCovers, webhooksMissingBundle, withCABundle } from "../../../src/webhook/caBundle.js";
import { defaultCertificatePolicy, issueCA, nextTrustBundle } from "../../../src/webhook/certs.js";
import {
  loopbackWebhookConfiguration,
  validatingWebhookConfiguration,
  webhookName,
} from "../../../src/webhook/manifest.js";

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");
let oldCA: string;
let newCA: string;
let bundle: string;

beforeAll(async () => {
  const now = Date.now();
  oldCA = (await issueCA(defaultCertificatePolicy, now)).certPem;
  newCA = (await issueCA(defaultCertificatePolicy, now)).certPem;
  bundle = nextTrustBundle(oldCA, newCA, now);
});

describe("caBundleCovers", () => {
  it.each([
    { description: "absent", current: () => undefined, covered: false },
    { description: "empty", current: () => "", covered: false },
    { description: "not base64 of a certificate", current: () => b64("garbage"), covered: false },
    { description: "only the old CA", current: () => b64(oldCA), covered: false },
    { description: "exactly the bundle", current: () => b64(bundle), covered: true },
    { description: "the bundle in another order", current: () => b64(oldCA + newCA), covered: true },
    { description: "more than the bundle", current: () => b64(bundle + oldCA), covered: true },
  ])("a caBundle that is $description: covered=$covered", ({ current, covered }) => {
    expect(caBundleCovers(current(), bundle)).toBe(covered);
  });

  it("an empty wanted bundle is never covered (nothing to trust is an error, not a match)", () => {
    expect(caBundleCovers(b64(oldCA), "")).toBe(false);
  });

  it("a replica with an older (smaller) bundle leaves a newer one alone", () => {
    expect(caBundleCovers(b64(bundle), oldCA)).toBe(true);
  });
});

describe("withCABundle", () => {
  it("sets the bundle on every webhook that lacks it and leaves the others untouched", () => {
    const base = validatingWebhookConfiguration({ namespace: "ironlb-system" });
    const webhooks = base.webhooks ?? [];
    const partly = {
      ...base,
      webhooks: webhooks.map((w, i) =>
        i === 0 ? { ...w, clientConfig: { ...w.clientConfig, caBundle: b64(bundle) } } : w,
      ),
    };
    expect(webhooksMissingBundle(partly, bundle)).toEqual(webhooks.slice(1).map((w) => w.name));
    const patched = withCABundle(partly, bundle);
    expect(webhooksMissingBundle(patched, bundle)).toEqual([]);
    expect(patched.webhooks?.[0]).toBe(partly.webhooks[0]);
    expect(patched.webhooks?.[1]?.clientConfig.caBundle).toBe(b64(bundle));
    // The input is not modified.
    expect(partly.webhooks[1]?.clientConfig.caBundle).toBeUndefined();
  });
});

describe("validatingWebhookConfiguration", () => {
  it("has one webhook per configuration kind with the agreed settings, calling the Service", () => {
    const config = validatingWebhookConfiguration({ namespace: "ironlb-system" });
    expect(config.metadata?.name).toBe("ironlb-validating-webhook-configuration");
    const kinds = [
      "IPAddressPool",
      "L2Advertisement",
      "BGPAdvertisement",
      "BGPPeer",
      "BFDProfile",
      "Community",
    ];
    expect(config.webhooks?.map((w) => w.name)).toEqual(kinds.map(webhookName));
    for (const webhook of config.webhooks ?? []) {
      expect(webhook).toMatchObject({
        failurePolicy: "Fail",
        sideEffects: "None",
        admissionReviewVersions: ["v1"],
        timeoutSeconds: 10,
        clientConfig: {
          service: {
            namespace: "ironlb-system",
            name: "ironlb-webhook-service",
            path: "/validate",
            port: 443,
          },
        },
      });
      expect(webhook.rules).toHaveLength(1);
      expect(webhook.rules?.[0]).toMatchObject({
        apiGroups: ["ironlb.io"],
        apiVersions: ["v1beta1"],
        operations: ["CREATE", "UPDATE", "DELETE"],
      });
    }
    expect(config.webhooks?.map((w) => w.rules?.[0]?.resources)).toEqual([
      ["ipaddresspools"],
      ["l2advertisements"],
      ["bgpadvertisements"],
      ["bgppeers"],
      ["bfdprofiles"],
      ["communities"],
    ]);
    expect(webhookName("IPAddressPool")).toBe("ipaddresspool.validation.ironlb.io");
  });

  it("the loopback variant calls a URL and can carry a CA bundle", () => {
    const config = loopbackWebhookConfiguration(9443, {
      namespace: "x",
      name: "test-webhooks",
      caBundlePem: "PEM",
    });
    expect(config.metadata?.name).toBe("test-webhooks");
    expect(config.webhooks?.[0]?.clientConfig).toEqual({
      url: "https://127.0.0.1:9443/validate",
      caBundle: b64("PEM"),
    });
    expect(
      loopbackWebhookConfiguration(1, { namespace: "x", host: "::1" }).webhooks?.[0]?.clientConfig.url,
    ).toBe("https://[::1]:1/validate");
  });
});
