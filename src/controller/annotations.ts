/**
 * The Service annotations IronLB reads and writes. Users write `ironlb.io/…`; Services migrated
 * from MetalLB carry `metallb.io/…` or the older `metallb.universe.tf/…` with the same suffix.
 * When several are present IronLB's wins, then metallb.io, then metallb.universe.tf.
 */

export const IRONLB_PREFIX = "ironlb.io/";
const READ_PREFIXES = [IRONLB_PREFIX, "metallb.io/", "metallb.universe.tf/"] as const;

export const ADDRESS_POOL = "address-pool";
export const LOAD_BALANCER_IPS = "loadBalancerIPs";
export const ALLOW_SHARED_IP = "allow-shared-ip";

/** Written by the controller: the pool the Service's addresses came from. */
export const ALLOCATED_FROM_POOL_ANNOTATION = `${IRONLB_PREFIX}ip-allocated-from-pool`;

export interface AnnotationValue {
  readonly value: string;
  /** The full annotation name the value came from. */
  readonly from: string;
}

/** The value of `suffix` under the highest-precedence prefix present (empty values count as absent). */
export function readAnnotation(
  annotations: Readonly<Record<string, string>> | undefined,
  suffix: string,
): AnnotationValue | undefined {
  if (annotations === undefined) return undefined;
  for (const prefix of READ_PREFIXES) {
    const name = prefix + suffix;
    const value = annotations[name]?.trim();
    if (value !== undefined && value !== "") return { value, from: name };
  }
  return undefined;
}

/** Comma-separated address list as users write it ("192.0.2.1, 2001:db8::1"). */
export function splitAddressList(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}
