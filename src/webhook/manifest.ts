/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
/**
 * The ValidatingWebhookConfiguration that sends IronLB configuration changes to the webhook: one
 * webhook per kind (so a rejection names the kind), all on the same path. In a cluster it points
 * at the webhook Service; tests point it at a URL on loopback.
 */
import type { V1ValidatingWebhookConfiguration } from "@kubernetes/client-node";
import { IRONLB_API_VERSION } from "../api/schema/common.js";
import { VALIDATED_KINDS } from "./admission.js";
import { DEFAULT_WEBHOOK_CONFIGURATION_NAME } from "./caBundle.js";
import { VALIDATE_PATH } from "./server.js";

export const DEFAULT_WEBHOOK_SERVICE_NAME = "ironlb-webhook-service";
export const DEFAULT_WEBHOOK_SECRET_NAME = "ironlb-webhook-cert";

const [GROUP, VERSION] = IRONLB_API_VERSION.split("/") as [string, string];

export interface WebhookManifestOptions {
  /** The IronLB namespace (where the webhook Service runs). */
  readonly namespace: string;
  readonly name?: string;
  readonly serviceName?: string;
  readonly servicePort?: number;
  /** Call this URL instead of the Service (tests, or a webhook outside the cluster). */
  readonly url?: string;
  /** PEM; usually left out, the controller fills it in at run time. */
  readonly caBundlePem?: string;
  readonly failurePolicy?: "Fail" | "Ignore";
  readonly timeoutSeconds?: number;
}

/** The name of the webhook for `kind`, e.g. `ipaddresspool.validation.ironlb.io`. */
export function webhookName(kind: string): string {
  return `${kind.toLowerCase()}.validation.${GROUP}`;
}

export function validatingWebhookConfiguration(
  options: WebhookManifestOptions,
): V1ValidatingWebhookConfiguration {
  const clientConfig = {
    ...(options.url === undefined
      ? {
          service: {
            namespace: options.namespace,
            name: options.serviceName ?? DEFAULT_WEBHOOK_SERVICE_NAME,
            path: VALIDATE_PATH,
            port: options.servicePort ?? 443,
          },
        }
      : { url: options.url }),
    ...(options.caBundlePem === undefined
      ? {}
      : { caBundle: Buffer.from(options.caBundlePem, "utf8").toString("base64") }),
  };
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: {
      name: options.name ?? DEFAULT_WEBHOOK_CONFIGURATION_NAME,
      labels: { "app.kubernetes.io/name": "ironlb", "app.kubernetes.io/component": "webhook" },
    },
    webhooks: VALIDATED_KINDS.map((def) => ({
      name: webhookName(def.kind),
      admissionReviewVersions: ["v1"],
      sideEffects: "None",
      failurePolicy: options.failurePolicy ?? "Fail",
      matchPolicy: "Equivalent",
      timeoutSeconds: options.timeoutSeconds ?? 10,
      clientConfig,
      rules: [
        {
          apiGroups: [GROUP],
          apiVersions: [VERSION],
          operations: ["CREATE", "UPDATE", "DELETE"],
          resources: [def.plural],
          scope: "Namespaced",
        },
      ],
    })),
  };
}

/** The test variant: the webhook on loopback at `port`. */
export function loopbackWebhookConfiguration(
  port: number,
  options: Omit<WebhookManifestOptions, "url"> & { readonly host?: string },
): V1ValidatingWebhookConfiguration {
  const host = options.host ?? "127.0.0.1";
  const authority = host.includes(":") ? `[${host}]` : host;
  return validatingWebhookConfiguration({ ...options, url: `https://${authority}:${port}${VALIDATE_PATH}` });
}
