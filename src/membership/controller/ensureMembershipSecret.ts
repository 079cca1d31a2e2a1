/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
/**
 * Controller side of the membership keys: create the `ironlb-memberlist` Secret with a random
 * key when it is missing. Only `create` is used (a 409 means it exists), so the controller needs
 * no read access to it and never sees an existing key; a Secret made by hand is left alone.
 *
 * (In its own folder because src/membership/*.ts is the speaker's code for the RBAC check; this
 * call belongs to the controller, which holds `create` on Secrets in its namespace.)
 */
import { ApiException, type CoreV1Api } from "@kubernetes/client-node";
import { requestOptions } from "../../k8s/client.js";
import type { Logger } from "../../runtime/logger.js";
import { MEMBERSHIP_SECRET_NAME, newMembershipSecretData } from "../secret.js";

export type EnsureMembershipSecretResult = "created" | "exists";

export interface EnsureMembershipSecretOptions {
  readonly name?: string;
  readonly logger?: Logger;
  /** Random bytes; default node:crypto's. */
  readonly random?: (bytes: number) => Buffer;
  readonly signal?: AbortSignal;
}

const LABELS = {
  "app.kubernetes.io/name": "ironlb",
  "app.kubernetes.io/component": "membership",
  "app.kubernetes.io/managed-by": "ironlb-controller",
};

/** Creates the membership Secret in `namespace` unless it exists. Idempotent, safe to race. */
export async function ensureMembershipSecret(
  core: Pick<CoreV1Api, "createNamespacedSecret">,
  namespace: string,
  options: EnsureMembershipSecretOptions = {},
): Promise<EnsureMembershipSecretResult> {
  const name = options.name ?? MEMBERSHIP_SECRET_NAME;
  try {
    await core.createNamespacedSecret(
      {
        namespace,
        body: {
          metadata: { name, namespace, labels: LABELS },
          type: "Opaque",
          data: newMembershipSecretData(options.random),
        },
      },
      requestOptions({ signal: options.signal }),
    );
  } catch (error) {
    if (error instanceof ApiException && error.code === 409) return "exists";
    throw error;
  }
  options.logger?.info({ secretName: name, namespace }, "created the membership key Secret");
  return "created";
}
