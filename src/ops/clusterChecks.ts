/**
 * Cluster-wide traps, each a pure function of listed objects (and, for the webhook, the result of
 * a TLS dial done by the CLI): kube-proxy IPVS without strictARP, an invalid IronLB configuration,
 * pools claiming the same addresses (IronLB's own, MetalLB CRs, MetalLB's legacy ConfigMap), and
 * an unreachable or mistrusted webhook.
 */
import { parse } from "yaml";
import type { ConfigError } from "../api/configError.js";
import type { CustomObject } from "../controller/objects.js";
import { formatRange, parseAddressRange, rangesOverlap, type IPRange } from "../net/ip.js";
import type { ConfigMapObject } from "./cluster.js";
import type { Finding } from "./findings.js";

// ── kube-proxy ──────────────────────────────────────────────────────────────────────────────

/**
 * kube-proxy in IPVS mode puts every VIP on kube-ipvs0 of every node; without strictARP every
 * node then answers ARP for every VIP and Layer 2 failover cannot work.
 */
export function kubeProxyFindings(configMap: ConfigMapObject | undefined): Finding[] {
  const text = configMap?.data?.["config.conf"];
  if (text === undefined) return [];
  let conf: unknown;
  try {
    conf = parse(text);
  } catch {
    return [];
  }
  if (typeof conf !== "object" || conf === null) return [];
  const record = conf as { mode?: unknown; ipvs?: { strictARP?: unknown } | null };
  if (record.mode !== "ipvs") return [];
  const strict = record.ipvs?.strictARP;
  if (strict === true) return [];
  return [
    {
      severity: "error",
      code: "KubeProxyStrictARP",
      title: "kube-proxy runs in IPVS mode without strictARP: every node answers ARP for every VIP",
      evidence: [
        "ConfigMap kube-system/kube-proxy config.conf mode: ipvs",
        `ConfigMap kube-system/kube-proxy config.conf ipvs.strictARP: ${strict === undefined ? "(unset)" : JSON.stringify(strict)}`,
      ],
      fix: "set ipvs.strictARP: true in ConfigMap kube-system/kube-proxy (key config.conf) and restart the kube-proxy pods",
    },
  ];
}

// ── configuration ───────────────────────────────────────────────────────────────────────────

export function configFindings(errors: readonly ConfigError[]): Finding[] {
  return errors.map((e) => ({
    severity: "error" as const,
    code: "ConfigInvalid",
    title: `the IronLB configuration is invalid: ${e.kind} "${e.name}" ${e.path}`,
    evidence: [e.toString()],
    fix: `correct ${e.path} of ${e.kind} "${e.name}" (${e.message}); until then the controller keeps its last good configuration and new Services stay pending`,
  }));
}

// ── overlapping pools ───────────────────────────────────────────────────────────────────────

