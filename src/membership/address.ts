/**
 * Where a member listens: an IP address (canonical text, IPv4 or IPv6) and a UDP port.
 * Seeds are given as text, "192.0.2.10:7946", "[2001:db8:1::10]:7946", or a bare IP with the
 * default port.
 */
import { canonicalIP, tryParseIP } from "../net/ip.js";

export const DEFAULT_MEMBERSHIP_PORT = 7946;

export interface MemberAddress {
  /** Canonical IP text (see net/ip.ts canonicalIP); IPv4-mapped IPv6 is stored as IPv4. */
  readonly ip: string;
  readonly port: number;
}

export class MemberAddressError extends Error {
  override readonly name = "MemberAddressError";
  readonly code = "ERR_MEMBER_ADDRESS";
}

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** Canonical IP text, with IPv4-mapped IPv6 ("::ffff:192.0.2.1", as a dual-stack socket reports) as IPv4. */
export function normalizeIP(text: string): string {
  const plain = MAPPED_V4.exec(text)?.[1] ?? text;
  if (tryParseIP(plain) === undefined) throw new MemberAddressError(`"${text}" is not an IP address`);
  return canonicalIP(plain);
}

export function memberAddress(ip: string, port: number): MemberAddress {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new MemberAddressError(`port ${port} is not in 1-65535`);
  }
  return { ip: normalizeIP(ip), port };
}

/** Parses "ip:port", "[ipv6]:port" or a bare IP (then `defaultPort`). */
export function parseMemberAddress(text: string, defaultPort = DEFAULT_MEMBERSHIP_PORT): MemberAddress {
  const trimmed = text.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(trimmed);
  if (bracketed !== null) {
    return memberAddress(bracketed[1] ?? "", portOf(bracketed[2], defaultPort, text));
  }
  if (tryParseIP(trimmed) !== undefined) return memberAddress(trimmed, defaultPort);
  const colon = trimmed.lastIndexOf(":");
  if (colon > 0 && !trimmed.slice(0, colon).includes(":")) {
    return memberAddress(trimmed.slice(0, colon), portOf(trimmed.slice(colon + 1), defaultPort, text));
  }
  throw new MemberAddressError(`"${text}" is not an address (expected IP, IP:PORT or [IPv6]:PORT)`);
}

function portOf(text: string | undefined, defaultPort: number, whole: string): number {
  if (text === undefined) return defaultPort;
  if (!/^\d{1,5}$/.test(text)) throw new MemberAddressError(`"${whole}": bad port "${text}"`);
  return Number(text);
}

/** "192.0.2.1:7946" or "[2001:db8::1]:7946": a map key and a log field. */
export function formatMemberAddress(address: MemberAddress): string {
  return address.ip.includes(":") ? `[${address.ip}]:${address.port}` : `${address.ip}:${address.port}`;
}

export function sameAddress(a: MemberAddress, b: MemberAddress): boolean {
  return a.ip === b.ip && a.port === b.port;
}

export function addressFamily(address: MemberAddress): 4 | 6 {
  return address.ip.includes(":") ? 6 : 4;
}
