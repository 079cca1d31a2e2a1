/**
 * ICMPv6 Neighbor Solicitation and Neighbor Advertisement (RFC 4861 §4.3, §4.4) with the
 * Source/Target Link-Layer Address options, validated as §7.1 asks. The input is the ICMPv6
 * message plus the addressing the socket reported (a raw ICMPv6 socket strips the IPv6 header).
 */
import type { IPAddr } from "../../net/ip.js";
import {
  ipv6FromBytes,
  isMulticastIpv6,
  isUnspecifiedIpv6,
  NEXT_HEADER_ICMPV6,
  pseudoHeaderChecksum,
  solicitedNodeAddress,
  writeIpv6,
  decodeIpv6,
} from "./ipv6.js";
import { macFromBytes, writeMac, type MacAddress } from "./mac.js";
import { decodeError, decoded, type DecodeResult } from "./result.js";

export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
/** NDP's proof of link-local origin: routers decrement it, so only 255 is accepted. */
export const NDP_HOP_LIMIT = 255;

const OPTION_SOURCE_LINK_LAYER = 1;
const OPTION_TARGET_LINK_LAYER = 2;
const FIXED_LENGTH = 24;
const FLAG_ROUTER = 0x80;
const FLAG_SOLICITED = 0x40;
const FLAG_OVERRIDE = 0x20;

/** Where an NDP message came from or goes to: the IPv6 header fields NDP depends on. */
export interface NdpAddressing {
  readonly source: IPAddr;
  readonly destination: IPAddr;
  readonly hopLimit: number;
}

export interface NeighborSolicitation {
  readonly kind: "neighbor-solicitation";
  readonly target: IPAddr;
  /** Absent in DAD probes and allowed to be absent in unicast reachability probes. */
  readonly sourceLinkLayer: MacAddress | undefined;
}

export interface NeighborAdvertisement {
  readonly kind: "neighbor-advertisement";
  readonly target: IPAddr;
  readonly router: boolean;
  readonly solicited: boolean;
  readonly override: boolean;
  readonly targetLinkLayer: MacAddress | undefined;
}

export type NdpMessage = NeighborSolicitation | NeighborAdvertisement;
/** A decoded message together with the addressing it arrived with. */
export type NdpPacket = NdpMessage & NdpAddressing;

interface LinkLayerOptions {
  readonly source: MacAddress | undefined;
  readonly target: MacAddress | undefined;
}

function decodeOptions(options: Uint8Array): DecodeResult<LinkLayerOptions> {
  let source: MacAddress | undefined;
  let target: MacAddress | undefined;
  let offset = 0;
  while (offset < options.length) {
    if (options.length - offset < 2) return decodeError("truncated", "NDP option header cut short");
    const type = options[offset] ?? 0;
    const units = options[offset + 1] ?? 0;
    if (units === 0) return decodeError("malformed", `NDP option ${type} with length 0`);
    if (offset + units * 8 > options.length) {
      return decodeError("wrong-length", `NDP option ${type} of ${units * 8} bytes overruns the message`);
    }
    if (type === OPTION_SOURCE_LINK_LAYER || type === OPTION_TARGET_LINK_LAYER) {
      // On Ethernet a link-layer address option is exactly one unit (RFC 2464 §6).
      if (units !== 1) return decodeError("wrong-length", `link-layer address option of ${units * 8} bytes`);
      const mac = macFromBytes(options, offset + 2);
      if (type === OPTION_SOURCE_LINK_LAYER) source = mac;
      else target = mac;
    }
    // Unknown options are skipped, as §4.6 requires.
    offset += units * 8;
  }
  return decoded({ source, target });
}

