/**
 * The Layer 2 responders' decisions, as pure functions: given a received frame or ICMPv6
 * message, the interface it arrived on and the addresses announced there, return the reply
 * to send or the reason it was ignored. Sockets, timers and metrics live elsewhere; every
 * reason is counted by ResponderCounters.
 */
import type { IPAddr } from "../net/ip.js";
import { decodeArp, encodeArp } from "./codec/arp.js";
import { decodeEthernet, encodeEthernet, ETHERTYPE_ARP } from "./codec/ethernet.js";
import { ALL_NODES_IPV6, isMulticastIpv6, isUnspecifiedIpv6, solicitedNodeAddress } from "./codec/ipv6.js";
import { BROADCAST_MAC, type MacAddress } from "./codec/mac.js";
import { decodeNdp, encodeNeighborAdvertisement, NDP_HOP_LIMIT, type NdpAddressing } from "./codec/ndp.js";
import type { DecodeErrorReason } from "./codec/result.js";

// ---------------------------------------------------------------------------------------------
// What is announced where

/** The responders' view of the announcements: is `ip` ours to answer for on `ifname`? */
export interface AnnouncedAddresses {
  isAnnounced(ip: IPAddr, ifname: string): boolean;
}

export interface Announcement {
  readonly ip: IPAddr;
  /** Interfaces to answer on; undefined means every interface the responder runs on. */
  readonly interfaces?: Iterable<string> | undefined;
}

const keyOf = (ip: IPAddr): string => `${ip.family}/${ip.value.toString(16)}`;

/** An immutable set of announcements (rebuild it when the announcements change). */
export class AnnouncementSet implements AnnouncedAddresses {
  private readonly byAddress = new Map<string, ReadonlySet<string> | "all">();

  constructor(announcements: Iterable<Announcement>) {
    for (const { ip, interfaces } of announcements) {
      const key = keyOf(ip);
      const existing = this.byAddress.get(key);
      if (interfaces === undefined || existing === "all") {
        this.byAddress.set(key, "all");
      } else {
        this.byAddress.set(key, new Set([...(existing ?? []), ...interfaces]));
      }
    }
  }

  isAnnounced(ip: IPAddr, ifname: string): boolean {
    const where = this.byAddress.get(keyOf(ip));
    return where === "all" || (where !== undefined && where.has(ifname));
  }

  get size(): number {
    return this.byAddress.size;
  }
}

// ---------------------------------------------------------------------------------------------
// Decisions and counters

/** Why a received packet got no reply. Decode reasons come from the codecs. */
export type IgnoreReason =
  | DecodeErrorReason
  /** Not an ARP frame / not an NS (the sockets' filters normally keep these away). */
  | "not-arp"
  | "not-solicitation"
  /** Sent by this host (source MAC ours): never answer ourselves. */
  | "own-frame"
  /** Unicast to another station's MAC, or to a multicast group that is not the target's. */
  | "not-for-us"
  /** An ARP reply: replies are never answered. */
  | "not-request"
  /** Another host's gratuitous ARP for the target (sender IP = target IP): an announcement, not a question. */
  | "gratuitous"
  /** The target address is not announced on the interface it arrived on. */
  | "not-announced";

export interface Ignored {
  readonly action: "ignore";
  readonly reason: IgnoreReason;
}

const ignore = (reason: IgnoreReason): Ignored => ({ action: "ignore", reason });

/** The interface a responder runs on. */
export interface ResponderInterface {
  readonly name: string;
  readonly mac: MacAddress;
}

export interface ArpReply {
  readonly action: "reply";
  /** The whole Ethernet frame to send on the interface. */
  readonly frame: Buffer;
  /** The announced address the reply is about (for per-IP metrics). */
  readonly ip: IPAddr;
  readonly requester: MacAddress;
}

export type ArpDecision = ArpReply | Ignored;

/**
 * ARP: answer requests for announced IPv4 addresses that arrive broadcast or unicast to our
 * MAC; never answer replies, our own frames, or other hosts' gratuitous announcements. A
 * probe (RFC 5227, sender 0.0.0.0) is answered: it asks whether the address is in use.
 */
