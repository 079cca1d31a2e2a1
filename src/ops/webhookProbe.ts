/**
 * The I/O half of the webhook check: finds IronLB's webhooks in the ValidatingWebhookConfigurations,
 * counts the ready endpoints of their Service, checks the serving certificate in the certificate
 * Secret against the caBundle, and, for a URL webhook, dials it with TLS verified by the caBundle.
 */
import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import tls from "node:tls";
import type { V1EndpointSlice, V1Service, V1ValidatingWebhookConfiguration } from "@kubernetes/client-node";
import { parseCertificates } from "../webhook/certs.js";
import type { WebhookCheck, WebhookDial } from "./clusterChecks.js";

const IRONLB_WEBHOOK_SUFFIX = ".validation.ironlb.io";

/** Whether one of the CAs in `bundlePem` issued and signed `certificatePem`. */
export function certificateChainsTo(certificatePem: string, bundlePem: string): boolean {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(certificatePem);
  } catch {
    return false;
  }
  return parseCertificates(bundlePem).some((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
}

const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNRESET",
  "EAI_AGAIN",
]);

/** A TLS handshake with `url`, trusting only `caPem`. */
export function dialWebhook(url: string, caPem: string, timeoutMs = 3000): Promise<WebhookDial> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, "");
  const port = Number(target.port === "" ? 443 : target.port);
  return new Promise((resolve) => {
    const socket = tls.connect({
      host,
      port,
      ca: caPem,
      ...(isIP(host) === 0 ? { servername: host } : {}),
    });
    const done = (result: WebhookDial): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => {
      done({ ok: false, kind: "unreachable", message: `no TLS handshake within ${String(timeoutMs)} ms` });
    });
    socket.once("secureConnect", () => {
      done({ ok: true });
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      const code = error.code ?? "";
      done({
        ok: false,
        kind: UNREACHABLE.has(code) ? "unreachable" : "certificate",
        message: `${code === "" ? "" : `${code}: `}${error.message}`,
      });
    });
  });
}

export interface WebhookProbeInputs {
  readonly configurations: readonly V1ValidatingWebhookConfiguration[];
  readonly services: readonly V1Service[];
  readonly endpointSlices: readonly V1EndpointSlice[];
  /** tls.crt of the webhook certificate Secret, when readable. */
  readonly servingCertificatePem: string | undefined;
  readonly certificateSource: string;
  readonly dial?: (url: string, caPem: string) => Promise<WebhookDial>;
}

function readyEndpoints(slices: readonly V1EndpointSlice[], namespace: string, name: string): number {
  let ready = 0;
  for (const slice of slices) {
    if (slice.metadata?.namespace !== namespace) continue;
    if (slice.metadata.labels?.["kubernetes.io/service-name"] !== name) continue;
    for (const ep of slice.endpoints) if (ep.conditions?.ready !== false) ready++;
  }
  return ready;
}

export async function probeWebhooks(inputs: WebhookProbeInputs): Promise<WebhookCheck[]> {
  const dial = inputs.dial ?? dialWebhook;
  const checks: WebhookCheck[] = [];
  for (const vwc of inputs.configurations) {
    const ours = (vwc.webhooks ?? []).filter((w) => w.name.endsWith(IRONLB_WEBHOOK_SUFFIX));
    // Webhooks of one configuration share a clientConfig as IronLB writes them; group by it anyway.
    const groups = new Map<string, typeof ours>();
    for (const w of ours) {
      const c = w.clientConfig;
      const id = `${c.url ?? ""}|${c.service?.namespace ?? ""}/${c.service?.name ?? ""}:${String(c.service?.port ?? 443)}|${c.caBundle ?? ""}`;
      groups.set(id, [...(groups.get(id) ?? []), w]);
    }
    for (const group of groups.values()) {
      const first = group[0];
      if (first === undefined) continue;
      const c = first.clientConfig;
      const caPem = c.caBundle === undefined ? "" : Buffer.from(c.caBundle, "base64").toString("utf8");
      const base = {
        configuration: vwc.metadata?.name ?? "",
        webhooks: group.map((w) => w.name),
        caBundlePresent: caPem.trim() !== "",
      };
      if (c.service !== undefined) {
        const { namespace, name } = c.service;
        const exists = inputs.services.some(
          (s) => s.metadata?.namespace === namespace && s.metadata.name === name,
        );
        const trusted =
          inputs.servingCertificatePem === undefined || caPem === ""
            ? undefined
            : certificateChainsTo(inputs.servingCertificatePem, caPem);
        checks.push({
          ...base,
          target: { kind: "service", namespace, name, port: c.service.port ?? 443 },
          serviceExists: exists,
          readyEndpoints: readyEndpoints(inputs.endpointSlices, namespace, name),
          ...(trusted === undefined
            ? {}
            : { certificateTrusted: trusted, certificateSource: inputs.certificateSource }),
        });
      } else if (c.url !== undefined) {
        checks.push({
          ...base,
          target: { kind: "url", url: c.url },
          ...(base.caBundlePresent ? { dial: await dial(c.url, caPem) } : {}),
        });
      }
    }
  }
  return checks;
}