/** Decodes an NS or NA; every violation of RFC 4861 §7.1 comes back as a reason. */
export function decodeNdp(message: Uint8Array, addressing: NdpAddressing): DecodeResult<NdpPacket> {
  if (message.length < 4) return decodeError("truncated", `ICMPv6 message of ${message.length} bytes`);
  const type = message[0] ?? 0;
  if (type !== ICMPV6_NEIGHBOR_SOLICITATION && type !== ICMPV6_NEIGHBOR_ADVERTISEMENT) {
    return decodeError("unsupported", `ICMPv6 type ${type}`);
  }
  if (addressing.hopLimit !== NDP_HOP_LIMIT) {
    return decodeError("wrong-hop-limit", `NDP message with hop limit ${addressing.hopLimit}`);
  }
  if (message.length < FIXED_LENGTH)
    return decodeError("truncated", `NDP message of ${message.length} bytes`);
  if (pseudoHeaderChecksum(addressing.source, addressing.destination, NEXT_HEADER_ICMPV6, message) !== 0) {
    return decodeError("bad-checksum", "ICMPv6 checksum mismatch");
  }
  if (message[1] !== 0) return decodeError("malformed", `ICMPv6 code ${message[1] ?? 0} in an NDP message`);
  const target = ipv6FromBytes(message, 8);
  if (isMulticastIpv6(target)) return decodeError("malformed", "multicast target address");
  const options = decodeOptions(message.subarray(FIXED_LENGTH));
  if (!options.ok) return options;
  const { source, destination, hopLimit } = addressing;

  if (type === ICMPV6_NEIGHBOR_SOLICITATION) {
    if (isUnspecifiedIpv6(source)) {
      // A DAD probe: it must go to the target's solicited-node group and carry no SLLA option.
      if (destination.value !== solicitedNodeAddress(target).value) {
        return decodeError("malformed", "DAD solicitation not sent to the solicited-node group");
      }
      if (options.value.source !== undefined) {
        return decodeError("malformed", "DAD solicitation with a source link-layer address option");
      }
    }
    return decoded({
      kind: "neighbor-solicitation",
      target,
      sourceLinkLayer: options.value.source,
      source,
      destination,
      hopLimit,
    });
  }

  const flags = message[4] ?? 0;
  const solicited = (flags & FLAG_SOLICITED) !== 0;
  if (solicited && isMulticastIpv6(destination)) {
    return decodeError("malformed", "solicited advertisement sent to a multicast group");
  }
  return decoded({
    kind: "neighbor-advertisement",
    target,
    router: (flags & FLAG_ROUTER) !== 0,
    solicited,
    override: (flags & FLAG_OVERRIDE) !== 0,
    targetLinkLayer: options.value.target,
    source,
    destination,
    hopLimit,
  });
}

/** Decodes a whole IPv6 packet carrying an NS or NA (no extension headers, as NDP sends). */
export function decodeNdpPacket(packet: Uint8Array): DecodeResult<NdpPacket> {
  const ip = decodeIpv6(packet);
  if (!ip.ok) return ip;
  if (ip.value.nextHeader !== NEXT_HEADER_ICMPV6) {
    return decodeError("unsupported", `IPv6 next header ${ip.value.nextHeader}`);
  }
  return decodeNdp(ip.value.payload, ip.value);
}

/** Source and destination of an outgoing message: the checksum covers them. */
export interface NdpEndpoints {
  readonly source: IPAddr;
  readonly destination: IPAddr;
}

function encodeMessage(
  type: number,
  flags: number,
  target: IPAddr,
  option: { type: number; mac: MacAddress } | undefined,
  endpoints: NdpEndpoints,
): Buffer {
  const out = Buffer.alloc(FIXED_LENGTH + (option === undefined ? 0 : 8));
  out.writeUInt8(type, 0);
  out.writeUInt8(flags, 4);
  writeIpv6(out, 8, target);
  if (option !== undefined) {
    out.writeUInt8(option.type, FIXED_LENGTH);
    out.writeUInt8(1, FIXED_LENGTH + 1);
    writeMac(out, FIXED_LENGTH + 2, option.mac);
  }
  out.writeUInt16BE(
    pseudoHeaderChecksum(endpoints.source, endpoints.destination, NEXT_HEADER_ICMPV6, out),
    2,
  );
  return out;
}

export interface NeighborSolicitationSpec {
  readonly target: IPAddr;
  readonly sourceLinkLayer?: MacAddress | undefined;
}

export function encodeNeighborSolicitation(spec: NeighborSolicitationSpec, endpoints: NdpEndpoints): Buffer {
  const option =
    spec.sourceLinkLayer === undefined
      ? undefined
      : { type: OPTION_SOURCE_LINK_LAYER, mac: spec.sourceLinkLayer };
  return encodeMessage(ICMPV6_NEIGHBOR_SOLICITATION, 0, spec.target, option, endpoints);
}

export interface NeighborAdvertisementSpec {
  readonly target: IPAddr;
  readonly router?: boolean;
  readonly solicited: boolean;
  readonly override: boolean;
  readonly targetLinkLayer?: MacAddress | undefined;
}

export function encodeNeighborAdvertisement(
  spec: NeighborAdvertisementSpec,
  endpoints: NdpEndpoints,
): Buffer {
  const flags =
    (spec.router === true ? FLAG_ROUTER : 0) |
    (spec.solicited ? FLAG_SOLICITED : 0) |
    (spec.override ? FLAG_OVERRIDE : 0);
  const option =
    spec.targetLinkLayer === undefined
      ? undefined
      : { type: OPTION_TARGET_LINK_LAYER, mac: spec.targetLinkLayer };
  return encodeMessage(ICMPV6_NEIGHBOR_ADVERTISEMENT, flags, spec.target, option, endpoints);
}
