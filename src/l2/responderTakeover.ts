/**
 * Taking over an address: tell the LAN at once that it now lives behind our MAC (gratuitous
 * ARP in both the request and reply forms, since hosts differ in which one updates their
 * cache; an unsolicited NA with Override for IPv6) and repeat it a few times in case a frame
 * is lost, stopping as soon as the address is no longer ours. Pure: the clock is passed in.
 */
import type { IPAddr } from "../net/ip.js";
import { encodeArp } from "./codec/arp.js";
import { encodeEthernet, ETHERTYPE_ARP } from "./codec/ethernet.js";
import { ALL_NODES_IPV6 } from "./codec/ipv6.js";
import { BROADCAST_MAC, ZERO_MAC, type MacAddress } from "./codec/mac.js";
import { encodeNeighborAdvertisement, NDP_HOP_LIMIT } from "./codec/ndp.js";

export type GratuitousArpForm = "request" | "reply";

/**
 * A broadcast gratuitous ARP for `ip` at `mac`. Request form: an RFC 5227 announcement
 * (target MAC zero, target IP = sender IP). Reply form: target MAC and IP repeat the sender's.
 */
export function gratuitousArp(mac: MacAddress, ip: IPAddr, form: GratuitousArpForm): Buffer {
  const payload = encodeArp({
    operation: form,
    senderMac: mac,
    senderIp: ip,
    targetMac: form === "request" ? ZERO_MAC : mac,
    targetIp: ip,
  });
  return encodeEthernet({ destination: BROADCAST_MAC, source: mac, etherType: ETHERTYPE_ARP, payload });
}

export interface UnsolicitedAdvertisement {
  readonly message: Buffer;
  readonly source: IPAddr;
  readonly destination: IPAddr;
  readonly hopLimit: typeof NDP_HOP_LIMIT;
}

/** An unsolicited NA for `ip` to all-nodes: Override set, Solicited clear, our MAC as target LLA. */
export function unsolicitedAdvertisement(
  mac: MacAddress,
  ip: IPAddr,
  source: IPAddr,
): UnsolicitedAdvertisement {
  const message = encodeNeighborAdvertisement(
    { target: ip, solicited: false, override: true, targetLinkLayer: mac },
    { source, destination: ALL_NODES_IPV6 },
  );
  return { message, source, destination: ALL_NODES_IPV6, hopLimit: NDP_HOP_LIMIT };
}

/** Send times after a takeover, in ms: at once, then backing off over four seconds. */
export const DEFAULT_TAKEOVER_OFFSETS_MS: readonly number[] = [0, 500, 1000, 2000, 4000];

export class TakeoverScheduleError extends Error {
  override readonly name = "TakeoverScheduleError";
  readonly code = "ERR_TAKEOVER_SCHEDULE";
}

interface Pending {
  readonly startedAt: number;
  next: number; // index into offsets
}

/**
 * When to (re)send takeover announcements, per key (e.g. "eth0|192.0.2.200"). start() when
 * an address becomes ours, stop() when it no longer is; due(now) returns the keys to send
 * for now and advances them; nextDueAt() tells when to wake up. Sends missed because the
 * caller woke late are merged into one, never bursted.
 */
export class TakeoverSchedule {
  private readonly pending = new Map<string, Pending>();
  private readonly offsets: readonly number[];

  constructor(offsetsMs: readonly number[] = DEFAULT_TAKEOVER_OFFSETS_MS) {
    if (offsetsMs.length === 0)
      throw new TakeoverScheduleError("a takeover schedule needs at least one send");
    for (let i = 0; i < offsetsMs.length; i++) {
      const offset = offsetsMs[i] ?? 0;
      if (!(offset >= 0) || (i > 0 && offset <= (offsetsMs[i - 1] ?? 0))) {
        throw new TakeoverScheduleError(
          `offsets must be non-negative and increasing: ${offsetsMs.join(", ")}`,
        );
      }
    }
    this.offsets = [...offsetsMs];
  }

  /** The key's address has just become ours: its schedule starts (again) at `nowMs`. */
  start(key: string, nowMs: number): void {
    this.pending.set(key, { startedAt: nowMs, next: 0 });
  }

  /** The key's address is no longer ours: nothing more is sent for it. */
  stop(key: string): void {
    this.pending.delete(key);
  }

  isActive(key: string): boolean {
    return this.pending.has(key);
  }

  /** Keys with a send due at `nowMs`; each is advanced past every offset already reached. */
  due(nowMs: number): string[] {
    const keys: string[] = [];
    for (const [key, entry] of this.pending) {
      const at = entry.startedAt + (this.offsets[entry.next] ?? Infinity);
      if (at > nowMs) continue;
      keys.push(key);
      while (entry.next < this.offsets.length && entry.startedAt + (this.offsets[entry.next] ?? 0) <= nowMs) {
        entry.next++;
      }
      if (entry.next >= this.offsets.length) this.pending.delete(key);
    }
    return keys;
  }

  /** The earliest time something is due, or undefined when nothing is scheduled. */
  nextDueAt(): number | undefined {
    let earliest: number | undefined;
    for (const entry of this.pending.values()) {
      const at = entry.startedAt + (this.offsets[entry.next] ?? Infinity);
      if (earliest === undefined || at < earliest) earliest = at;
    }
    return earliest;
  }
}
