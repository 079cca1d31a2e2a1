/**
 * The webhook as the controller runs it: certificates from the shared Secret (created or renewed
 * as needed), the CA bundle kept in the ValidatingWebhookConfiguration, and the HTTPS server,
 * whose certificate is swapped when the Secret's changes. Two loops, neither overlapping itself:
 * one for the certificates (wakes at the next renewal or propagation time, at the latest every
 * `certificateCheckIntervalMs`) and one that re-applies the CA bundle should anyone reset it.
 */
import { AdmissionregistrationV1Api, CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { X509Certificate } from "node:crypto";
import type { AddressInfo } from "node:net";
import { sleep, systemClock, type Clock } from "../runtime/clock.js";
import type { ListenAddress } from "../runtime/httpServer.js";
import type { Logger } from "../runtime/logger.js";
import { applyCABundle, DEFAULT_WEBHOOK_CONFIGURATION_NAME } from "./caBundle.js";
import {
  defaultCertificatePolicy,
  parseCertificates,
  serviceDNSNames,
  signedBy,
  validateCertificatePolicy,
  validityOf,
  type CertificatePolicy,
  type CertificateSet,
  type ServingIdentity,
} from "./certs.js";
import { ensureCertificates, kubeSecretAccess, type SecretAccess } from "./certSecret.js";
import { DEFAULT_WEBHOOK_SECRET_NAME, DEFAULT_WEBHOOK_SERVICE_NAME } from "./manifest.js";
import {
  startAdmissionServer,
  type AdmissionServer,
  type ConfigObjectsProvider,
  type DecisionRecord,
} from "./server.js";

export interface WebhookOptions {
  /** Where to listen (parse --webhook-addr with parseListenAddress). */
  readonly listen: ListenAddress;
  /** The IronLB namespace: holds the certificate Secret; configuration objects must live here. */
  readonly namespace: string;
  readonly kubeConfig: KubeConfig;
  /** The configuration objects in the cluster now, e.g. from the controller's informer caches. */
  readonly configObjects: ConfigObjectsProvider;
  /** Used as given: pass a child logger ({ component: "webhook" }) to tag the lines. */
  readonly logger: Logger;
  /** Aborting stops the webhook like close(). */
  readonly signal?: AbortSignal;
  /** Default ironlb-validating-webhook-configuration. */
  readonly webhookConfigurationName?: string;
  /** Default ironlb-webhook-cert. */
  readonly secretName?: string;
  /** The webhook Service, whose DNS names the certificate carries. Default ironlb-webhook-service. */
  readonly serviceName?: string;
  readonly clusterDomain?: string;
  /** More names for the certificate (e.g. "localhost"). */
  readonly extraDNSNames?: readonly string[];
  /** IP addresses for the certificate (e.g. "127.0.0.1" when the API server calls a URL). */
  readonly ipAddresses?: readonly string[];
  readonly certificatePolicy?: Partial<CertificatePolicy>;
  /** Longest time between two reads of the certificate Secret. Default 10 minutes. */
  readonly certificateCheckIntervalMs?: number;
  /** How often the CA bundle in the ValidatingWebhookConfiguration is checked. Default 10 s. */
  readonly caBundleCheckIntervalMs?: number;
  /** Wait after a failed Kubernetes call before trying again. Default 5 s. */
  readonly retryDelayMs?: number;
  readonly onDecision?: (outcome: DecisionRecord) => void;
  readonly clock?: Clock;
  /** Wall-clock time in ms since the epoch (certificate validity). Default Date.now. */
  readonly wallClock?: () => number;
  /** Replaces the Kubernetes Secret (tests). */
  readonly secretAccess?: SecretAccess;
}

export interface WebhookStatus {
  /** The serving certificate in use, when serving. */
  readonly serving?: { readonly serialNumber: string; readonly notAfter: string; readonly issuer: string };
  /** SHA-256 fingerprints of the trust bundle, current CA first. */
  readonly trustBundle: readonly string[];
  /** What the last CA bundle check found. */
  readonly caBundle: "unknown" | "applied" | "missing" | "error";
  readonly lastError?: string;
}

export interface Webhook {
  /**
   * Resolves once the server listens with a certificate that the ValidatingWebhookConfiguration
   * trusts (so the API server can call it); rejects if the webhook stops or cannot listen first.
   */
  readonly ready: Promise<void>;
  /** The bound address once listening. */
  address(): AddressInfo | undefined;
  status(): WebhookStatus;
  /** Stops the loops and the server. Idempotent. */
  close(): Promise<void>;
}

export class WebhookStoppedError extends Error {
  override readonly name = "WebhookStoppedError";
  readonly code = "ERR_WEBHOOK_STOPPED";
}

function describeServing(set: CertificateSet): WebhookStatus["serving"] {
  const [certificate] = parseCertificates(set.certPem) as [X509Certificate | undefined];
  if (certificate === undefined) return undefined;
  return {
    serialNumber: certificate.serialNumber,
    notAfter: certificate.validTo,
    issuer: certificate.issuer,
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Starts the webhook in the background; see Webhook for how to follow it. */
export function startWebhook(options: WebhookOptions): Webhook {
  const policy: CertificatePolicy = { ...defaultCertificatePolicy, ...options.certificatePolicy };
  validateCertificatePolicy(policy);
  const clock = options.clock ?? systemClock;
  const wallClock = options.wallClock ?? Date.now;
  const logger = options.logger;
  const configurationName = options.webhookConfigurationName ?? DEFAULT_WEBHOOK_CONFIGURATION_NAME;
  const identity: ServingIdentity = {
    dnsNames: [
      ...serviceDNSNames(
        options.serviceName ?? DEFAULT_WEBHOOK_SERVICE_NAME,
        options.namespace,
        options.clusterDomain,
      ),
      ...(options.extraDNSNames ?? []),
    ],
    ipAddresses: [...(options.ipAddresses ?? [])],
  };
  const access =
    options.secretAccess ??
    kubeSecretAccess(
      options.kubeConfig.makeApiClient(CoreV1Api),
      options.namespace,
      options.secretName ?? DEFAULT_WEBHOOK_SECRET_NAME,
    );
  const admissionApi = options.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  const certificateCheckMs = options.certificateCheckIntervalMs ?? 10 * 60_000;
  const caBundleCheckMs = options.caBundleCheckIntervalMs ?? 10_000;
  const retryMs = options.retryDelayMs ?? 5_000;

  const stop = new AbortController();
  const onOuterAbort = (): void => {
    stop.abort();
  };
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  if (options.signal?.aborted === true) stop.abort();
  const signal = stop.signal;

  let server: AdmissionServer | undefined;
  /** The set whose serving certificate the server presents. */
  let served: CertificateSet | undefined;
  /** The newest set read from the Secret (its trust bundle is what the caBundle must hold). */
  let latest: CertificateSet | undefined;
  /** The trust bundle last confirmed in the ValidatingWebhookConfiguration. */
  let appliedBundle: string | undefined;
  let caBundleState: WebhookStatus["caBundle"] = "unknown";
  let lastError: string | undefined;

  let markReady!: () => void;
  let failReady!: (error: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  // Callers that never await `ready` must not see an unhandled rejection.
  ready.catch(() => undefined);
  let isReady = false;

  /** Retries `step` until it succeeds or the webhook stops; undefined means stopped. */
  async function untilDone<T>(what: string, step: () => Promise<T>): Promise<T | undefined> {
    while (!signal.aborted) {
      try {
        return await step();
      } catch (error) {
        lastError = `${what}: ${errorText(error)}`;
        logger.warn({ err: error }, `webhook: ${what} failed, retrying`);
        if (!(await sleep(clock, retryMs, signal))) return undefined;
      }
    }
    return undefined;
  }

  async function readCertificates(): Promise<{ recheckAt: number } | undefined> {
    const ensured = await untilDone("storing certificates", () =>
      ensureCertificates({ access, identity, policy, now: wallClock, logger }),
    );
    if (ensured === undefined) return undefined;
    latest = ensured.set;
    return { recheckAt: ensured.plan.recheckAt };
  }

  /** Makes the caBundle hold the latest trust bundle; true when it does. */
  async function syncCABundle(): Promise<boolean> {
    if (latest === undefined) return false;
    try {
      const outcome = await applyCABundle(admissionApi, configurationName, latest.trustBundlePem);
      if (outcome.result === "missing") {
        if (caBundleState !== "missing") {
          logger.warn(
            { name: configurationName },
            "ValidatingWebhookConfiguration not found; will keep looking",
          );
        }
        caBundleState = "missing";
        return false;
      }
      if (outcome.result === "updated") {
        logger.info({ name: configurationName, webhooks: outcome.webhooks }, "CA bundle applied");
      }
      caBundleState = "applied";
      appliedBundle = latest.trustBundlePem;
      return true;
    } catch (error) {
      caBundleState = "error";
      lastError = `applying the CA bundle: ${errorText(error)}`;
      logger.warn({ err: error, name: configurationName }, "could not apply the CA bundle");
      return false;
    }
  }

  /**
   * Serves the latest serving certificate if it differs from the one in use, once the API server
   * trusts its CA (the bundle holding it was applied) or the one in use has expired anyway.
   */
  function serveLatest(): void {
    if (server === undefined || latest === undefined || served === undefined) return;
    if (latest.certPem === served.certPem && latest.keyPem === served.keyPem) return;
    const [next] = parseCertificates(latest.certPem);
    const [current] = parseCertificates(served.certPem);
    const trusted = parseCertificates(appliedBundle ?? "").some(
      (ca) => next !== undefined && signedBy(next, ca),
    );
    const currentExpired = current === undefined || validityOf(current).notAfter <= wallClock();
    if (!trusted && !currentExpired) {
      logger.debug("new webhook certificate waits until its CA is in the CA bundle");
      return;
    }
    server.setCertificate({ certPem: latest.certPem, keyPem: latest.keyPem });
    served = latest;
    logger.info({ serving: describeServing(latest) }, "webhook serving a new certificate");
  }

  async function certificateLoop(firstRecheckAt: number): Promise<void> {
    let recheckAt = firstRecheckAt;
    for (;;) {
      const wait = Math.min(Math.max(recheckAt - wallClock(), 0), certificateCheckMs);
      // Never spin: a plan due "now" (just written) is looked at again after a short pause.
      if (!(await sleep(clock, Math.max(wait, 100), signal))) return;
      const result = await readCertificates();
      if (result === undefined) return;
      recheckAt = result.recheckAt;
      // Trust first, then the certificate that needs it.
      await syncCABundle();
      serveLatest();
    }
  }

  async function caBundleLoop(): Promise<void> {
    for (;;) {
      const applied = await syncCABundle();
      if (applied) serveLatest();
      if (applied && !isReady) {
        isReady = true;
        markReady();
        logger.info({ name: configurationName }, "webhook ready");
      }
      if (!(await sleep(clock, caBundleCheckMs, signal))) return;
    }
  }

  async function run(): Promise<void> {
    const first = await readCertificates();
    if (first === undefined || latest === undefined) return;
    served = latest;
    server = await startAdmissionServer({
      listen: options.listen,
      certificate: { certPem: served.certPem, keyPem: served.keyPem },
      namespace: options.namespace,
      configObjects: options.configObjects,
      logger,
      ...(options.onDecision === undefined ? {} : { onDecision: options.onDecision }),
    });
    try {
      await Promise.all([certificateLoop(first.recheckAt), caBundleLoop()]);
    } finally {
      await server.close();
    }
  }

  const running = run().then(
    () => {
      failReady(new WebhookStoppedError("the webhook stopped before it was ready"));
    },
    (error: unknown) => {
      lastError = errorText(error);
      logger.error({ err: error }, "webhook failed");
      failReady(error);
    },
  );

  let closing: Promise<void> | undefined;
  return {
    ready,
    address: () => server?.address,
    status: () => {
      const serving = served === undefined ? undefined : describeServing(served);
      return {
        ...(serving === undefined ? {} : { serving }),
        trustBundle: parseCertificates(latest?.trustBundlePem ?? "").map((c) => c.fingerprint256),
        caBundle: caBundleState,
        ...(lastError === undefined ? {} : { lastError }),
      };
    },
    close: () => {
      closing ??= (async () => {
        stop.abort();
        options.signal?.removeEventListener("abort", onOuterAbort);
        await running;
      })();
      return closing;
    },
  };
}
