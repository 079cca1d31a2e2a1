import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  formatIP,
  parseAddressRange,
  parseCIDR,
  parseIP,
  tryParseIP,
  IPParseError,
  formatRange,
} from "../../../src/net/ip.js";

describe("parseIP / formatIP", () => {
  const cases: [string, string][] = [
    ["192.0.2.1", "192.0.2.1"],
    ["0.0.0.0", "0.0.0.0"],
    ["255.255.255.255", "255.255.255.255"],
    ["2001:DB8::1", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["::", "::"],
    ["::1", "::1"],
    ["::ffff:192.0.2.1", "::ffff:c000:201"],
    ["2001:db8:1::200", "2001:db8:1::200"],
  ];
  for (const [input, canonical] of cases) {
    it(`${input} → ${canonical}`, () => {
      expect(formatIP(parseIP(input))).toBe(canonical);
    });
  }

  const invalid = [
    "",
    "1.2.3",
    "1.2.3.4.5",
    "256.0.0.1",
    "01.2.3.4",
    "1::2::3",
    "12345::",
    "1:2:3:4:5:6:7:8:9",
    "g::1",
    "1.2.3.4/32",
  ];
  for (const text of invalid) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      expect(tryParseIP(text)).toBeUndefined();
      expect(() => parseIP(text)).toThrow(IPParseError);
    });
  }

  it("round-trips every IPv6 value", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (value) => {
        const text = formatIP({ family: "IPv6", value });
        expect(parseIP(text)).toEqual({ family: "IPv6", value });
      }),
    );
  });

  it("round-trips every IPv4 value", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), (value) => {
        expect(parseIP(formatIP({ family: "IPv4", value }))).toEqual({ family: "IPv4", value });
      }),
    );
  });
});

describe("parseCIDR / parseAddressRange", () => {
  it("parses CIDRs into ranges", () => {
    expect(formatRange(parseAddressRange("192.0.2.0/24"))).toBe("192.0.2.0-192.0.2.255");
    expect(formatRange(parseAddressRange("2001:db8:100::/120"))).toBe("2001:db8:100::-2001:db8:100::ff");
    expect(formatRange(parseAddressRange("192.0.2.7/32"))).toBe("192.0.2.7");
  });

  it("rejects host bits in strict mode and names the network", () => {
    expect(() => parseCIDR("192.0.2.1/24")).toThrow(/host bits are set \(did you mean 192\.0\.2\.0\/24\?\)/);
    expect(parseCIDR("192.0.2.1/24", false).address).toBe(parseIP("192.0.2.0").value);
  });

  it("parses ranges, tolerating spaces around the dash", () => {
    expect(formatRange(parseAddressRange("192.0.2.200 - 192.0.2.250"))).toBe("192.0.2.200-192.0.2.250");
  });

  it.each([
    ["192.0.2.9-192.0.2.1", /start is after its end/],
    ["192.0.2.1-2001:db8::1", /mixes families/],
    ["192.0.2.0/33", /prefix length/],
    ["banana", /not a CIDR/],
    ["192.0.2.1-nope", /range end/],
  ])("rejects %s", (text, message) => {
    expect(() => parseAddressRange(text)).toThrow(message);
  });
});
