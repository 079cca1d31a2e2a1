import type { IPFamily, IPRange } from "../net/ip.js";
import { IntervalSet } from "./intervalSet.js";

/**
 * The usable addresses of one pool range, numbered 0..capacity-1 ("ordinals"), with the set of
 * ordinals in use. When the pool avoids buggy IPs, IPv4 addresses ending in .0 and .255 get no
 * ordinal at all: each /24 contributes 254 consecutive ordinals, so "lowest free address" never
 * has to step over them one by one.
 */
export class AddressRange {
  readonly family: IPFamily;
  readonly first: bigint;
  readonly last: bigint;
  /** Number of usable addresses. */
  readonly capacity: bigint;
  readonly used = new IntervalSet();
  private readonly skipBuggy: boolean;
  /** Compressed coordinate of the first usable address (identity when not skipping). */
  private readonly base: bigint;

  constructor(range: IPRange, avoidBuggyIPs: boolean) {
    this.family = range.family;
    this.first = range.first;
    this.last = range.last;
    this.skipBuggy = avoidBuggyIPs && range.family === "IPv4";
    if (!this.skipBuggy) {
      this.base = range.first;
      this.capacity = range.last - range.first + 1n;
      return;
    }
    const lo = roundUpToUsable(range.first);
    const hi = roundDownToUsable(range.last);
    this.base = compress(lo);
    this.capacity = lo <= hi ? compress(hi) - this.base + 1n : 0n;
  }

  /** True when the range avoids this address (it ends in .0 or .255 and the pool skips those). */
  avoids(address: bigint): boolean {
    return this.skipBuggy && isBuggyIPv4(address);
  }

  contains(address: bigint): boolean {
    return this.first <= address && address <= this.last;
  }

  /** The ordinal of a usable address inside the range; undefined for an avoided one. */
  ordinalOf(address: bigint): bigint | undefined {
    if (!this.skipBuggy) return address - this.base;
    if (isBuggyIPv4(address)) return undefined;
    return compress(address) - this.base;
  }

  addressOf(ordinal: bigint): bigint {
    if (!this.skipBuggy) return ordinal + this.base;
    const c = ordinal + this.base;
    return (c / 254n) * 256n + (c % 254n) + 1n;
  }

  get free(): bigint {
    return this.capacity - this.used.size;
  }

  get isFull(): boolean {
    return this.used.size === this.capacity;
  }

  /** The lowest free address, or undefined when the range is full. */
  lowestFree(): bigint | undefined {
    const ordinal = this.used.firstAbsentFrom(0n);
    return ordinal < this.capacity ? this.addressOf(ordinal) : undefined;
  }
}

export function isBuggyIPv4(address: bigint): boolean {
  const low = address & 0xffn;
  return low === 0n || low === 0xffn;
}

/** Maps a non-buggy IPv4 address to a gap-free coordinate: 254 per /24. */
function compress(address: bigint): bigint {
  return (address >> 8n) * 254n + (address & 0xffn) - 1n;
}

function roundUpToUsable(address: bigint): bigint {
  const low = address & 0xffn;
  if (low === 0n) return address + 1n;
  if (low === 0xffn) return address + 2n;
  return address;
}

function roundDownToUsable(address: bigint): bigint {
  const low = address & 0xffn;
  if (low === 0n) return address - 2n; // x.y.z.0 → x.y.(z-1).254 (callers compare with lo first)
  if (low === 0xffn) return address - 1n;
  return address;
}
