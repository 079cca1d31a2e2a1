/** Ethernet II frames (no 802.1Q tag: the sockets we read from deliver untagged frames). */
import { macFromBytes, writeMac, type MacAddress } from "./mac.js";
import { decodeError, decoded, viewOf, type DecodeResult } from "./result.js";

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;

export const ETHERNET_HEADER_LENGTH = 14;
/** Frames shorter than this (without FCS) are padded on the wire. */
export const ETHERNET_MIN_FRAME_LENGTH = 60;

export interface EthernetFrame {
  readonly destination: MacAddress;
  readonly source: MacAddress;
  readonly etherType: number;
  /** The bytes after the header, including any padding the sender added. */
  readonly payload: Uint8Array;
}

export function decodeEthernet(frame: Uint8Array): DecodeResult<EthernetFrame> {
  if (frame.length < ETHERNET_HEADER_LENGTH) {
    return decodeError("truncated", `Ethernet frame of ${frame.length} bytes`);
  }
  const etherType = viewOf(frame).getUint16(12);
  if (etherType < 0x0600) {
    return decodeError("unsupported", `802.3 length field ${etherType} instead of an EtherType`);
  }
  return decoded({
    destination: macFromBytes(frame, 0),
    source: macFromBytes(frame, 6),
    etherType,
    payload: frame.subarray(ETHERNET_HEADER_LENGTH),
  });
}

export interface EthernetFrameSpec {
  readonly destination: MacAddress;
  readonly source: MacAddress;
  readonly etherType: number;
  readonly payload: Uint8Array;
  /** Pad to the 60-byte minimum (default true), as a NIC would; AF_PACKET does not pad for us. */
  readonly pad?: boolean;
}

export function encodeEthernet(spec: EthernetFrameSpec): Buffer {
  const length = ETHERNET_HEADER_LENGTH + spec.payload.length;
  const out = Buffer.alloc(spec.pad === false ? length : Math.max(length, ETHERNET_MIN_FRAME_LENGTH));
  writeMac(out, 0, spec.destination);
  writeMac(out, 6, spec.source);
  out.writeUInt16BE(spec.etherType, 12);
  out.set(spec.payload, ETHERNET_HEADER_LENGTH);
  return out;
}
