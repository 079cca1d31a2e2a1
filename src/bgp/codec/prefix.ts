/**
 * NLRI prefix encoding (RFC 4271 4.3, RFC 4760 5): a length in bits, then the fewest whole
 * bytes that hold it. Bits past the prefix length in the last byte are ignored on decode.
 */
import { FAMILY_BITS, type CIDR, type IPFamily } from "../../net/ip.js";

/** 16-byte work area for IPv6 addresses (the codec is synchronous, so one is enough). */
const scratch = Buffer.alloc(16);

export function prefixWireLength(prefixLength: number): number {
  return 1 + ((prefixLength + 7) >> 3);
}

export function prefixesWireLength(prefixes: readonly CIDR[]): number {
  let total = 0;
  for (const p of prefixes) total += prefixWireLength(p.prefixLength);
  return total;
}

/** Writes one prefix at `offset` and returns the offset after it. */
export function writePrefix(buf: Buffer, offset: number, prefix: CIDR): number {
  const len = prefix.prefixLength;
  const bytes = (len + 7) >> 3;
  buf.writeUInt8(len, offset);
  if (prefix.family === "IPv4") {
    const value = Number(prefix.address);
    for (let i = 0; i < bytes; i++) buf[offset + 1 + i] = (value >>> (24 - 8 * i)) & 0xff;
  } else if (bytes > 0) {
    scratch.writeBigUInt64BE(prefix.address >> 64n, 0);
    scratch.writeBigUInt64BE(prefix.address & 0xffffffffffffffffn, 8);
    scratch.copy(buf, offset + 1, 0, bytes);
  }
  return offset + 1 + bytes;
}

export function encodePrefixes(prefixes: readonly CIDR[]): Buffer {
  const buf = Buffer.allocUnsafe(prefixesWireLength(prefixes));
  let offset = 0;
  for (const p of prefixes) offset = writePrefix(buf, offset, p);
  return buf;
}

export type PrefixParse = { readonly prefixes: CIDR[] } | { readonly error: string };

/** Parses a whole field of prefixes of one family; any overrun or over-long length is an error. */
export function decodePrefixes(buf: Buffer, family: IPFamily): PrefixParse {
  const bits = FAMILY_BITS[family];
  const prefixes: CIDR[] = [];
  let offset = 0;
  while (offset < buf.length) {
    const len = buf.readUInt8(offset);
    if (len > bits) return { error: `prefix length ${len} exceeds ${bits} for ${family}` };
    const bytes = (len + 7) >> 3;
    if (offset + 1 + bytes > buf.length) return { error: `prefix of length ${len} overruns the field` };
    let address: bigint;
    if (family === "IPv4") {
      let value = 0;
      for (let i = 0; i < bytes; i++) value |= (buf[offset + 1 + i] ?? 0) << (24 - 8 * i);
      const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
      address = BigInt((value & mask) >>> 0);
    } else {
      scratch.fill(0);
      buf.copy(scratch, 0, offset + 1, offset + 1 + bytes);
      const value = (scratch.readBigUInt64BE(0) << 64n) | scratch.readBigUInt64BE(8);
      const hostMask = (1n << BigInt(bits - len)) - 1n;
      address = value & ~hostMask;
    }
    prefixes.push({ family, address, prefixLength: len });
    offset += 1 + bytes;
  }
  return { prefixes };
}
