/**
 * IPAddressPool.status: address counts written by the controller, compared with what the pool
 * object shows so that only changes are written.
 */
import type { PoolStats } from "../ipam/allocator.js";

/** The status subresource's fields; int64 in the CRD, so counts above 2^63-1 are capped there. */
export interface PoolStatusCounts {
  readonly assignedIPv4: bigint;
  readonly assignedIPv6: bigint;
  readonly availableIPv4: bigint;
  readonly availableIPv6: bigint;
}

export const INT64_MAX = (1n << 63n) - 1n;

const cap = (n: bigint): bigint => (n > INT64_MAX ? INT64_MAX : n);

export function poolStatusCounts(stats: PoolStats): PoolStatusCounts {
  return {
    assignedIPv4: cap(stats.assignedIPv4),
    assignedIPv6: cap(stats.assignedIPv6),
    availableIPv4: cap(stats.availableIPv4),
    availableIPv6: cap(stats.availableIPv6),
  };
}

const FIELDS = ["assignedIPv4", "assignedIPv6", "availableIPv4", "availableIPv6"] as const;

/** Reads counts from a pool object's status as the API returned it (numbers, possibly absent). */
function currentCount(status: unknown, field: (typeof FIELDS)[number]): bigint | undefined {
  if (typeof status !== "object" || status === null) return undefined;
  const value = (status as Record<string, unknown>)[field];
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  if (typeof value === "bigint") return value;
  if (typeof value === "string" && /^\d+$/.test(value)) return BigInt(value);
  return undefined;
}

/**
 * Whether the status differs. A count above 2^53 cannot survive a JavaScript number exactly, so
 * two such counts are compared at double precision (the decoded value is all we can see).
 */
export function poolStatusDiffers(current: unknown, wanted: PoolStatusCounts): boolean {
  return FIELDS.some((field) => {
    const have = currentCount(current, field);
    if (have === undefined) return true;
    const want = wanted[field];
    return want > BigInt(Number.MAX_SAFE_INTEGER) ? Number(have) !== Number(want) : have !== want;
  });
}

/**
 * The status as JSON text with exact integers (JSON.stringify cannot write a bigint, and a double
 * would round 2^63-1 beyond int64).
 */
export function poolStatusJSON(counts: PoolStatusCounts): string {
  return `{${FIELDS.map((f) => `"${f}":${counts[f].toString()}`).join(",")}}`;
}
