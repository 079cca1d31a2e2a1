/** The fixed IPv6 header (RFC 8200), address helpers and the upper-layer pseudo-header checksum. */
import type { IPAddr } from "../../net/ip.js";
import { finishChecksum, onesComplementAdd } from "./checksum.js";
import type { MacAddress } from "./mac.js";
import { decodeError, decoded, viewOf, type DecodeResult } from "./result.js";

export const IPV6_HEADER_LENGTH = 40;
export const NEXT_HEADER_ICMPV6 = 58;

export const UNSPECIFIED_IPV6: IPAddr = { family: "IPv6", value: 0n };
/** ff02::1, every node on the link. */
export const ALL_NODES_IPV6: IPAddr = { family: "IPv6", value: (0xff02n << 112n) | 1n };

const SOLICITED_NODE_PREFIX = (0xff02n << 112n) | (1n << 32n) | (0xffn << 24n);

export function isMulticastIpv6(ip: IPAddr): boolean {
  return ip.family === "IPv6" && ip.value >> 120n === 0xffn;
}

export function isUnspecifiedIpv6(ip: IPAddr): boolean {
  return ip.family === "IPv6" && ip.value === 0n;
}

/** ff02::1:ffXX:XXXX, the group an NS for `ip` is sent to (RFC 4291 §2.7.1). */
export function solicitedNodeAddress(ip: IPAddr): IPAddr {
  return { family: "IPv6", value: SOLICITED_NODE_PREFIX | (ip.value & 0xffffffn) };
}

/** 33:33 + the low 32 bits: the Ethernet group address of an IPv6 multicast address. */
export function ipv6MulticastMac(group: IPAddr): MacAddress {
  const low = group.value & 0xffffffffn;
  const octets = [0x33, 0x33, Number((low >> 24n) & 0xffn), Number((low >> 16n) & 0xffn)];
  octets.push(Number((low >> 8n) & 0xffn), Number(low & 0xffn));
  return octets.map((o) => o.toString(16).padStart(2, "0")).join(":");
}

export function ipv6FromBytes(bytes: Uint8Array, offset = 0): IPAddr {
  const view = viewOf(bytes);
  return { family: "IPv6", value: (view.getBigUint64(offset) << 64n) | view.getBigUint64(offset + 8) };
}

export function writeIpv6(target: Uint8Array, offset: number, ip: IPAddr): void {
  const view = viewOf(target);
  view.setBigUint64(offset, ip.value >> 64n);
  view.setBigUint64(offset + 8, ip.value & 0xffffffffffffffffn);
}

export function ipv6ToBytes(ip: IPAddr): Buffer {
  const out = Buffer.alloc(16);
  writeIpv6(out, 0, ip);
  return out;
}

/**
 * The checksum of an upper-layer message over the RFC 8200 §8.1 pseudo-header. With the
 * message's own checksum field zeroed this is the value to store; over a received message
 * (field included) a correct packet sums to 0.
 */
export function pseudoHeaderChecksum(
  source: IPAddr,
  destination: IPAddr,
  nextHeader: number,
  message: Uint8Array,
): number {
  const pseudo = Buffer.alloc(40);
  writeIpv6(pseudo, 0, source);
  writeIpv6(pseudo, 16, destination);
  pseudo.writeUInt32BE(message.length, 32);
  pseudo.writeUInt8(nextHeader, 39);
  return finishChecksum(onesComplementAdd(onesComplementAdd(0, pseudo), message));
}

export interface Ipv6Packet {
  readonly trafficClass: number;
  readonly flowLabel: number;
  readonly nextHeader: number;
  readonly hopLimit: number;
  readonly source: IPAddr;
  readonly destination: IPAddr;
  /** Exactly `payload length` bytes; link-layer padding after them is dropped. */
  readonly payload: Uint8Array;
}

export function decodeIpv6(packet: Uint8Array): DecodeResult<Ipv6Packet> {
  if (packet.length < IPV6_HEADER_LENGTH)
    return decodeError("truncated", `IPv6 packet of ${packet.length} bytes`);
  const view = viewOf(packet);
  const first = view.getUint32(0);
  const version = first >>> 28;
  if (version !== 6) return decodeError("malformed", `IP version ${version} in an IPv6 packet`);
  const payloadLength = view.getUint16(4);
  if (IPV6_HEADER_LENGTH + payloadLength > packet.length) {
    return decodeError(
      "wrong-length",
      `IPv6 payload length ${payloadLength}, ${packet.length - 40} bytes present`,
    );
  }
  return decoded({
    trafficClass: (first >>> 20) & 0xff,
    flowLabel: first & 0xfffff,
    nextHeader: view.getUint8(6),
    hopLimit: view.getUint8(7),
    source: ipv6FromBytes(packet, 8),
    destination: ipv6FromBytes(packet, 24),
    payload: packet.subarray(IPV6_HEADER_LENGTH, IPV6_HEADER_LENGTH + payloadLength),
  });
}

export interface Ipv6PacketSpec {
  readonly source: IPAddr;
  readonly destination: IPAddr;
  readonly nextHeader: number;
  readonly hopLimit: number;
  readonly payload: Uint8Array;
  readonly trafficClass?: number;
  readonly flowLabel?: number;
}

export function encodeIpv6(spec: Ipv6PacketSpec): Buffer {
  const out = Buffer.alloc(IPV6_HEADER_LENGTH + spec.payload.length);
  const first = (6 << 28) | ((spec.trafficClass ?? 0) << 20) | ((spec.flowLabel ?? 0) & 0xfffff);
  out.writeUInt32BE(first >>> 0, 0);
  out.writeUInt16BE(spec.payload.length, 4);
  out.writeUInt8(spec.nextHeader, 6);
  out.writeUInt8(spec.hopLimit, 7);
  writeIpv6(out, 8, spec.source);
  writeIpv6(out, 24, spec.destination);
  out.set(spec.payload, IPV6_HEADER_LENGTH);
  return out;
}
