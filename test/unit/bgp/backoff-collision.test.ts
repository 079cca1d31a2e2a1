import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  backoffBase,
  backoffDelay,
  BackoffPolicyError,
  DEFAULT_CONNECT_BACKOFF,
  validateBackoffPolicy,
  type BackoffPolicy,
} from "../../../src/bgp/backoff.js";
import { collisionSurvivor, shouldDumpConnection } from "../../../src/bgp/collision.js";

const policy: BackoffPolicy = { initialMs: 1000, maxMs: 30_000, multiplier: 2, jitter: 0.25 };

describe("jittered exponential backoff", () => {
  it("doubles from the initial delay up to the cap", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 50, 5000].map((n) => backoffBase(policy, n))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000,
    ]);
  });

  it("random 0 gives the base, random near 1 takes off the whole jitter fraction", () => {
    expect(backoffDelay(policy, 2, () => 0)).toBe(4000);
    expect(backoffDelay(policy, 2, () => 0.999999)).toBe(3000);
  });

  it("stays within [(1 - jitter) × base, base] and never above the cap, for any attempt and random value", () => {
    const arbPolicy = fc.record({
      initialMs: fc.integer({ min: 1, max: 10_000 }),
      extra: fc.integer({ min: 0, max: 1_000_000 }),
      multiplier: fc.double({ min: 1, max: 4, noNaN: true }),
      jitter: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(
        arbPolicy,
        fc.nat({ max: 10_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (p, attempt, r) => {
          const pol: BackoffPolicy = {
            initialMs: p.initialMs,
            maxMs: p.initialMs + p.extra,
            multiplier: p.multiplier,
            jitter: p.jitter,
          };
          const base = backoffBase(pol, attempt);
          const d = backoffDelay(pol, attempt, () => r);
          expect(d).toBeLessThanOrEqual(Math.round(base));
          expect(d).toBeGreaterThanOrEqual(Math.round(base * (1 - pol.jitter)) - 1);
          expect(d).toBeLessThanOrEqual(pol.maxMs);
          expect(backoffBase(pol, attempt + 1)).toBeGreaterThanOrEqual(base);
        },
      ),
    );
  });

  it("the default policy is valid", () => {
    expect(() => {
      validateBackoffPolicy(DEFAULT_CONNECT_BACKOFF);
    }).not.toThrow();
  });

  const invalid: { description: string; p: BackoffPolicy }[] = [
    { description: "zero initial delay", p: { ...policy, initialMs: 0 } },
    { description: "cap below the initial delay", p: { ...policy, maxMs: 10 } },
    { description: "multiplier below 1", p: { ...policy, multiplier: 0.5 } },
    { description: "jitter above 1", p: { ...policy, jitter: 1.5 } },
    { description: "NaN jitter", p: { ...policy, jitter: Number.NaN } },
  ];
  for (const c of invalid) {
    it(`rejects ${c.description}`, () => {
      expect(() => {
        validateBackoffPolicy(c.p);
      }).toThrow(BackoffPolicyError);
    });
  }
});

describe("collision resolution (RFC 4271 6.8, RFC 6286)", () => {
  const cases: {
    description: string;
    local: [number, number];
    remote: [number, number];
    survivor: "local" | "remote";
  }[] = [
    {
      description: "higher local identifier keeps our connection",
      local: [0xc0000202, 64512],
      remote: [0xc0000201, 64513],
      survivor: "local",
    },
    {
      description: "higher remote identifier keeps the peer's connection",
      local: [0xc0000201, 64512],
      remote: [0xc0000202, 64513],
      survivor: "remote",
    },
    {
      description: "identifiers compare as unsigned 32-bit numbers",
      local: [0x7fffffff, 1],
      remote: [0x80000000, 2],
      survivor: "remote",
    },
    {
      description: "equal identifiers: the higher AS keeps its connection",
      local: [5, 65000],
      remote: [5, 64000],
      survivor: "local",
    },
    {
      description: "equal identifiers, lower local AS",
      local: [5, 64000],
      remote: [5, 65000],
      survivor: "remote",
    },
  ];
  for (const c of cases) {
    it(c.description, () => {
      const local = { bgpId: c.local[0], asn: c.local[1] };
      const remote = { bgpId: c.remote[0], asn: c.remote[1] };
      expect(collisionSurvivor(local, remote)).toBe(c.survivor);
      expect(shouldDumpConnection(local, remote, c.survivor)).toBe(false);
      expect(shouldDumpConnection(local, remote, c.survivor === "local" ? "remote" : "local")).toBe(true);
    });
  }

  it("both speakers agree on the survivor", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 0xffffffff }),
        fc.nat(),
        fc.nat(),
        (a, b, asA, asB) => {
          fc.pre(a !== b || asA !== asB);
          const viewA = collisionSurvivor({ bgpId: a, asn: asA }, { bgpId: b, asn: asB });
          const viewB = collisionSurvivor({ bgpId: b, asn: asB }, { bgpId: a, asn: asA });
          // The connection A initiated is "local" for A and "remote" for B.
          expect(viewA === "local").toBe(viewB === "remote");
        },
      ),
    );
  });
});
