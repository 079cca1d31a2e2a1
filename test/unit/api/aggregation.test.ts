import { describe, expect, it } from "vitest";
import { widestBlockPrefix } from "../../../src/api/rules/aggregation.js";
import { parseAddressRange } from "../../../src/net/ip.js";

describe("the widest CIDR block of a pool entry", () => {
  it.each([
    ["198.51.100.0/24", 24],
    ["198.51.100.5", 32],
    ["192.168.1.240-192.168.1.250", 29],
    ["192.168.1.241-192.168.1.254", 30],
    ["192.0.2.0-192.0.2.255", 24],
    ["0.0.0.0/0", 0],
    ["2001:db8:100::/120", 120],
    ["2001:db8:1::200-2001:db8:1::2ff", 120],
    ["2001:db8:1::1-2001:db8:1::ffff", 113],
  ])("%s: /%d", (text, prefix) => {
    expect(widestBlockPrefix(parseAddressRange(text))).toBe(prefix);
  });
});
