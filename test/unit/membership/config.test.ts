import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_MEMBERSHIP_CONFIG,
  expectedConfirmations,
  membershipConfig,
  MembershipConfigError,
  retransmitLimit,
  suspicionBounds,
  suspicionTimeout,
} from "../../../src/membership/config.js";

const defaults = DEFAULT_MEMBERSHIP_CONFIG;

describe("membership timing math", () => {
  const bounds: { description: string; members: number; minMs: number; maxMs: number }[] = [
    { description: "a lone member", members: 1, minMs: 400, maxMs: 1200 },
    { description: "3 members", members: 3, minMs: 400, maxMs: 1200 },
    { description: "10 members", members: 10, minMs: 400, maxMs: 1200 },
    { description: "100 members (log10 scaling)", members: 100, minMs: 800, maxMs: 2400 },
  ];
  for (const { description, members, minMs, maxMs } of bounds) {
    it(`suspicion bounds for ${description}: Smin ${minMs} ms, Smax ${maxMs} ms`, () => {
      const result = suspicionBounds(defaults, members);
      expect(result.minMs).toBeCloseTo(minMs, 6);
      expect(result.maxMs).toBeCloseTo(maxMs, 6);
    });
  }

  it("expects min(3, n - 2) confirmations", () => {
    expect([1, 2, 3, 4, 5, 50].map((n) => expectedConfirmations(defaults, n))).toEqual([0, 0, 1, 2, 3, 3]);
  });

  const timeouts: { description: string; confirmations: number; expected: number; ms: number }[] = [
    { description: "no confirmation waits Smax", confirmations: 0, expected: 3, ms: 1200 },
    { description: "one of three: log(2)/log(4) of the way", confirmations: 1, expected: 3, ms: 800 },
    { description: "all expected reach Smin", confirmations: 3, expected: 3, ms: 400 },
    { description: "more than expected stay at Smin", confirmations: 7, expected: 3, ms: 400 },
    { description: "nobody to confirm (n = 2): Smin at once", confirmations: 0, expected: 0, ms: 400 },
    { description: "the single expected confirmation (n = 3)", confirmations: 1, expected: 1, ms: 400 },
  ];
  for (const { description, confirmations, expected, ms } of timeouts) {
    it(`suspicion timeout: ${description}`, () => {
      expect(suspicionTimeout({ minMs: 400, maxMs: 1200 }, confirmations, expected)).toBe(ms);
    });
  }

  it("never grows with more confirmations and stays within [Smin, Smax] (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 0, max: 20 }),
        (minMs, factor, expected, confirmations) => {
          const b = { minMs, maxMs: minMs * factor };
          const now = suspicionTimeout(b, confirmations, expected);
          const next = suspicionTimeout(b, confirmations + 1, expected);
          expect(next).toBeLessThanOrEqual(now);
          expect(now).toBeGreaterThanOrEqual(b.minMs);
          expect(now).toBeLessThanOrEqual(b.maxMs);
        },
      ),
    );
  });

  it("retransmits λ·ceil(log10(n + 1)) times", () => {
    expect([1, 3, 9, 10, 99, 100].map((n) => retransmitLimit(defaults, n))).toEqual([4, 4, 4, 8, 8, 12]);
  });

  it("bounds the tolerated stall by T + Smin: 600 ms at the defaults (simulation.test.ts checks the behaviour)", () => {
    const tolerance = defaults.probeIntervalMs + suspicionBounds(defaults, 10).minMs;
    expect(tolerance).toBe(600);
  });
});

describe("membershipConfig", () => {
  it("fills in the defaults and keeps overrides", () => {
    expect(membershipConfig({ probeIntervalMs: 500 })).toEqual({ ...defaults, probeIntervalMs: 500 });
  });

  const invalid: { description: string; overrides: Parameters<typeof membershipConfig>[0]; error: RegExp }[] =
    [
      {
        description: "a zero probe interval",
        overrides: { probeIntervalMs: 0 },
        error: /probeIntervalMs must be a positive/,
      },
      {
        description: "a probe timeout as long as the round",
        overrides: { probeIntervalMs: 100, probeTimeoutMs: 100 },
        error: /probeTimeoutMs must be shorter/,
      },
      {
        description: "a fractional fanout",
        overrides: { gossipFanout: 1.5 },
        error: /gossipFanout must be an integer/,
      },
      { description: "a tiny packet size", overrides: { maxPacketBytes: 100 }, error: /maxPacketBytes/ },
      {
        description: "a max multiplier under 1",
        overrides: { suspicionMaxMult: 0.5 },
        error: /suspicionMaxMult/,
      },
      { description: "NaN", overrides: { gossipIntervalMs: Number.NaN }, error: /gossipIntervalMs/ },
    ];
  for (const { description, overrides, error } of invalid) {
    it(`rejects ${description}`, () => {
      expect(() => membershipConfig(overrides)).toThrow(MembershipConfigError);
      expect(() => membershipConfig(overrides)).toThrow(error);
    });
  }
});
