/** ARP for IPv4 over Ethernet (RFC 826): the only combination a LAN speaker meets. */
import type { IPAddr } from "../../net/ip.js";
import { macFromBytes, writeMac, type MacAddress } from "./mac.js";
import { decodeError, decoded, viewOf, type DecodeResult } from "./result.js";

export const ARP_PACKET_LENGTH = 28;
const HARDWARE_ETHERNET = 1;
const PROTOCOL_IPV4 = 0x0800;

export type ArpOperation = "request" | "reply";

export interface ArpPacket {
  readonly operation: ArpOperation;
  readonly senderMac: MacAddress;
  readonly senderIp: IPAddr;
  readonly targetMac: MacAddress;
  readonly targetIp: IPAddr;
}

function ipv4At(view: DataView, offset: number): IPAddr {
  return { family: "IPv4", value: BigInt(view.getUint32(offset)) };
}

/** Decodes the ARP payload of an Ethernet frame (trailing padding is ignored). */
export function decodeArp(payload: Uint8Array): DecodeResult<ArpPacket> {
  if (payload.length < 8) return decodeError("truncated", `ARP packet of ${payload.length} bytes`);
  const view = viewOf(payload);
  const hardware = view.getUint16(0);
  const protocol = view.getUint16(2);
  if (hardware !== HARDWARE_ETHERNET || protocol !== PROTOCOL_IPV4) {
    return decodeError("unsupported", `ARP hardware type ${hardware}, protocol 0x${protocol.toString(16)}`);
  }
  const hardwareLength = view.getUint8(4);
  const protocolLength = view.getUint8(5);
  if (hardwareLength !== 6 || protocolLength !== 4) {
    return decodeError("wrong-length", `ARP address lengths ${hardwareLength}/${protocolLength}, want 6/4`);
  }
  if (payload.length < ARP_PACKET_LENGTH) {
    return decodeError("truncated", `ARP packet of ${payload.length} bytes, want ${ARP_PACKET_LENGTH}`);
  }
  const opcode = view.getUint16(6);
  if (opcode !== 1 && opcode !== 2) return decodeError("unsupported", `ARP operation ${opcode}`);
  return decoded({
    operation: opcode === 1 ? "request" : "reply",
    senderMac: macFromBytes(payload, 8),
    senderIp: ipv4At(view, 14),
    targetMac: macFromBytes(payload, 18),
    targetIp: ipv4At(view, 24),
  });
}

export class ArpEncodeError extends Error {
  override readonly name = "ArpEncodeError";
  readonly code = "ERR_ARP_ENCODE";
}

export function encodeArp(packet: ArpPacket): Buffer {
  if (packet.senderIp.family !== "IPv4" || packet.targetIp.family !== "IPv4") {
    throw new ArpEncodeError("ARP carries IPv4 addresses only");
  }
  const out = Buffer.alloc(ARP_PACKET_LENGTH);
  out.writeUInt16BE(HARDWARE_ETHERNET, 0);
  out.writeUInt16BE(PROTOCOL_IPV4, 2);
  out.writeUInt8(6, 4);
  out.writeUInt8(4, 5);
  out.writeUInt16BE(packet.operation === "request" ? 1 : 2, 6);
  writeMac(out, 8, packet.senderMac);
  out.writeUInt32BE(Number(packet.senderIp.value), 14);
  writeMac(out, 18, packet.targetMac);
  out.writeUInt32BE(Number(packet.targetIp.value), 24);
  return out;
}
