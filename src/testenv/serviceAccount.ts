/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
import { ApiException, CoreV1Api, KubeConfig } from "@kubernetes/client-node";

export interface ServiceAccountTokenOptions {
  /** Create the ServiceAccount when it does not exist (its namespace must exist); default true. */
  readonly create?: boolean;
  /** Token lifetime; default one hour (the API server's minimum is ten minutes). */
  readonly expirationSeconds?: number;
  /** Default: the API server's own audience. */
  readonly audiences?: readonly string[];
}

/** The user name Kubernetes gives a ServiceAccount's tokens (what RBAC subjects match). */
export const serviceAccountUser = (namespace: string, name: string): string =>
  `system:serviceaccount:${namespace}:${name}`;

/**
 * A bearer token for ServiceAccount `namespace/name` from the TokenRequest API, asked with the
 * identity of `adminKubeconfigPath` (any process holding the test control plane's admin
 * kubeconfig can call this, e.g. to run a controller under the RBAC a deployment grants it).
 */
export async function requestServiceAccountToken(
  adminKubeconfigPath: string,
  namespace: string,
  name: string,
  options: ServiceAccountTokenOptions = {},
): Promise<string> {
  const config = new KubeConfig();
  config.loadFromFile(adminKubeconfigPath);
  const core = config.makeApiClient(CoreV1Api);
  if (options.create !== false) {
    try {
      await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 409)) throw err;
    }
  }
  const response = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    // No audiences means the API server's own.
    body: {
      spec: {
        expirationSeconds: options.expirationSeconds ?? 3600,
        audiences: [...(options.audiences ?? [])],
      },
    },
  });
  const token = response.status?.token;
  if (token === undefined || token === "")
    throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  return token;
}
