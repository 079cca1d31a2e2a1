import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  Backoff,
  backoffBase,
  BackoffPolicyError,
  BackoffTimer,
  backoffDelay,
  validateBackoffPolicy,
  type BackoffPolicy,
} from "../../../src/runtime/backoff.js";
import { ManualClock, sleep } from "../../../src/runtime/clock.js";

const middle = (): number => 0.5; // jitter factor exactly 1

describe("backoffDelay, jitter around the base (the default)", () => {
  const policy: BackoffPolicy = { initialMs: 100, maxMs: 5000, multiplier: 2, jitter: 0.2 };
  const cases: { description: string; attempt: number; random: number; expected: number }[] = [
    { description: "first retry, no jitter", attempt: 0, random: 0.5, expected: 100 },
    { description: "third retry, no jitter", attempt: 2, random: 0.5, expected: 400 },
    { description: "capped at max", attempt: 10, random: 0.5, expected: 5000 },
    { description: "lowest jitter scales by 0.8", attempt: 1, random: 0, expected: 160 },
    { description: "highest jitter approaches 1.2", attempt: 1, random: 0.999999, expected: 240 },
    { description: "jitter applies around the cap", attempt: 30, random: 0, expected: 4000 },
  ];
  for (const { description, attempt, random, expected } of cases) {
    it(description, () => {
      expect(backoffDelay(policy, attempt, () => random)).toBe(expected);
    });
  }

  it("stays within [base×(1-j), base×(1+j)] of the capped base for any attempt", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, r) => {
          const base = Math.min(5000, 100 * 2 ** attempt);
          const delay = backoffDelay(policy, attempt, () => r);
          return delay >= Math.floor(base * 0.8) && delay <= Math.ceil(base * 1.2);
        },
      ),
    );
  });
});

describe("backoffBase", () => {
  it("multiplies from the initial delay up to the cap, also for huge attempt numbers", () => {
    const policy: BackoffPolicy = { initialMs: 1000, maxMs: 30_000, multiplier: 2, jitter: 0.25 };
    expect([0, 1, 2, 3, 4, 5, 6, 50, 5000].map((n) => backoffBase(policy, n))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000,
    ]);
  });
});

describe("backoffDelay, jitter below the base (BGP, RFC 4271 section 10)", () => {
  const policy: BackoffPolicy = { initialMs: 1000, maxMs: 30_000, multiplier: 2, jitter: 0.25 };

  it("random 0 gives the base, random near 1 takes off the whole jitter fraction", () => {
    expect(backoffDelay(policy, 2, () => 0, "below")).toBe(4000);
    expect(backoffDelay(policy, 2, () => 0.999999, "below")).toBe(3000);
  });

  it("stays within [(1 - jitter) × base, base] and never above the cap, for any attempt and random value", () => {
    const arbPolicy = fc.record({
      initialMs: fc.integer({ min: 1, max: 10_000 }),
      extra: fc.integer({ min: 0, max: 1_000_000 }),
      multiplier: fc.double({ min: 1, max: 4, noNaN: true }),
      jitter: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
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
          validateBackoffPolicy(pol);
          const base = backoffBase(pol, attempt);
          const d = backoffDelay(pol, attempt, () => r, "below");
          expect(d).toBeLessThanOrEqual(Math.round(base));
          expect(d).toBeGreaterThanOrEqual(Math.round(base * (1 - p.jitter)) - 1);
          expect(d).toBeLessThanOrEqual(pol.maxMs);
          expect(backoffBase(pol, attempt + 1)).toBeGreaterThanOrEqual(base);
        },
      ),
    );
  });
});

describe("validateBackoffPolicy", () => {
  const invalid: { description: string; policy: BackoffPolicy }[] = [
    { description: "zero initial", policy: { initialMs: 0, maxMs: 10 } },
    { description: "max below initial", policy: { initialMs: 10, maxMs: 5 } },
    { description: "multiplier below 1", policy: { initialMs: 10, maxMs: 50, multiplier: 0.5 } },
    { description: "jitter of 1", policy: { initialMs: 10, maxMs: 50, jitter: 1 } },
    { description: "jitter above 1", policy: { initialMs: 10, maxMs: 50, jitter: 1.5 } },
    { description: "NaN jitter", policy: { initialMs: 10, maxMs: 50, jitter: NaN } },
    { description: "NaN initial", policy: { initialMs: NaN, maxMs: 50 } },
    { description: "infinite cap", policy: { initialMs: 10, maxMs: Infinity } },
  ];
  for (const { description, policy } of invalid) {
    it(`rejects ${description}`, () => {
      expect(() => {
        validateBackoffPolicy(policy);
      }).toThrow(BackoffPolicyError);
    });
  }
});

describe("Backoff", () => {
  it("grows per attempt and starts over after reset()", () => {
    const backoff = new Backoff({ initialMs: 10, maxMs: 1000 }, { random: middle });
    expect([backoff.nextDelay(), backoff.nextDelay(), backoff.nextDelay()]).toEqual([10, 20, 40]);
    expect(backoff.attempts).toBe(3);
    backoff.reset();
    expect(backoff.nextDelay()).toBe(10);
  });

  it("wait() sleeps on the injected clock and resolves false at once on abort", async () => {
    const clock = new ManualClock();
    const backoff = new Backoff({ initialMs: 10, maxMs: 1000, jitter: 0 }, { clock });
    let done: boolean | undefined;
    void backoff.wait().then((v) => (done = v));
    await clock.advance(9);
    expect(done).toBeUndefined();
    await clock.advance(1);
    expect(done).toBe(true);

    const controller = new AbortController();
    const aborted = backoff.wait(controller.signal);
    controller.abort();
    await expect(aborted).resolves.toBe(false);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe("BackoffTimer", () => {
  it("runs the callback after each growing delay; stop() cancels; reset() restarts the growth", async () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    const timer = new BackoffTimer(
      () => {
        fired.push(clock.now());
      },
      { initialMs: 100, maxMs: 1000, jitter: 0 },
      { clock },
    );
    expect(timer.runOnce()).toBe(100);
    expect(timer.isRunning()).toBe(true);
    await clock.advance(100);
    expect(timer.isRunning()).toBe(false);
    timer.runOnce(); // 200
    await clock.advance(200);
    expect(fired).toEqual([100, 300]);
    timer.runOnce(); // 400
    timer.stop();
    await clock.advance(1000);
    expect(fired).toEqual([100, 300]);
    timer.reset();
    expect(timer.runOnce()).toBe(100);
  });
});

describe("sleep / ManualClock", () => {
  it("fires timers in due order with now() at each due time", async () => {
    const clock = new ManualClock(1000);
    const order: [string, number][] = [];
    clock.setTimeout(() => order.push(["b", clock.now()]), 20);
    clock.setTimeout(() => order.push(["a", clock.now()]), 10);
    clock.setTimeout(() => order.push(["c", clock.now()]), 20);
    await clock.advance(25);
    expect(order).toEqual([
      ["a", 1010],
      ["b", 1020],
      ["c", 1020],
    ]);
    expect(clock.now()).toBe(1025);
  });

  it("an already-aborted signal resolves false without scheduling", async () => {
    const clock = new ManualClock();
    await expect(sleep(clock, 10, AbortSignal.abort())).resolves.toBe(false);
    expect(clock.pendingTimers()).toBe(0);
  });
});
