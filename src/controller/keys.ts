/**
 * Work-queue keys. One queue carries three kinds of work so that a single set of workers (and a
 * single leadership term) drives everything the controller writes.
 */

export const CONFIG_KEY = "config";
const SERVICE_PREFIX = "service/";
const POOL_PREFIX = "pool/";

export type WorkKey =
  | { readonly kind: "config" }
  | {
      readonly kind: "service";
      readonly namespace: string;
      readonly name: string;
      readonly serviceKey: string;
    }
  | { readonly kind: "pool"; readonly name: string };

export const serviceWorkKey = (serviceKey: string): string => SERVICE_PREFIX + serviceKey;
export const poolWorkKey = (pool: string): string => POOL_PREFIX + pool;

export class UnknownWorkKeyError extends Error {
  override readonly name = "UnknownWorkKeyError";
  readonly code = "UNKNOWN_WORK_KEY";
}

export function parseWorkKey(key: string): WorkKey {
  if (key === CONFIG_KEY) return { kind: "config" };
  if (key.startsWith(POOL_PREFIX)) return { kind: "pool", name: key.slice(POOL_PREFIX.length) };
  if (key.startsWith(SERVICE_PREFIX)) {
    const serviceKey = key.slice(SERVICE_PREFIX.length);
    const slash = serviceKey.indexOf("/");
    if (slash > 0) {
      return {
        kind: "service",
        namespace: serviceKey.slice(0, slash),
        name: serviceKey.slice(slash + 1),
        serviceKey,
      };
    }
  }
  throw new UnknownWorkKeyError(`unknown work key "${key}"`);
}
