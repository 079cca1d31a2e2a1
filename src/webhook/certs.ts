/**
 * The webhook's own PKI: a self-signed CA and a serving certificate it signs. What to do with the
 * certificates found in the Secret is a pure decision (`planCertificates`) over parsed certificates
 * and the wall-clock time; issuing is the only part that does cryptography.
 *
 * CA rotation without an outage: a new CA is published in the trust bundle (next to the previous
 * CA, which stays until it expires) before any serving certificate it signs is used. The serving
 * certificate moves to the new CA only once the CA is `trustPropagationMs` old, by which time the
 * API server has read the new caBundle. The Secret therefore needs only the current CA's key.
 */
import { createPrivateKey, generateKeyPair, randomBytes, X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { promisify } from "node:util";
import forge from "node-forge";

const generateKeyPairAsync = promisify(generateKeyPair);

const DAY_MS = 86_400_000;

export interface CertificatePolicy {
  /** Lifetime of a CA. */
  readonly caValidityMs: number;
  /** Lifetime of a serving certificate (never beyond its CA's). */
  readonly servingValidityMs: number;
  /** A certificate is renewed once this fraction of its lifetime has passed. */
  readonly renewAtFraction: number;
  /** notBefore is set this far in the past, so a peer whose clock lags still accepts it. */
  readonly clockSkewMs: number;
  /** How long a new CA sits in the trust bundle before serving certificates are signed by it. */
  readonly trustPropagationMs: number;
}

export const defaultCertificatePolicy: CertificatePolicy = {
  caValidityMs: 365 * DAY_MS,
  servingValidityMs: 90 * DAY_MS,
  renewAtFraction: 2 / 3,
  clockSkewMs: 5 * 60_000,
  trustPropagationMs: 60_000,
};

export class CertificatePolicyError extends Error {
  override readonly name = "CertificatePolicyError";
  readonly code = "ERR_WEBHOOK_CERT_POLICY";
}

export function validateCertificatePolicy(policy: CertificatePolicy): void {
  const positive: (keyof CertificatePolicy)[] = ["caValidityMs", "servingValidityMs"];
  for (const field of positive) {
    if (!(policy[field] > 0)) throw new CertificatePolicyError(`${field} must be positive`);
  }
  if (!(policy.renewAtFraction > 0 && policy.renewAtFraction < 1)) {
    throw new CertificatePolicyError("renewAtFraction must be between 0 and 1");
  }
  if (!(policy.clockSkewMs >= 0) || !(policy.trustPropagationMs >= 0)) {
    throw new CertificatePolicyError("clockSkewMs and trustPropagationMs must not be negative");
  }
  // A serving certificate issued late in a CA's life must still have a useful lifetime.
  if (policy.caValidityMs * (1 - policy.renewAtFraction) < policy.servingValidityMs) {
    throw new CertificatePolicyError(
      "a CA renewed at renewAtFraction must still outlive a full serving certificate: " +
        "caValidityMs * (1 - renewAtFraction) >= servingValidityMs",
    );
  }
}

/** The names a serving certificate must cover. */
export interface ServingIdentity {
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

/** The in-cluster names of the webhook Service (`svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.<domain>`). */
export function serviceDNSNames(
  serviceName: string,
  namespace: string,
  clusterDomain = "cluster.local",
): string[] {
  return [
    serviceName,
    `${serviceName}.${namespace}`,
    `${serviceName}.${namespace}.svc`,
    `${serviceName}.${namespace}.svc.${clusterDomain}`,
  ];
}

/** PEM texts as stored in the Secret. */
export interface CertificateSet {
  /** The current CA, which signs new serving certificates. */
  readonly caCertPem: string;
  readonly caKeyPem: string;
  /** Every CA the API server must trust: the current one first, then older unexpired ones. */
  readonly trustBundlePem: string;
  /** The serving certificate and its key. */
  readonly certPem: string;
  readonly keyPem: string;
}

/** Secret data keys (values base64 in the Secret, PEM once decoded). */
export const SECRET_KEYS = {
  caCert: "ca.crt",
  caKey: "ca.key",
  trustBundle: "ca-bundle.crt",
  cert: "tls.crt",
  key: "tls.key",
} as const;

export function certificateSetToSecretData(set: CertificateSet): Record<string, string> {
  const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");
  return {
    [SECRET_KEYS.caCert]: b64(set.caCertPem),
    [SECRET_KEYS.caKey]: b64(set.caKeyPem),
    [SECRET_KEYS.trustBundle]: b64(set.trustBundlePem),
    [SECRET_KEYS.cert]: b64(set.certPem),
    [SECRET_KEYS.key]: b64(set.keyPem),
  };
}

/** The PEM texts in a Secret's data; missing keys become "" (which plans treat as invalid). */
export function certificateSetFromSecretData(
  data: Readonly<Record<string, string>> | undefined,
): CertificateSet {
  const text = (key: string): string => {
    const value = data?.[key];
    return value === undefined ? "" : Buffer.from(value, "base64").toString("utf8");
  };
  return {
    caCertPem: text(SECRET_KEYS.caCert),
    caKeyPem: text(SECRET_KEYS.caKey),
    trustBundlePem: text(SECRET_KEYS.trustBundle),
    certPem: text(SECRET_KEYS.cert),
    keyPem: text(SECRET_KEYS.key),
  };
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Each certificate of a PEM bundle, parsed; unparseable blocks are skipped. */
export function parseCertificates(pem: string): X509Certificate[] {
  const certificates: X509Certificate[] = [];
  for (const block of pem.match(PEM_CERTIFICATE) ?? []) {
    try {
      certificates.push(new X509Certificate(block));
    } catch {
      // A damaged block is as good as absent.
    }
  }
  return certificates;
}

function parseOne(pem: string): X509Certificate | undefined {
  return parseCertificates(pem)[0];
}

export interface Validity {
  readonly notBefore: number;
  readonly notAfter: number;
}

export function validityOf(certificate: X509Certificate): Validity {
  return { notBefore: Date.parse(certificate.validFrom), notAfter: Date.parse(certificate.validTo) };
}

/** The instant after which a certificate with `validity` is due for renewal. */
export function renewalTime(validity: Validity, renewAtFraction: number): number {
  return validity.notBefore + (validity.notAfter - validity.notBefore) * renewAtFraction;
}

function keyMatches(certificate: X509Certificate, keyPem: string): boolean {
  if (keyPem === "") return false;
  try {
    return certificate.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/** Whether `certificate` names every DNS name and IP address of `identity`. */
export function coversIdentity(certificate: X509Certificate, identity: ServingIdentity): boolean {
  const names = subjectAltNames(certificate);
  return (
    identity.dnsNames.every((name) => names.dns.has(name.toLowerCase())) &&
    identity.ipAddresses.every((ip) => names.ip.has(normalizeIP(ip)))
  );
}

function normalizeIP(ip: string): string {
  // X509Certificate prints IPv6 SANs in full upper-case hex groups; compare canonical forms.
  if (isIP(ip) !== 6) return ip;
  const url = new URL(`http://[${ip}]/`);
  return url.hostname.slice(1, -1);
}

function subjectAltNames(certificate: X509Certificate): { dns: Set<string>; ip: Set<string> } {
  const dns = new Set<string>();
  const ip = new Set<string>();
  for (const entry of (certificate.subjectAltName ?? "").split(", ")) {
    if (entry.startsWith("DNS:")) dns.add(entry.slice(4).toLowerCase());
    else if (entry.startsWith("IP Address:")) ip.add(normalizeIP(entry.slice(11)));
  }
  return { dns, ip };
}

/** True when `child` names `issuer` as its issuer and carries a signature that `issuer`'s key verifies. */
export function signedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

export type CAPlan = { readonly action: "keep" } | { readonly action: "create"; readonly reason: string };

export type ServingPlan =
  | { readonly action: "keep" }
  /** Due for renewal, but the current CA is too new to sign with: renew at `until`. */
  | { readonly action: "wait"; readonly reason: string; readonly until: number }
  | { readonly action: "issue"; readonly reason: string };

export interface CertificatePlan {
  readonly ca: CAPlan;
  readonly serving: ServingPlan;
  /** When to look again even if nothing changes (the earliest renewal or propagation time). */
  readonly recheckAt: number;
}

/** Why the stored CA cannot be kept, or undefined when it can. */
function caProblem(set: CertificateSet, policy: CertificatePolicy, now: number): string | undefined {
  const ca = parseOne(set.caCertPem);
  if (ca === undefined) return "no CA certificate";
  if (!ca.ca) return "the CA certificate is not a CA";
  if (!keyMatches(ca, set.caKeyPem)) return "the CA key is missing or does not match the CA certificate";
  const validity = validityOf(ca);
  if (now < validity.notBefore) return "the CA certificate is not valid yet";
  if (now >= validity.notAfter) return "the CA certificate expired";
  if (now >= renewalTime(validity, policy.renewAtFraction)) return "the CA certificate is due for renewal";
  return undefined;
}

/** When a CA is old enough for the API server to have read the trust bundle that contains it. */
function trustedSince(ca: X509Certificate, policy: CertificatePolicy): number {
  return validityOf(ca).notBefore + policy.clockSkewMs + policy.trustPropagationMs;
}

/**
 * What to do with the stored certificates at wall-clock time `now` (ms since the epoch):
 * keep them, create a new CA (because the stored one is missing, broken or due) and/or issue a
 * new serving certificate (missing, broken, wrong names, not from the current CA, or due).
 * `set` undefined means the Secret does not exist.
 */
export function planCertificates(
  set: CertificateSet | undefined,
  identity: ServingIdentity,
  policy: CertificatePolicy,
  now: number,
): CertificatePlan {
  const stored = set ?? emptySet;
  const problem = caProblem(stored, policy, now);
  if (problem !== undefined) {
    // A new CA signs a serving certificate at once: the old chain is unusable or soon will be, and
    // a due-but-valid old CA keeps validating the current serving certificate meanwhile.
    const serving = servingProblem(stored, undefined, identity, policy, now);
    if (serving === undefined) {
      const until = now + policy.trustPropagationMs;
      return {
        ca: { action: "create", reason: problem },
        serving: { action: "wait", reason: "the serving certificate is signed by an older CA", until },
        recheckAt: until,
      };
    }
    return {
      ca: { action: "create", reason: problem },
      serving: { action: "issue", reason: serving },
      recheckAt: now,
    };
  }
  const ca = parseOne(stored.caCertPem) as X509Certificate;
  const caRenewal = renewalTime(validityOf(ca), policy.renewAtFraction);
  const serving = servingProblem(stored, ca, identity, policy, now);
  if (serving === undefined) {
    const cert = parseOne(stored.certPem) as X509Certificate;
    return {
      ca: { action: "keep" },
      serving: { action: "keep" },
      recheckAt: Math.min(caRenewal, renewalTime(validityOf(cert), policy.renewAtFraction)),
    };
  }
  const trustedAt = trustedSince(ca, policy);
  if (now < trustedAt && servingStillUsable(stored, now)) {
    return {
      ca: { action: "keep" },
      serving: { action: "wait", reason: serving, until: trustedAt },
      recheckAt: Math.min(caRenewal, trustedAt),
    };
  }
  return { ca: { action: "keep" }, serving: { action: "issue", reason: serving }, recheckAt: now };
}

const emptySet: CertificateSet = { caCertPem: "", caKeyPem: "", trustBundlePem: "", certPem: "", keyPem: "" };

/**
 * Why the stored serving certificate must be replaced, or undefined. With `ca` undefined (a new
 * CA is about to be created) only the certificate's own soundness is checked: undefined then
 * means it may keep serving until the new CA is trusted.
 */
function servingProblem(
  set: CertificateSet,
  ca: X509Certificate | undefined,
  identity: ServingIdentity,
  policy: CertificatePolicy,
  now: number,
): string | undefined {
  const cert = parseOne(set.certPem);
  if (cert === undefined) return "no serving certificate";
  if (!keyMatches(cert, set.keyPem)) return "the serving key is missing or does not match the certificate";
  if (!coversIdentity(cert, identity)) return "the serving certificate does not name every webhook address";
  const validity = validityOf(cert);
  if (now < validity.notBefore) return "the serving certificate is not valid yet";
  if (now >= validity.notAfter) return "the serving certificate expired";
  const trusted = parseCertificates(set.trustBundlePem);
  if (!trusted.some((issuer) => signedBy(cert, issuer) && validityOf(issuer).notAfter > now)) {
    return "the serving certificate is not signed by a trusted CA";
  }
  if (ca === undefined) return undefined;
  if (!signedBy(cert, ca)) return "the serving certificate is signed by an older CA";
  if (now >= renewalTime(validity, policy.renewAtFraction))
    return "the serving certificate is due for renewal";
  return undefined;
}

/** A stored serving certificate that is sound and unexpired (if not otherwise ideal). */
function servingStillUsable(set: CertificateSet, now: number): boolean {
  const cert = parseOne(set.certPem);
  if (cert === undefined || !keyMatches(cert, set.keyPem)) return false;
  const validity = validityOf(cert);
  const trusted = parseCertificates(set.trustBundlePem);
  return (
    now >= validity.notBefore &&
    now < validity.notAfter &&
    trusted.some((issuer) => signedBy(cert, issuer) && validityOf(issuer).notAfter > now)
  );
}

/**
 * The trust bundle with `currentCAPem` in it: the current CA first, then every other CA of the
 * old bundle that has not expired, each once.
 */
export function nextTrustBundle(oldBundlePem: string, currentCAPem: string, now: number): string {
  const seen = new Set<string>();
  const kept: string[] = [];
  for (const cert of [...parseCertificates(currentCAPem), ...parseCertificates(oldBundlePem)]) {
    if (seen.has(cert.fingerprint256) || validityOf(cert).notAfter <= now) continue;
    seen.add(cert.fingerprint256);
    kept.push(cert.toString());
  }
  return kept.join("");
}

/** Carries out `plan`: new keys and certificates where it says so, the rest kept from `set`. */
export async function applyCertificatePlan(
  set: CertificateSet | undefined,
  plan: CertificatePlan,
  identity: ServingIdentity,
  policy: CertificatePolicy,
  now: number,
): Promise<CertificateSet> {
  let result: CertificateSet = set ?? emptySet;
  if (plan.ca.action === "create") {
    const ca = await issueCA(policy, now);
    result = {
      ...result,
      caCertPem: ca.certPem,
      caKeyPem: ca.keyPem,
      trustBundlePem: nextTrustBundle(result.trustBundlePem, ca.certPem, now),
    };
  } else {
    result = { ...result, trustBundlePem: nextTrustBundle(result.trustBundlePem, result.caCertPem, now) };
  }
  if (plan.serving.action === "issue") {
    const serving = await issueServingCertificate(
      { certPem: result.caCertPem, keyPem: result.caKeyPem },
      identity,
      policy,
      now,
    );
    result = { ...result, certPem: serving.certPem, keyPem: serving.keyPem };
  }
  return result;
}

export interface KeyAndCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

async function newKeyPair(): Promise<{
  keyPem: string;
  forgePrivate: forge.pki.rsa.PrivateKey;
  forgePublic: forge.pki.rsa.PublicKey;
}> {
  // node:crypto generates the key (natively, off the event loop); node-forge only builds and
  // signs the certificate, which Node 20 cannot do.
  const { privateKey, publicKey } = await generateKeyPairAsync("rsa", { modulusLength: 2048 });
  const keyPem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  return {
    keyPem,
    forgePrivate: forge.pki.privateKeyFromPem(keyPem),
    forgePublic: forge.pki.publicKeyFromPem(publicKey.export({ format: "pem", type: "spki" }).toString()),
  };
}

/**
 * `text` with every character outside PrintableString replaced: forge encodes subject names as
 * PrintableString, and Go (the API server) refuses to parse a certificate whose names break it.
 */
export function printableString(text: string): string {
  return text.replace(/[^A-Za-z0-9 '()+,\-./:=?]/g, "-");
}

/** A random positive serial number, as hex. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString("hex");
}

/** A self-signed CA valid from `now - clockSkew` for `caValidityMs`. */
export async function issueCA(policy: CertificatePolicy, now: number): Promise<KeyAndCertificate> {
  const keys = await newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.forgePublic;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(now - policy.clockSkewMs);
  cert.validity.notAfter = new Date(now + policy.caValidityMs);
  // A distinct subject per CA keeps old and new CAs apart in the trust bundle.
  const subject = [
    { name: "organizationName", value: "IronLB" },
    { name: "commonName", value: printableString(`ironlb-webhook-ca-${Math.floor(now / 1000)}`) },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(keys.forgePrivate, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}

/** A serving certificate for `identity`, signed by `ca`, never outliving it. */
export async function issueServingCertificate(
  ca: KeyAndCertificate,
  identity: ServingIdentity,
  policy: CertificatePolicy,
  now: number,
): Promise<KeyAndCertificate> {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const keys = await newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.forgePublic;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(now - policy.clockSkewMs);
  cert.validity.notAfter = new Date(
    Math.min(now + policy.servingValidityMs, caCert.validity.notAfter.getTime()),
  );
  cert.setSubject([
    { name: "organizationName", value: "IronLB" },
    {
      name: "commonName",
      value: printableString(identity.dnsNames[0] ?? identity.ipAddresses[0] ?? "ironlb-webhook"),
    },
  ]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectKeyIdentifier" },
    { name: "authorityKeyIdentifier", keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
    {
      name: "subjectAltName",
      altNames: [
        ...identity.dnsNames.map((value) => ({ type: 2, value })),
        ...identity.ipAddresses.map((ip) => ({ type: 7, ip })),
      ],
    },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}
