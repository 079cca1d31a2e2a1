/**
 * IP addresses as (family, bigint) values: the one representation the allocator, the
 * validator and the announcers share. Parsing is strict (no zone ids, no leading zeros in
 * IPv4 octets) and every error says what was wrong with which text.
 */

export type IPFamily = "IPv4" | "IPv6";

export interface IPAddr {
  readonly family: IPFamily;
  readonly value: bigint;
}

/** An inclusive range of addresses of one family. */
export interface IPRange {
  readonly family: IPFamily;
  readonly first: bigint;
  readonly last: bigint;
}

export class IPParseError extends Error {
  override readonly name = "IPParseError";
  constructor(
    readonly text: string,
    readonly reason: string,
  ) {
    super(`"${text}": ${reason}`);
  }
}

export const FAMILY_BITS: Readonly<Record<IPFamily, number>> = { IPv4: 32, IPv6: 128 };

function parseIPv4Value(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIPv6Value(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const groups: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] ?? "";
      if (i === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIPv4Value(piece);
        if (v4 === undefined) return undefined;
        groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return undefined;
        groups.push(parseInt(piece, 16));
      }
    }
    return groups;
  };
  const head = parseGroups(halves[0] ?? "");
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? "") : [];
  if (head === undefined || tail === undefined) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return undefined;
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  return value;
}

/** Parses an IPv4 or IPv6 address; returns undefined when the text is not one. */
export function tryParseIP(text: string): IPAddr | undefined {
  const t = text.trim();
  if (t.includes(":")) {
    const value = parseIPv6Value(t);
    return value === undefined ? undefined : { family: "IPv6", value };
  }
  const value = parseIPv4Value(t);
  return value === undefined ? undefined : { family: "IPv4", value };
}

export function parseIP(text: string): IPAddr {
  const ip = tryParseIP(text);
  if (ip === undefined) throw new IPParseError(text, "not a valid IPv4 or IPv6 address");
  return ip;
}

export function formatIPv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join(".");
}

/** RFC 5952 canonical text: lower case, longest run (≥ 2) of zero groups compressed. */
export function formatIPv6(value: bigint): string {
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  const head = hex.slice(0, bestStart).join(":");
  const tail = hex.slice(bestStart + bestLen).join(":");
  return `${head}::${tail}`;
}

export function formatIP(ip: IPAddr): string {
  return ip.family === "IPv4" ? formatIPv4(ip.value) : formatIPv6(ip.value);
}

/** Canonical text of an address given as text (throws IPParseError when invalid). */
export function canonicalIP(text: string): string {
  return formatIP(parseIP(text));
}

export interface CIDR {
  readonly family: IPFamily;
  readonly address: bigint;
  readonly prefixLength: number;
}

/**
 * Parses "a.b.c.d/n" or "x::/n". With `strict`, host bits must be zero (Kubernetes and
 * MetalLB reject `192.0.2.1/24` as a pool; a typo there is usually a mistake).
 */
export function parseCIDR(text: string, strict = true): CIDR {
  const slash = text.indexOf("/");
  if (slash < 0) throw new IPParseError(text, "not a CIDR (expected address/prefix-length)");
  const ip = tryParseIP(text.slice(0, slash));
  if (ip === undefined) throw new IPParseError(text, "the address part is not a valid IP address");
  const lenText = text.slice(slash + 1);
  const bits = FAMILY_BITS[ip.family];
  if (!/^(0|[1-9]\d{0,2})$/.test(lenText) || Number(lenText) > bits) {
    throw new IPParseError(text, `prefix length must be an integer from 0 to ${bits}`);
  }
  const prefixLength = Number(lenText);
  const hostMask = (1n << BigInt(bits - prefixLength)) - 1n;
  if (strict && (ip.value & hostMask) !== 0n) {
    const network = formatIP({ family: ip.family, value: ip.value & ~hostMask });
    throw new IPParseError(text, `host bits are set (did you mean ${network}/${prefixLength}?)`);
  }
  return { family: ip.family, address: ip.value & ~hostMask, prefixLength };
}

export function cidrToRange(cidr: CIDR): IPRange {
  const size = 1n << BigInt(FAMILY_BITS[cidr.family] - cidr.prefixLength);
  return { family: cidr.family, first: cidr.address, last: cidr.address + size - 1n };
}

export function formatCIDR(cidr: CIDR): string {
  return `${formatIP({ family: cidr.family, value: cidr.address })}/${cidr.prefixLength}`;
}

/**
 * Parses one pool entry: a CIDR ("192.0.2.0/24"), a range ("192.0.2.10-192.0.2.20", spaces
 * around the dash allowed as MetalLB does) or a single address (treated as /32 or /128).
 */
export function parseAddressRange(text: string, strictCIDR = true): IPRange {
  const t = text.trim();
  if (t.includes("/")) return cidrToRange(parseCIDR(t, strictCIDR));
  const dash = t.indexOf("-");
  if (dash < 0) {
    const ip = tryParseIP(t);
    if (ip === undefined) throw new IPParseError(text, "not a CIDR, an address range or an IP address");
    return { family: ip.family, first: ip.value, last: ip.value };
  }
  const start = tryParseIP(t.slice(0, dash));
  const end = tryParseIP(t.slice(dash + 1));
  if (start === undefined) throw new IPParseError(text, "the range start is not a valid IP address");
  if (end === undefined) throw new IPParseError(text, "the range end is not a valid IP address");
  if (start.family !== end.family) {
    throw new IPParseError(text, `the range mixes families (${start.family} start, ${end.family} end)`);
  }
  if (start.value > end.value) throw new IPParseError(text, "the range start is after its end");
  return { family: start.family, first: start.value, last: end.value };
}

export function rangeSize(range: IPRange): bigint {
  return range.last - range.first + 1n;
}

export function rangesOverlap(a: IPRange, b: IPRange): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

export function rangeContains(range: IPRange, ip: IPAddr): boolean {
  return range.family === ip.family && range.first <= ip.value && ip.value <= range.last;
}

export function formatRange(range: IPRange): string {
  const a = formatIP({ family: range.family, value: range.first });
  if (range.first === range.last) return a;
  return `${a}-${formatIP({ family: range.family, value: range.last })}`;
}
