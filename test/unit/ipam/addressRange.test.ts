import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { AddressRange, isBuggyIPv4 } from "../../../src/ipam/addressRange.js";
import { formatIP, parseAddressRange, parseIP } from "../../../src/net/ip.js";

const v4 = (text: string): bigint => parseIP(text).value;
const text4 = (value: bigint | undefined): string | undefined =>
  value === undefined ? undefined : formatIP({ family: "IPv4", value });

describe("AddressRange capacity", () => {
  it.each([
    { description: "plain /24", range: "192.0.2.0/24", avoid: false, capacity: 256n },
    { description: "/24 avoiding .0 and .255", range: "192.0.2.0/24", avoid: true, capacity: 254n },
    {
      description: "/16 avoiding buggy IPs: 254 per /24",
      range: "10.1.0.0/16",
      avoid: true,
      capacity: 65_024n,
    },
    {
      description: "range inside a /24 has none to avoid",
      range: "192.0.2.10-192.0.2.20",
      avoid: true,
      capacity: 11n,
    },
    { description: "range ending at .255", range: "192.0.2.250-192.0.2.255", avoid: true, capacity: 5n },
    {
      description: "range crossing a /24 boundary",
      range: "192.0.2.250-192.0.3.5",
      avoid: true,
      capacity: 10n,
    },
    { description: "a lone .0 is empty when avoided", range: "192.0.2.0", avoid: true, capacity: 0n },
    {
      description: "a .255-.0 pair is empty when avoided",
      range: "192.0.2.255-192.0.3.0",
      avoid: true,
      capacity: 0n,
    },
    { description: "0.0.0.0 alone", range: "0.0.0.0", avoid: true, capacity: 0n },
    { description: "255.255.255.255 alone", range: "255.255.255.255", avoid: true, capacity: 0n },
    { description: "IPv6 ignores avoidBuggyIPs", range: "2001:db8::/120", avoid: true, capacity: 256n },
    { description: "IPv6 /64", range: "2001:db8:1::/64", avoid: false, capacity: 1n << 64n },
  ])("$description", ({ range, avoid, capacity }) => {
    expect(new AddressRange(parseAddressRange(range), avoid).capacity).toBe(capacity);
  });
});

describe("AddressRange ordinals", () => {
  it("numbers usable addresses without gaps and skips .0/.255", () => {
    const r = new AddressRange(parseAddressRange("192.0.2.253-192.0.3.2"), true);
    const addresses = [0n, 1n, 2n, 3n].map((o) => text4(r.addressOf(o)));
    expect(addresses).toEqual(["192.0.2.253", "192.0.2.254", "192.0.3.1", "192.0.3.2"]);
    expect(r.ordinalOf(v4("192.0.3.1"))).toBe(2n);
    expect(r.ordinalOf(v4("192.0.3.0"))).toBeUndefined();
    expect(r.ordinalOf(v4("192.0.2.255"))).toBeUndefined();
    expect(r.avoids(v4("192.0.2.255"))).toBe(true);
    expect(r.avoids(v4("192.0.2.254"))).toBe(false);
  });

  it("ordinalOf and addressOf are inverse over usable addresses", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.boolean(),
        (start, length, avoid) => {
          const last = Math.min(start + length, 2 ** 32 - 1);
          const r = new AddressRange({ family: "IPv4", first: BigInt(start), last: BigInt(last) }, avoid);
          let expected = 0n;
          for (let a = BigInt(start); a <= BigInt(last); a += 97n) {
            const ord = r.ordinalOf(a);
            if (avoid && isBuggyIPv4(a)) {
              expect(ord).toBeUndefined();
              continue;
            }
            expect(ord).toBeDefined();
            expect(r.addressOf(ord as bigint)).toBe(a);
            expect(ord as bigint).toBeGreaterThanOrEqual(expected);
            expected = ord as bigint;
          }
          if (r.capacity > 0n) expect(r.addressOf(r.capacity - 1n)).toBeLessThanOrEqual(BigInt(last));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("lowestFree follows the used set and reports a full range", () => {
    const r = new AddressRange(parseAddressRange("192.0.2.254-192.0.3.1"), true);
    expect(r.capacity).toBe(2n);
    expect(text4(r.lowestFree())).toBe("192.0.2.254");
    r.used.add(0n);
    expect(text4(r.lowestFree())).toBe("192.0.3.1");
    r.used.add(1n);
    expect(r.lowestFree()).toBeUndefined();
    expect(r.free).toBe(0n);
  });
});