export function respondToArp(
  frame: Uint8Array,
  iface: ResponderInterface,
  announced: AnnouncedAddresses,
): ArpDecision {
  const ethernet = decodeEthernet(frame);
  if (!ethernet.ok) return ignore(ethernet.reason);
  const { source, destination, etherType, payload } = ethernet.value;
  if (etherType !== ETHERTYPE_ARP) return ignore("not-arp");
  if (source === iface.mac) return ignore("own-frame");
  if (destination !== BROADCAST_MAC && destination !== iface.mac) return ignore("not-for-us");
  const arp = decodeArp(payload);
  if (!arp.ok) return ignore(arp.reason);
  const request = arp.value;
  if (request.senderMac === iface.mac) return ignore("own-frame");
  if (request.operation !== "request") return ignore("not-request");
  if (!announced.isAnnounced(request.targetIp, iface.name)) return ignore("not-announced");
  if (request.senderIp.value === request.targetIp.value) return ignore("gratuitous");
  const reply = encodeArp({
    operation: "reply",
    senderMac: iface.mac,
    senderIp: request.targetIp,
    targetMac: request.senderMac,
    targetIp: request.senderIp,
  });
  return {
    action: "reply",
    frame: encodeEthernet({
      destination: request.senderMac,
      source: iface.mac,
      etherType: ETHERTYPE_ARP,
      payload: reply,
    }),
    ip: request.targetIp,
    requester: request.senderMac,
  };
}

/** An NDP responder's interface: replies are sent from `sourceAddress` (its link-local address). */
export interface NdpResponderInterface extends ResponderInterface {
  readonly sourceAddress: IPAddr;
}

/** A received ICMPv6 message with the addressing the socket reported. */
export interface ReceivedNdpMessage extends NdpAddressing {
  readonly data: Uint8Array;
}

export interface NdpReply {
  readonly action: "reply";
  /** The ICMPv6 message, checksum computed for `source` → `destination`. */
  readonly message: Buffer;
  readonly source: IPAddr;
  readonly destination: IPAddr;
  readonly hopLimit: typeof NDP_HOP_LIMIT;
  readonly ip: IPAddr;
}

export type NdpDecision = NdpReply | Ignored;

/**
 * NDP: answer Neighbor Solicitations for announced IPv6 addresses, whether multicast to the
 * target's solicited-node group or unicast (reachability probes), with or without a Source
 * Link-Layer Address option — the reply goes to the packet's IPv6 source, Solicited and
 * Override set, our MAC in the Target Link-Layer Address option. A DAD probe (source ::) is
 * answered to all-nodes without the Solicited flag (RFC 4861 §7.2.4). Anything that did not
 * arrive with hop limit 255 is dropped by the decoder.
 */
export function respondToNeighborSolicitation(
  received: ReceivedNdpMessage,
  iface: NdpResponderInterface,
  announced: AnnouncedAddresses,
): NdpDecision {
  const decoded = decodeNdp(received.data, received);
  if (!decoded.ok) return ignore(decoded.reason);
  const ns = decoded.value;
  if (ns.kind !== "neighbor-solicitation") return ignore("not-solicitation");
  if (ns.sourceLinkLayer === iface.mac) return ignore("own-frame");
  if (isMulticastIpv6(ns.destination) && ns.destination.value !== solicitedNodeAddress(ns.target).value) {
    return ignore("not-for-us");
  }
  if (!announced.isAnnounced(ns.target, iface.name)) return ignore("not-announced");
  const dad = isUnspecifiedIpv6(ns.source);
  const destination = dad ? ALL_NODES_IPV6 : ns.source;
  const message = encodeNeighborAdvertisement(
    { target: ns.target, solicited: !dad, override: true, targetLinkLayer: iface.mac },
    { source: iface.sourceAddress, destination },
  );
  return {
    action: "reply",
    message,
    source: iface.sourceAddress,
    destination,
    hopLimit: NDP_HOP_LIMIT,
    ip: ns.target,
  };
}

/** Tallies of what the responders saw and did, by ignore reason. */
export class ResponderCounters {
  received = 0;
  replied = 0;
  readonly ignored = new Map<IgnoreReason, number>();

  record(decision: ArpDecision | NdpDecision): void {
    this.received++;
    if (decision.action === "reply") this.replied++;
    else this.ignored.set(decision.reason, (this.ignored.get(decision.reason) ?? 0) + 1);
  }

  ignoredFor(reason: IgnoreReason): number {
    return this.ignored.get(reason) ?? 0;
  }
}
