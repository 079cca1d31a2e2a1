// The validating admission webhook: what the controller starts and what the installer renders.
export { startWebhook, WebhookStoppedError } from "./webhook.js";
export type { Webhook, WebhookOptions, WebhookStatus } from "./webhook.js";
export type { ConfigObjectsProvider, DecisionRecord } from "./server.js";
export { VALIDATE_PATH } from "./server.js";
export {
  DEFAULT_WEBHOOK_SECRET_NAME,
  DEFAULT_WEBHOOK_SERVICE_NAME,
  loopbackWebhookConfiguration,
  validatingWebhookConfiguration,
  webhookName,
} from "./manifest.js";
export type { WebhookManifestOptions } from "./manifest.js";
export { DEFAULT_WEBHOOK_CONFIGURATION_NAME } from "./caBundle.js";
export { defaultCertificatePolicy } from "./certs.js";
export type { CertificatePolicy } from "./certs.js";
