/**
 * The announcer's set difference, as a pure function: from what is active now (sockets per
 * interface and family, addresses per interface) and what should be, the sockets to close and
 * open and the addresses that stop or start being ours on each interface. The announcer
 * (announcer.ts) applies a plan in order: removals, closes, opens, additions.
 */
import { formatIP, type IPAddr } from "../net/ip.js";
import type { MacAddress } from "./codec/mac.js";

/** The interface a responder socket is bound to, as far as the answers depend on it. */
export interface AnnouncerLink {
  readonly name: string;
  readonly ifindex: number;
  readonly mac: MacAddress;
  /** Source of NDP answers; without it the interface answers ARP only. */
  readonly linkLocal?: IPAddr | undefined;
}

/** What should be answered on one interface. */
export interface InterfaceAnnouncements {
  readonly link: AnnouncerLink;
  readonly ips: readonly IPAddr[];
}

/** ARP for IPv4 addresses, NDP for IPv6 ones: one socket each per interface. */
export type PortFamily = "arp" | "ndp";

export const portFamilyOf = (ip: IPAddr): PortFamily => (ip.family === "IPv4" ? "arp" : "ndp");

/** What is active on one interface. */
export interface ActiveInterface {
  readonly link: AnnouncerLink;
  readonly ports: ReadonlySet<PortFamily>;
  /** By ipKey. */
  readonly ips: ReadonlyMap<string, IPAddr>;
}

export interface PlacedIP {
  readonly ifname: string;
  readonly ip: IPAddr;
}

export interface AnnouncerPlan {
  /** Addresses no longer ours on an interface (stop takeover, leave groups). */
  readonly remove: readonly PlacedIP[];
  readonly close: readonly { readonly ifname: string; readonly family: PortFamily }[];
  readonly open: readonly { readonly link: AnnouncerLink; readonly family: PortFamily }[];
  /** Addresses that become ours on an interface (join groups, take over). */
  readonly add: readonly PlacedIP[];
  /** IPv6 addresses that cannot be answered for on an interface without a link-local address. */
  readonly unservable: readonly PlacedIP[];
}

export const ipKey = (ip: IPAddr): string => formatIP(ip);

/** Same socket binding: a link replaced (new ifindex), re-addressed or renumbered needs new sockets. */
export function sameBinding(a: AnnouncerLink, b: AnnouncerLink): boolean {
  return a.ifindex === b.ifindex && a.mac === b.mac && a.linkLocal?.value === b.linkLocal?.value;
}

/**
 * The changes that turn `active` into `desired`. Interfaces whose binding changed are closed and
 * reopened with all their addresses re-added (so they are announced again). Families are opened
 * only where an address of that family is wanted. Lists are in a stable order (interface, then
 * address text) so applying a plan is deterministic.
 */
export function planAnnouncer(
  active: ReadonlyMap<string, ActiveInterface>,
  desired: readonly InterfaceAnnouncements[],
): AnnouncerPlan {
  const remove: PlacedIP[] = [];
  const close: { ifname: string; family: PortFamily }[] = [];
  const open: { link: AnnouncerLink; family: PortFamily }[] = [];
  const add: PlacedIP[] = [];
  const unservable: PlacedIP[] = [];

  const wanted = new Map<string, { link: AnnouncerLink; ips: Map<string, IPAddr> }>();
  for (const { link, ips } of desired) {
    const entry = wanted.get(link.name) ?? { link, ips: new Map<string, IPAddr>() };
    for (const ip of ips) {
      if (ip.family === "IPv6" && link.linkLocal === undefined) {
        unservable.push({ ifname: link.name, ip });
        continue;
      }
      entry.ips.set(ipKey(ip), ip);
    }
    if (entry.ips.size > 0) wanted.set(link.name, entry);
  }

  const names = [...new Set([...active.keys(), ...wanted.keys()])].sort();
  for (const name of names) {
    const now = active.get(name);
    const next = wanted.get(name);
    const rebind = now !== undefined && next !== undefined && !sameBinding(now.link, next.link);
    const nowIPs = now === undefined ? new Map<string, IPAddr>() : now.ips;
    const nextIPs = next?.ips ?? new Map<string, IPAddr>();
    for (const [key, ip] of sorted(nowIPs)) {
      if (rebind || !nextIPs.has(key)) remove.push({ ifname: name, ip });
    }
    const nextFamilies = new Set([...nextIPs.values()].map(portFamilyOf));
    for (const family of ["arp", "ndp"] as const) {
      const isOpen = now?.ports.has(family) ?? false;
      const wantOpen = nextFamilies.has(family);
      if (isOpen && (rebind || !wantOpen)) close.push({ ifname: name, family });
      if (next !== undefined && wantOpen && (rebind || !isOpen)) open.push({ link: next.link, family });
    }
    for (const [key, ip] of sorted(nextIPs)) {
      if (rebind || !nowIPs.has(key)) add.push({ ifname: name, ip });
    }
  }
  return { remove, close, open, add, unservable };
}

function sorted(ips: ReadonlyMap<string, IPAddr>): [string, IPAddr][] {
  return [...ips].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function isEmptyPlan(plan: AnnouncerPlan): boolean {
  return plan.remove.length + plan.close.length + plan.open.length + plan.add.length === 0;
}