/** Addresses one pool definition claims. */
export interface PoolClaim {
  /** Who claims them, e.g. `IronLB IPAddressPool ironlb-system/lan`. */
  readonly owner: string;
  readonly ranges: readonly IPRange[];
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function parseRanges(texts: readonly string[]): IPRange[] {
  const out: IPRange[] = [];
  for (const t of texts) {
    try {
      out.push(parseAddressRange(t.trim(), false));
    } catch {
      // An unparsable entry is a configuration error, reported by validation.
    }
  }
  return out;
}

/** Claims of IPAddressPool objects (IronLB's or MetalLB's CRs): spec.addresses. */
export function poolClaimsFromObjects(
  objects: readonly CustomObject[],
  product: "IronLB" | "MetalLB",
): PoolClaim[] {
  return objects
    .filter((o) => o.kind === "IPAddressPool")
    .map((o) => ({
      owner: `${product} IPAddressPool ${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`,
      ranges: parseRanges(stringList((o.spec as { addresses?: unknown } | undefined)?.addresses)),
    }));
}

/** Claims of MetalLB's legacy ConfigMap: data.config address-pools[].addresses. */
export function poolClaimsFromLegacyConfigMap(configMap: ConfigMapObject | undefined): PoolClaim[] {
  const text = configMap?.data?.config;
  if (text === undefined) return [];
  let config: unknown;
  try {
    config = parse(text);
  } catch {
    return [];
  }
  const pools = (config as { "address-pools"?: unknown } | null)?.["address-pools"];
  if (!Array.isArray(pools)) return [];
  const where = `${configMap?.metadata?.namespace ?? ""}/${configMap?.metadata?.name ?? ""}`;
  return pools.map((p: unknown, i) => {
    const record = (typeof p === "object" && p !== null ? p : {}) as { name?: unknown; addresses?: unknown };
    const name = typeof record.name === "string" ? record.name : `#${String(i)}`;
    return {
      owner: `MetalLB ConfigMap ${where} address-pools[${String(i)}] (${name})`,
      ranges: parseRanges(stringList(record.addresses)),
    };
  });
}

export function overlapFindings(claims: readonly PoolClaim[]): Finding[] {
  const findings: Finding[] = [];
  for (let i = 0; i < claims.length; i++) {
    for (let j = i + 1; j < claims.length; j++) {
      const a = claims[i];
      const b = claims[j];
      if (a === undefined || b === undefined) continue;
      const pairs: string[] = [];
      for (const ra of a.ranges) {
        for (const rb of b.ranges) {
          if (ra.family === rb.family && rangesOverlap(ra, rb))
            pairs.push(`${formatRange(ra)} and ${formatRange(rb)}`);
        }
      }
      if (pairs.length === 0) continue;
      const metallb = a.owner.startsWith("MetalLB") || b.owner.startsWith("MetalLB");
      findings.push({
        severity: "error",
        code: "OverlappingPools",
        title: `${a.owner} and ${b.owner} claim the same addresses`,
        evidence: [
          `${a.owner} spec.addresses: ${a.ranges.map(formatRange).join(", ")}`,
          `${b.owner} spec.addresses: ${b.ranges.map(formatRange).join(", ")}`,
          `overlap: ${pairs.join("; ")}`,
        ],
        fix: metallb
          ? "two load balancers would hand out and answer for the same addresses: uninstall MetalLB (after `ironlb migrate`) or remove the overlapping range from one side"
          : "remove the overlapping range from one of the pools (each address may belong to one pool only)",
      });
    }
  }
  return findings;
}

// ── webhook ─────────────────────────────────────────────────────────────────────────────────

export type WebhookDial =
  | { readonly ok: true }
  | { readonly ok: false; readonly kind: "unreachable" | "certificate"; readonly message: string };

/** What the CLI found out about one IronLB webhook endpoint. */
export interface WebhookCheck {
  /** ValidatingWebhookConfiguration name. */
  readonly configuration: string;
  /** Webhook names sharing this clientConfig. */
  readonly webhooks: readonly string[];
  readonly target:
    | { readonly kind: "service"; readonly namespace: string; readonly name: string; readonly port: number }
    | { readonly kind: "url"; readonly url: string };
  /** Service target: whether the Service exists and its ready endpoints (from EndpointSlices). */
  readonly serviceExists?: boolean;
  readonly readyEndpoints?: number;
  /** Service target: whether the serving certificate (from its Secret) chains to the caBundle; undefined: unknown. */
  readonly certificateTrusted?: boolean;
  readonly certificateSource?: string;
  /** URL target: the result of a TLS dial verified with the caBundle. */
  readonly dial?: WebhookDial;
  readonly caBundlePresent: boolean;
}

export function webhookFindings(checks: readonly WebhookCheck[]): Finding[] {
  const findings: Finding[] = [];
  for (const c of checks) {
    const where = `ValidatingWebhookConfiguration ${c.configuration} webhooks[${c.webhooks.join(", ")}].clientConfig`;
    if (c.target.kind === "service") {
      const svc = `${c.target.namespace}/${c.target.name}`;
      if (c.serviceExists === false || c.readyEndpoints === 0) {
        findings.push({
          severity: "error",
          code: "WebhookUnreachable",
          title: `the IronLB webhook is unreachable: Service ${svc} ${c.serviceExists === false ? "does not exist" : "has no ready endpoints"}`,
          evidence: [
            `${where}.service: ${svc}:${String(c.target.port)}`,
            c.serviceExists === false
              ? `Service ${svc}: not found`
              : `EndpointSlices of Service ${svc}: 0 ready endpoints`,
          ],
          fix: "start the IronLB controller (it serves the webhook) or fix its Service selector; until then every change to IronLB objects is refused",
        });
      }
    } else if (c.dial !== undefined && !c.dial.ok) {
      findings.push({
        severity: "error",
        code: c.dial.kind === "unreachable" ? "WebhookUnreachable" : "WebhookCertificateMismatch",
        title:
          c.dial.kind === "unreachable"
            ? `the IronLB webhook at ${c.target.url} is unreachable`
            : `the IronLB webhook's certificate at ${c.target.url} does not match its caBundle`,
        evidence: [`${where}.url: ${c.target.url}`, `TLS dial: ${c.dial.message}`],
        fix:
          c.dial.kind === "unreachable"
            ? "start the IronLB controller's webhook server or correct clientConfig.url"
            : "restart the controller so it re-applies its CA bundle, or set clientConfig.caBundle to the CA that signed the serving certificate",
      });
    }
    if (!c.caBundlePresent) {
      findings.push({
        severity: "error",
        code: "WebhookCertificateMismatch",
        title: "the IronLB webhook has no caBundle: the API server cannot verify it",
        evidence: [`${where}.caBundle: (empty)`],
        fix: "let the controller inject its CA (it does so at start) or set clientConfig.caBundle",
      });
    } else if (c.certificateTrusted === false) {
      findings.push({
        severity: "error",
        code: "WebhookCertificateMismatch",
        title: "the IronLB webhook's serving certificate does not chain to the caBundle",
        evidence: [
          `${where}.caBundle: does not contain the issuer of ${c.certificateSource ?? "the serving certificate"}`,
        ],
        fix: "restart the controller so it re-applies its CA bundle, or delete the certificate Secret so it is issued again",
      });
    }
  }
  return findings;
}
