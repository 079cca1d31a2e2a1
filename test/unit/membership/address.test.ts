import { describe, expect, it } from "vitest";
import {
  formatMemberAddress,
  MemberAddressError,
  normalizeIP,
  parseMemberAddress,
} from "../../../src/membership/address.js";

describe("member addresses", () => {
  const good: { text: string; ip: string; port: number; formatted: string }[] = [
    { text: "192.0.2.10:7000", ip: "192.0.2.10", port: 7000, formatted: "192.0.2.10:7000" },
    { text: "192.0.2.10", ip: "192.0.2.10", port: 7946, formatted: "192.0.2.10:7946" },
    { text: "[2001:db8:1::10]:7000", ip: "2001:db8:1::10", port: 7000, formatted: "[2001:db8:1::10]:7000" },
    { text: "2001:DB8:1:0::10", ip: "2001:db8:1::10", port: 7946, formatted: "[2001:db8:1::10]:7946" },
    { text: "[2001:db8::1]", ip: "2001:db8::1", port: 7946, formatted: "[2001:db8::1]:7946" },
    { text: "[::ffff:192.0.2.1]:9", ip: "192.0.2.1", port: 9, formatted: "192.0.2.1:9" },
  ];
  for (const { text, ip, port, formatted } of good) {
    it(`parses "${text}"`, () => {
      const address = parseMemberAddress(text);
      expect(address).toEqual({ ip, port });
      expect(formatMemberAddress(address)).toBe(formatted);
    });
  }

  for (const text of [
    "node-a:7946",
    "192.0.2.10:0",
    "192.0.2.10:70000",
    "[2001:db8::1]:x",
    "",
    "192.0.2.300",
  ]) {
    it(`rejects "${text}"`, () => {
      expect(() => parseMemberAddress(text)).toThrow(MemberAddressError);
    });
  }

  it("reads IPv4-mapped IPv6 (as a dual-stack socket reports senders) as IPv4", () => {
    expect(normalizeIP("::ffff:198.51.100.7")).toBe("198.51.100.7");
  });
});
