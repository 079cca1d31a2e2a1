/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
/**
 * The webhook certificates live in one Secret in the IronLB namespace, so every controller replica
 * serves the same certificate and the caBundle has one answer. Writes are conditional (create
 * fails if the Secret appeared meanwhile, replace carries the resourceVersion that was read): when
 * two replicas race, one wins and the other re-reads and, normally, keeps what the winner wrote.
 */
import { ApiException, type CoreV1Api, type V1Secret } from "@kubernetes/client-node";
import type { Logger } from "../runtime/logger.js";
import {
  applyCertificatePlan,
  certificateSetFromSecretData,
  certificateSetToSecretData,
  planCertificates,
  type CertificatePlan,
  type CertificatePolicy,
  type CertificateSet,
  type ServingIdentity,
} from "./certs.js";

export interface StoredSecret {
  readonly data: Readonly<Record<string, string>>;
  readonly resourceVersion: string;
}

/** Conditional access to the one certificate Secret; the seam unit tests replace. */
export interface SecretAccess {
  read(): Promise<StoredSecret | undefined>;
  /** Throws SecretWriteConflict when the Secret exists already. */
  create(data: Record<string, string>): Promise<void>;
  /** Throws SecretWriteConflict when the Secret changed since `resourceVersion` (or is gone). */
  replace(data: Record<string, string>, resourceVersion: string): Promise<void>;
}

export class SecretWriteConflict extends Error {
  override readonly name = "SecretWriteConflict";
  readonly code = "ERR_WEBHOOK_SECRET_CONFLICT";
}

export class CertificateSecretError extends Error {
  override readonly name = "CertificateSecretError";
  readonly code = "ERR_WEBHOOK_CERT_SECRET";
}

const SECRET_LABELS = {
  "app.kubernetes.io/name": "ironlb",
  "app.kubernetes.io/component": "webhook",
  "app.kubernetes.io/managed-by": "ironlb-controller",
};

/** SecretAccess over the Kubernetes API. */
export function kubeSecretAccess(core: CoreV1Api, namespace: string, name: string): SecretAccess {
  const isConflict = (error: unknown): boolean =>
    error instanceof ApiException && (error.code === 409 || error.code === 404);
  return {
    async read() {
      let secret: V1Secret;
      try {
        secret = await core.readNamespacedSecret({ namespace, name });
      } catch (error) {
        if (error instanceof ApiException && error.code === 404) return undefined;
        throw error;
      }
      return { data: secret.data ?? {}, resourceVersion: secret.metadata?.resourceVersion ?? "" };
    },
    async create(data) {
      try {
        await core.createNamespacedSecret({
          namespace,
          body: { metadata: { name, namespace, labels: SECRET_LABELS }, type: "Opaque", data },
        });
      } catch (error) {
        if (error instanceof ApiException && error.code === 409) {
          throw new SecretWriteConflict(`Secret ${namespace}/${name} was created by someone else`);
        }
        throw error;
      }
    },
    async replace(data, resourceVersion) {
      try {
        await core.replaceNamespacedSecret({
          namespace,
          name,
          body: {
            metadata: { name, namespace, labels: SECRET_LABELS, resourceVersion },
            type: "Opaque",
            data,
          },
        });
      } catch (error) {
        if (isConflict(error)) {
          throw new SecretWriteConflict(`Secret ${namespace}/${name} changed since it was read`);
        }
        throw error;
      }
    },
  };
}

export interface EnsureCertificatesOptions {
  readonly access: SecretAccess;
  readonly identity: ServingIdentity;
  readonly policy: CertificatePolicy;
  /** Wall-clock time, ms since the epoch. */
  readonly now: () => number;
  readonly logger?: Logger;
  /** Attempts before giving up when other writers keep winning. */
  readonly maxAttempts?: number;
}

export interface EnsuredCertificates {
  readonly set: CertificateSet;
  /** The plan for the stored set after any write: says when to look again. */
  readonly plan: CertificatePlan;
  /** Whether this call wrote the Secret. */
  readonly wrote: boolean;
}

/**
 * Reads the certificate Secret, creates or renews what the plan asks for and writes it back
 * conditionally, retrying on a lost race. Returns the certificates now stored.
 */
export async function ensureCertificates(options: EnsureCertificatesOptions): Promise<EnsuredCertificates> {
  const { access, identity, policy, now, logger } = options;
  const maxAttempts = options.maxAttempts ?? 5;
  let wrote = false;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const stored = await access.read();
    const set = stored === undefined ? undefined : certificateSetFromSecretData(stored.data);
    const time = now();
    const plan = planCertificates(set, identity, policy, time);
    if (plan.ca.action === "keep" && plan.serving.action !== "issue") {
      return { set: set as CertificateSet, plan, wrote };
    }
    const next = await applyCertificatePlan(set, plan, identity, policy, time);
    const data = certificateSetToSecretData(next);
    try {
      if (stored === undefined) await access.create(data);
      else await access.replace(data, stored.resourceVersion);
    } catch (error) {
      if (error instanceof SecretWriteConflict) {
        logger?.debug(
          { attempt, reason: error.message },
          "webhook certificate write lost a race, re-reading",
        );
        continue;
      }
      throw error;
    }
    wrote = true;
    logger?.info(
      {
        ca: plan.ca.action === "create" ? plan.ca.reason : "kept",
        serving: plan.serving.action === "issue" ? plan.serving.reason : plan.serving.action,
      },
      "webhook certificates written",
    );
    // Loop once more: the re-read confirms the write and yields the plan for what is stored.
  }
  throw new CertificateSecretError(
    `could not store the webhook certificates after ${maxAttempts} attempts: other writers kept changing the Secret`,
  );
}
