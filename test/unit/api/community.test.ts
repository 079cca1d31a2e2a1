import { describe, expect, it } from "vitest";
import { formatCommunity, parseCommunity } from "../../../src/api/community.js";

describe("BGP communities", () => {
  it.each([
    ["65000:100", { kind: "standard", asn16: 65000, value16: 100 }],
    ["0:0", { kind: "standard", asn16: 0, value16: 0 }],
    ["65535:65281", { kind: "standard", asn16: 65535, value16: 65281 }],
    ["large:64500:1:2", { kind: "large", global: 64500, local1: 1, local2: 2 }],
    ["large:4294967295:0:4294967295", { kind: "large", global: 4294967295, local1: 0, local2: 4294967295 }],
  ])("parses %s", (text, community) => {
    expect(parseCommunity(text)).toEqual({ ok: true, community });
    expect(formatCommunity(community as never)).toBe(text);
  });

  it.each([
    { text: "65536:1", literal: true, reason: "0 to 65535" },
    { text: "1:65536", literal: true, reason: "0 to 65535" },
    { text: "01:1", literal: true, reason: "0 to 65535" },
    { text: "1:2:3", literal: true, reason: "not a community" },
    { text: "a:b", literal: true, reason: "not a community" },
    { text: "large:1:2", literal: true, reason: "three numbers" },
    { text: "large:1:2:4294967296", literal: true, reason: "0 to 4294967295" },
    { text: "large:-1:2:3", literal: true, reason: "0 to 4294967295" },
    { text: "gold", literal: false, reason: "not a community literal" },
  ])("rejects $text", ({ text, literal, reason }) => {
    const parsed = parseCommunity(text);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.literal).toBe(literal);
    expect(parsed.reason).toContain(reason);
  });
});
