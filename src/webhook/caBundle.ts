/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment, @typescript-eslint/no-misused-spread --
   client-node models are plain data classes with no behaviour: copies by spread lose nothing. */
/**
 * Keeps the webhook's trust bundle in `clientConfig.caBundle` of every webhook of the IronLB
 * ValidatingWebhookConfiguration. A webhook's caBundle is left alone when it already trusts every
 * CA of the bundle: replicas whose view of the Secret lags a rotation (and so hold a subset of
 * the newest bundle) then never undo the newer replica's write.
 */
import {
  ApiException,
  type AdmissionregistrationV1Api,
  type V1ValidatingWebhookConfiguration,
} from "@kubernetes/client-node";
import { parseCertificates } from "./certs.js";

export const DEFAULT_WEBHOOK_CONFIGURATION_NAME = "ironlb-validating-webhook-configuration";

function fingerprints(pem: string): Set<string> {
  return new Set(parseCertificates(pem).map((certificate) => certificate.fingerprint256));
}

/** Whether a base64 caBundle trusts every CA of `bundlePem`. */
export function caBundleCovers(caBundleBase64: string | undefined, bundlePem: string): boolean {
  if (caBundleBase64 === undefined || caBundleBase64 === "") return false;
  const current = fingerprints(Buffer.from(caBundleBase64, "base64").toString("utf8"));
  const wanted = fingerprints(bundlePem);
  return wanted.size > 0 && [...wanted].every((fingerprint) => current.has(fingerprint));
}

/** Names of the webhooks whose caBundle lacks a CA of `bundlePem`. */
export function webhooksMissingBundle(
  configuration: V1ValidatingWebhookConfiguration,
  bundlePem: string,
): string[] {
  return (configuration.webhooks ?? [])
    .filter((webhook) => !caBundleCovers(webhook.clientConfig.caBundle, bundlePem))
    .map((webhook) => webhook.name);
}

/** A copy of `configuration` with `bundlePem` as the caBundle of every webhook that lacks it. */
export function withCABundle(
  configuration: V1ValidatingWebhookConfiguration,
  bundlePem: string,
): V1ValidatingWebhookConfiguration {
  const caBundle = Buffer.from(bundlePem, "utf8").toString("base64");
  return {
    ...configuration,
    webhooks: (configuration.webhooks ?? []).map((webhook) =>
      caBundleCovers(webhook.clientConfig.caBundle, bundlePem)
        ? webhook
        : { ...webhook, clientConfig: { ...webhook.clientConfig, caBundle } },
    ),
  };
}

export type CABundleOutcome =
  /** Every webhook already trusted the bundle. */
  | { readonly result: "unchanged" }
  | { readonly result: "updated"; readonly webhooks: readonly string[] }
  /** The ValidatingWebhookConfiguration does not exist (not installed yet, or removed). */
  | { readonly result: "missing" };

export class CABundleUpdateError extends Error {
  override readonly name = "CABundleUpdateError";
  readonly code = "ERR_WEBHOOK_CA_BUNDLE";
}

/**
 * Puts `bundlePem` into every webhook of ValidatingWebhookConfiguration `name` that does not trust
 * it yet. The write is a replace conditional on the resourceVersion read; a lost race re-reads.
 */
export async function applyCABundle(
  api: AdmissionregistrationV1Api,
  name: string,
  bundlePem: string,
  maxAttempts = 5,
): Promise<CABundleOutcome> {
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    let configuration: V1ValidatingWebhookConfiguration;
    try {
      configuration = await api.readValidatingWebhookConfiguration({ name });
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return { result: "missing" };
      throw error;
    }
    const missing = webhooksMissingBundle(configuration, bundlePem);
    if (missing.length === 0) return { result: "unchanged" };
    try {
      await api.replaceValidatingWebhookConfiguration({ name, body: withCABundle(configuration, bundlePem) });
      return { result: "updated", webhooks: missing };
    } catch (error) {
      if (error instanceof ApiException && error.code === 409) continue;
      if (error instanceof ApiException && error.code === 404) return { result: "missing" };
      throw error;
    }
  }
  throw new CABundleUpdateError(
    `could not update ValidatingWebhookConfiguration ${name} after ${maxAttempts} attempts: it kept changing`,
  );
}
