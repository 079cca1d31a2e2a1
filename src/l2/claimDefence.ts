/**
 * Defending an address another host claims. A node that lost an address may still tell the LAN
 * it has it for a moment: a speaker cut off from the others believes it owns every Service and,
 * when its link comes back, announces them all before membership has merged; an old owner's
 * takeover repeat may leave just before it learns that the address moved. Such a claim points
 * the clients' neighbour entries at a node that no longer answers for the address, and nothing
 * else corrects them until they go stale. So the owner re-announces when it sees another MAC
 * claim one of its addresses: at once, then at most once per hold-off (a claim during the
 * hold-off is answered when it ends, so the owner always has the last word once the other side
 * has stopped). While two nodes both believe they own an address (a partition), this bounds
 * their exchange to one announcement per hold-off each.
 *
 * Pure: frames in, addresses out; the clock is passed in.
 */
import type { IPAddr } from "../net/ip.js";
import { decodeArp } from "./codec/arp.js";
import { decodeEthernet, ETHERTYPE_ARP } from "./codec/ethernet.js";
import type { MacAddress } from "./codec/mac.js";
import { decodeNdp } from "./codec/ndp.js";
import type { AnnouncedAddresses, ReceivedNdpMessage } from "./responder.js";

/** The interface a frame arrived on: its name (for the announced set) and our MAC there. */
export interface ClaimInterface {
  readonly name: string;
  readonly mac: MacAddress;
}

/**
 * The announced address an ARP frame claims for another MAC, if any: any ARP packet (request
 * or reply, gratuitous or not) whose sender IP is announced here and whose sender MAC is not
 * ours. Probes (sender 0.0.0.0) claim nothing.
 */
export function arpClaim(
  frame: Uint8Array,
  iface: ClaimInterface,
  announced: AnnouncedAddresses,
): IPAddr | undefined {
  const ethernet = decodeEthernet(frame);
  if (!ethernet.ok || ethernet.value.etherType !== ETHERTYPE_ARP || ethernet.value.source === iface.mac)
    return undefined;
  const arp = decodeArp(ethernet.value.payload);
  if (!arp.ok || arp.value.senderMac === iface.mac) return undefined;
  return announced.isAnnounced(arp.value.senderIp, iface.name) ? arp.value.senderIp : undefined;
}

/** What a received ICMPv6 message is, as far as claims go. */
export type NdpClaim =
  | { readonly kind: "not-advertisement" }
  | { readonly kind: "advertisement" }
  | { readonly kind: "claim"; readonly ip: IPAddr };

/**
 * A Neighbor Advertisement for an announced target carrying another MAC claims it; other
 * advertisements are only advertisements; anything else (solicitations, garbage) is for the
 * responder to judge.
 */
export function ndpClaim(
  received: ReceivedNdpMessage,
  iface: ClaimInterface,
  announced: AnnouncedAddresses,
): NdpClaim {
  const decoded = decodeNdp(received.data, received);
  if (!decoded.ok || decoded.value.kind !== "neighbor-advertisement") return { kind: "not-advertisement" };
  const { target, targetLinkLayer } = decoded.value;
  if (
    targetLinkLayer === undefined ||
    targetLinkLayer === iface.mac ||
    !announced.isAnnounced(target, iface.name)
  )
    return { kind: "advertisement" };
  return { kind: "claim", ip: target };
}

/** Minimum time between two defences of one address. */
export const DEFAULT_DEFENCE_HOLD_OFF_MS = 1000;

/**
 * When to re-announce claimed addresses, per key (e.g. "eth0|192.0.2.200"). claimed() when
 * another host claims it, stop() when it is no longer ours; due(now) returns the keys to
 * re-announce now; nextDueAt() tells when to wake up.
 */
export class ClaimDefence {
  private readonly lastSent = new Map<string, number>();
  private readonly pending = new Map<string, number>();

  constructor(private readonly holdOffMs: number = DEFAULT_DEFENCE_HOLD_OFF_MS) {}

  /** Another host claimed the key's address at `nowMs`: defend at once, or when the hold-off ends. */
  claimed(key: string, nowMs: number): void {
    if (this.pending.has(key)) return;
    const last = this.lastSent.get(key);
    this.pending.set(key, last === undefined ? nowMs : Math.max(nowMs, last + this.holdOffMs));
  }

  /** The key's address is no longer ours: no defence is sent for it. */
  stop(key: string): void {
    this.pending.delete(key);
    this.lastSent.delete(key);
  }

  isPending(key: string): boolean {
    return this.pending.has(key);
  }

  /** Keys whose defence is due at `nowMs` (each is then counted as sent at `nowMs`). */
  due(nowMs: number): string[] {
    const keys: string[] = [];
    for (const [key, at] of this.pending) {
      if (at > nowMs) continue;
      keys.push(key);
      this.pending.delete(key);
      this.lastSent.set(key, nowMs);
    }
    // Hold-offs long over need no memory.
    for (const [key, at] of this.lastSent) if (nowMs - at > this.holdOffMs) this.lastSent.delete(key);
    return keys;
  }

  nextDueAt(): number | undefined {
    let earliest: number | undefined;
    for (const at of this.pending.values()) if (earliest === undefined || at < earliest) earliest = at;
    return earliest;
  }
}
