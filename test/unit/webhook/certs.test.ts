import { createPrivateKey, X509Certificate } from "node:crypto";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { connect, createServer } from "node:tls";
import { beforeAll, describe, expect, it } from "vitest";
import {
  applyCertificatePlan,
  certificateSetFromSecretData,
  certificateSetToSecretData,
  CertificatePolicyError,
  coversIdentity,
  defaultCertificatePolicy,
  issueCA,
  issueServingCertificate,
  nextTrustBundle,
  parseCertificates,
  planCertificates,
  printableString,
  renewalTime,
  serviceDNSNames,
  signedBy,
  validateCertificatePolicy,
  validityOf,
  type CertificatePolicy,
  type CertificateSet,
  type KeyAndCertificate,
  type ServingIdentity,
} from "../../../src/webhook/certs.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Whole seconds: X.509 times have second resolution.
const T0 = Date.UTC(2030, 0, 1);
const policy: CertificatePolicy = {
  caValidityMs: 360 * DAY,
  servingValidityMs: 90 * DAY,
  renewAtFraction: 2 / 3,
  clockSkewMs: 60_000,
  trustPropagationMs: 60_000,
};
const identity: ServingIdentity = {
  dnsNames: serviceDNSNames("ironlb-webhook-service", "ironlb-system"),
  ipAddresses: ["127.0.0.1", "::1"],
};

let ca: KeyAndCertificate;
let otherCA: KeyAndCertificate;
let serving: KeyAndCertificate;
let fresh: CertificateSet;
/** The same CA near its renewal point, with a serving certificate renewed ten days before. */
let lateInLife: CertificateSet;

beforeAll(async () => {
  ca = await issueCA(policy, T0);
  otherCA = await issueCA(policy, T0);
  serving = await issueServingCertificate(ca, identity, policy, T0);
  fresh = {
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    trustBundlePem: ca.certPem,
    certPem: serving.certPem,
    keyPem: serving.keyPem,
  };
  const late = await issueServingCertificate(ca, identity, policy, caRenewal() - 10 * DAY);
  lateInLife = { ...fresh, certPem: late.certPem, keyPem: late.keyPem };
});

const cert = (pem: string): X509Certificate => new X509Certificate(pem);
const servingRenewal = (): number => renewalTime(validityOf(cert(serving.certPem)), policy.renewAtFraction);
const caRenewal = (): number => renewalTime(validityOf(cert(ca.certPem)), policy.renewAtFraction);

