/**
 * kube-proxy's IPVS mode, as far as the lab needs it: every LoadBalancer IP of every Service sits
 * on a local interface of every node (kube-proxy uses kube-ipvs0; the lab's kernel has no dummy
 * links, so lo). Pure part: which addresses lo should hold and the `ip -batch` lines that get there.
 */
import type { V1Service } from "@kubernetes/client-node";
import { canonicalIP, tryParseIP } from "../net/ip.js";

/** Addresses lo always keeps. */
const LOOPBACK = new Set(["127.0.0.1", "::1"]);

/** The LoadBalancer ingress IPs of `services` (type LoadBalancer only), canonical text, sorted. */
export function desiredVips(services: readonly V1Service[]): string[] {
  const vips = new Set<string>();
  for (const service of services) {
    if (service.spec?.type !== "LoadBalancer") continue;
    for (const ingress of service.status?.loadBalancer?.ingress ?? []) {
      const text = ingress.ip;
      if (text === undefined || tryParseIP(text) === undefined) continue;
      vips.add(canonicalIP(text));
    }
  }
  return [...vips].sort();
}

export interface VipChanges {
  readonly add: readonly string[];
  readonly remove: readonly string[];
}

/** What to change on lo, given what it holds now (loopback addresses are never touched). */
export function vipChanges(current: readonly string[], desired: readonly string[]): VipChanges {
  const have = new Set(current.filter((address) => !LOOPBACK.has(address)).map(canonicalIP));
  const want = new Set(desired);
  return {
    add: [...want].filter((address) => !have.has(address)),
    remove: [...have].filter((address) => !want.has(address)),
  };
}

const hostPrefix = (address: string): string => `${address}/${address.includes(":") ? 128 : 32}`;

/** Lines for `ip -batch -` that apply `changes` to lo (IPv6 without DAD: usable at once). */
export function vipBatch(changes: VipChanges): string[] {
  return [
    ...changes.remove.map((address) => `address del ${hostPrefix(address)} dev lo`),
    ...changes.add.map(
      (address) => `address add ${hostPrefix(address)} dev lo${address.includes(":") ? " nodad" : ""}`,
    ),
  ];
}
