/**
 * Ethernet MAC addresses as canonical text ("02:00:5e:00:53:01", lower case): easy to compare,
 * log and use as a map key. Conversions to and from the 6 wire bytes live here.
 */

export type MacAddress = string;

export const BROADCAST_MAC: MacAddress = "ff:ff:ff:ff:ff:ff";
export const ZERO_MAC: MacAddress = "00:00:00:00:00:00";

const MAC_TEXT = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export class MacParseError extends Error {
  override readonly name = "MacParseError";
  readonly code = "ERR_MAC_PARSE";
  constructor(readonly text: string) {
    super(`"${text}" is not a MAC address (expected six hex octets separated by ':' or '-')`);
  }
}

/** Parses "AA:BB:CC:DD:EE:FF" or "aa-bb-cc-dd-ee-ff" into the canonical form. */
export function parseMac(text: string): MacAddress {
  const canonical = text.trim().toLowerCase().replaceAll("-", ":");
  if (!MAC_TEXT.test(canonical)) throw new MacParseError(text);
  return canonical;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Reads the MAC at `offset` of `bytes` (the caller has checked 6 bytes are present). */
export function macFromBytes(bytes: Uint8Array, offset = 0): MacAddress {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push(HEX[bytes[offset + i] ?? 0] ?? "00");
  return parts.join(":");
}

/** Writes a canonical MAC into `target` at `offset`. */
export function writeMac(target: Uint8Array, offset: number, mac: MacAddress): void {
  const parts = mac.split(":");
  if (parts.length !== 6) throw new MacParseError(mac);
  for (let i = 0; i < 6; i++) target[offset + i] = parseInt(parts[i] ?? "", 16);
}

export function macToBytes(mac: MacAddress): Buffer {
  const out = Buffer.alloc(6);
  writeMac(out, 0, parseMac(mac));
  return out;
}

/** Group (multicast or broadcast) addresses have the low bit of the first octet set. */
export function isGroupMac(mac: MacAddress): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}