describe("issued certificates", () => {
  it("the CA is a CA, self-signed, backdated by the clock skew and valid for caValidityMs", () => {
    const c = cert(ca.certPem);
    expect(c.ca).toBe(true);
    expect(signedBy(c, c)).toBe(true);
    expect(validityOf(c)).toEqual({ notBefore: T0 - policy.clockSkewMs, notAfter: T0 + policy.caValidityMs });
    expect(c.checkPrivateKey(createPrivateKey(ca.keyPem))).toBe(true);
  });

  it("subjects use only PrintableString characters (Go refuses to parse others)", async () => {
    const printable = /^[A-Za-z0-9 '()+,\-./:=?\n]*$/;
    expect(cert(ca.certPem).subject).toMatch(printable);
    expect(cert(serving.certPem).subject).toMatch(printable);
    const odd = await issueServingCertificate(
      ca,
      { dnsNames: ["under_score.example"], ipAddresses: [] },
      policy,
      T0,
    );
    expect(cert(odd.certPem).subject).toContain("CN=under-score.example");
    expect(printableString("a@b_c*d")).toBe("a-b-c-d");
  });

  it("two CAs have distinct subjects and keys", () => {
    expect(cert(ca.certPem).fingerprint256).not.toBe(cert(otherCA.certPem).fingerprint256);
    expect(signedBy(cert(serving.certPem), cert(otherCA.certPem))).toBe(false);
  });

  it("the serving certificate is signed by the CA, is not a CA and names every address", () => {
    const c = cert(serving.certPem);
    expect(c.ca).toBe(false);
    expect(signedBy(c, cert(ca.certPem))).toBe(true);
    expect(coversIdentity(c, identity)).toBe(true);
    expect(c.checkHost("ironlb-webhook-service.ironlb-system.svc")).toBe(
      "ironlb-webhook-service.ironlb-system.svc",
    );
    expect(c.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(c.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(validityOf(c)).toEqual({
      notBefore: T0 - policy.clockSkewMs,
      notAfter: T0 + policy.servingValidityMs,
    });
  });

  it("a serving certificate issued late in the CA's life ends with the CA", async () => {
    const late = T0 + policy.caValidityMs - 10 * DAY;
    const short = await issueServingCertificate(ca, identity, policy, late);
    expect(validityOf(cert(short.certPem)).notAfter).toBe(T0 + policy.caValidityMs);
  });

  it("a TLS client that trusts the CA completes a handshake with the serving certificate", async () => {
    const server = createServer({ key: serving.keyPem, cert: serving.certPem }, (socket) => {
      socket.end("hello");
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const { port } = server.address() as AddressInfo;
      // The handshake checks validity against the real clock: use a set issued now.
      const nowCA = await issueCA(policy, Date.now());
      const nowServing = await issueServingCertificate(nowCA, identity, policy, Date.now());
      server.setSecureContext({ key: nowServing.keyPem, cert: nowServing.certPem });
      const socket = connect({ host: "127.0.0.1", port, ca: nowCA.certPem });
      const [data] = (await once(socket, "data")) as [Buffer];
      expect(data.toString()).toBe("hello");
      expect(socket.authorized).toBe(true);
      socket.destroy();
    } finally {
      server.close();
    }
  });
});

describe("coversIdentity", () => {
  it.each([
    { description: "exactly the names", extra: {}, covered: true },
    {
      description: "a DNS name in another case",
      extra: { dnsNames: ["IRONLB-WEBHOOK-SERVICE"] },
      covered: true,
    },
    {
      description: "IPv6 loopback written in full",
      extra: { ipAddresses: ["0:0:0:0:0:0:0:1"] },
      covered: true,
    },
    { description: "a missing DNS name", extra: { dnsNames: ["other.example"] }, covered: false },
    { description: "a missing IP address", extra: { ipAddresses: ["192.0.2.1"] }, covered: false },
  ])("$description", ({ extra, covered }) => {
    const wanted: ServingIdentity = {
      dnsNames: [...identity.dnsNames, ...((extra as Partial<ServingIdentity>).dnsNames ?? [])],
      ipAddresses: [...identity.ipAddresses, ...((extra as Partial<ServingIdentity>).ipAddresses ?? [])],
    };
    expect(coversIdentity(cert(serving.certPem), wanted)).toBe(covered);
  });
});

describe("planCertificates", () => {
  const cases: {
    description: string;
    set: () => CertificateSet | undefined;
    now: () => number;
    who?: ServingIdentity;
    ca: "keep" | "create";
    serving: "keep" | "wait" | "issue";
    reason?: RegExp;
  }[] = [
    {
      description: "no Secret: a CA and a serving certificate",
      set: () => undefined,
      now: () => T0,
      ca: "create",
      serving: "issue",
    },
    {
      description: "a fresh set is kept",
      set: () => fresh,
      now: () => T0 + HOUR,
      ca: "keep",
      serving: "keep",
    },
    {
      description: "just before the serving certificate's renewal point it is kept",
      set: () => fresh,
      now: () => servingRenewal() - 1000,
      ca: "keep",
      serving: "keep",
    },
    {
      description: "at 2/3 of its life the serving certificate is renewed by the same CA",
      set: () => fresh,
      now: servingRenewal,
      ca: "keep",
      serving: "issue",
      reason: /due for renewal/,
    },
    {
      description: "an expired serving certificate is replaced",
      set: () => fresh,
      now: () => T0 + policy.servingValidityMs + HOUR,
      ca: "keep",
      serving: "issue",
      reason: /expired/,
    },
    {
      description: "a serving certificate lacking a wanted name is replaced",
      set: () => fresh,
      now: () => T0 + HOUR,
      who: { dnsNames: [...identity.dnsNames, "webhook.example"], ipAddresses: identity.ipAddresses },
      ca: "keep",
      serving: "issue",
      reason: /name every webhook address/,
    },
    {
      description: "a serving key that does not match is replaced",
      set: () => ({ ...fresh, keyPem: ca.keyPem }),
      now: () => T0 + HOUR,
      ca: "keep",
      serving: "issue",
      reason: /does not match/,
    },
    {
      description: "a serving certificate from a CA outside the trust bundle is replaced",
      set: () => ({
        ...fresh,
        caCertPem: otherCA.certPem,
        caKeyPem: otherCA.keyPem,
        trustBundlePem: otherCA.certPem,
      }),
      now: () => T0 + HOUR,
      ca: "keep",
      serving: "issue",
      reason: /not signed by a trusted CA/,
    },
    {
      description: "a CA due for renewal is replaced while the still-valid serving certificate waits",
      set: () => lateInLife,
      now: caRenewal,
      ca: "create",
      serving: "wait",
    },
    {
      description: "a CA whose key was lost is replaced; the serving certificate waits for the new CA",
      set: () => ({ ...fresh, caKeyPem: "" }),
      now: () => T0 + HOUR,
      ca: "create",
      serving: "wait",
    },
    {
      description: "an expired CA is replaced together with the serving certificate",
      set: () => fresh,
      now: () => T0 + policy.caValidityMs + HOUR,
      ca: "create",
      serving: "issue",
    },
    {
      description: "garbage in the Secret: everything is replaced",
      set: () => ({
        caCertPem: "x",
        caKeyPem: "y",
        trustBundlePem: "z",
        certPem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        keyPem: "",
      }),
      now: () => T0,
      ca: "create",
      serving: "issue",
    },
  ];
  it.each(cases)("$description", ({ set, now, who, ca: caAction, serving: servingAction, reason }) => {
    const plan = planCertificates(set(), who ?? identity, policy, now());
    expect(plan.ca.action).toBe(caAction);
    expect(plan.serving.action).toBe(servingAction);
    if (reason !== undefined && plan.serving.action !== "keep") expect(plan.serving.reason).toMatch(reason);
  });

  it("a kept set is looked at again at the earlier renewal point", () => {
    expect(planCertificates(fresh, identity, policy, T0 + HOUR).recheckAt).toBe(servingRenewal());
  });
});

describe("CA rotation", () => {
  it("publishes the new CA first, moves the serving certificate to it after trustPropagationMs, drops the old CA when it expires", async () => {
    const rotateAt = caRenewal();
    const plan = planCertificates(lateInLife, identity, policy, rotateAt);
    const rotated = await applyCertificatePlan(lateInLife, plan, identity, policy, rotateAt);
    const newCA = cert(rotated.caCertPem);
    expect(newCA.fingerprint256).not.toBe(cert(ca.certPem).fingerprint256);
    // Old serving certificate kept for now; both CAs trusted, the new one first.
    expect(rotated.certPem).toBe(lateInLife.certPem);
    expect(parseCertificates(rotated.trustBundlePem).map((c) => c.fingerprint256)).toEqual([
      newCA.fingerprint256,
      cert(ca.certPem).fingerprint256,
    ]);

    const beforeTrusted = planCertificates(
      rotated,
      identity,
      policy,
      rotateAt + policy.trustPropagationMs - 1000,
    );
    expect(beforeTrusted.ca.action).toBe("keep");
    expect(beforeTrusted.serving).toMatchObject({
      action: "wait",
      until: rotateAt + policy.trustPropagationMs,
    });
    expect(beforeTrusted.recheckAt).toBe(rotateAt + policy.trustPropagationMs);

    const trustedAt = rotateAt + policy.trustPropagationMs;
    const moved = planCertificates(rotated, identity, policy, trustedAt);
    expect(moved.serving).toMatchObject({
      action: "issue",
      reason: expect.stringMatching(/older CA/) as string,
    });
    const after = await applyCertificatePlan(rotated, moved, identity, policy, trustedAt);
    expect(signedBy(cert(after.certPem), newCA)).toBe(true);
    expect(planCertificates(after, identity, policy, trustedAt + HOUR)).toMatchObject({
      ca: { action: "keep" },
      serving: { action: "keep" },
    });

    const oldExpired = T0 + policy.caValidityMs + 1000;
    expect(
      parseCertificates(nextTrustBundle(after.trustBundlePem, after.caCertPem, oldExpired)),
    ).toHaveLength(1);
  });

  it("a serving certificate that must be replaced right after a CA rotation is signed by the new CA at once", async () => {
    const rotateAt = caRenewal();
    const rotated = await applyCertificatePlan(
      lateInLife,
      planCertificates(lateInLife, identity, policy, rotateAt),
      identity,
      policy,
      rotateAt,
    );
    const broken = { ...rotated, keyPem: "" };
    const plan = planCertificates(broken, identity, policy, rotateAt + 1000);
    expect(plan.serving.action).toBe("issue");
  });
});

describe("Secret data", () => {
  it("round-trips a certificate set through base64 data", () => {
    const data = certificateSetToSecretData(fresh);
    expect(Object.keys(data).sort()).toEqual(["ca-bundle.crt", "ca.crt", "ca.key", "tls.crt", "tls.key"]);
    expect(certificateSetFromSecretData(data)).toEqual(fresh);
  });

  it("missing keys read as empty texts, which plan as a new CA", () => {
    const set = certificateSetFromSecretData({ "tls.crt": Buffer.from(serving.certPem).toString("base64") });
    expect(set.caCertPem).toBe("");
    expect(planCertificates(set, identity, policy, T0).ca.action).toBe("create");
  });
});

describe("validateCertificatePolicy", () => {
  it("accepts the default policy", () => {
    expect(() => {
      validateCertificatePolicy(defaultCertificatePolicy);
    }).not.toThrow();
  });
  it.each([
    { description: "zero CA lifetime", change: { caValidityMs: 0 } },
    { description: "renewal fraction of 1", change: { renewAtFraction: 1 } },
    { description: "negative skew", change: { clockSkewMs: -1 } },
    {
      description: "serving certificates longer than a renewed CA's remaining life",
      change: { servingValidityMs: 200 * DAY },
    },
  ])("rejects $description", ({ change }) => {
    expect(() => {
      validateCertificatePolicy({ ...policy, ...change });
    }).toThrow(CertificatePolicyError);
  });
});
