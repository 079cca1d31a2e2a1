import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/runtime/clock.js";
import {
  ItemExponentialRateLimiter,
  MaxOfRateLimiter,
  TokenBucketRateLimiter,
  defaultControllerRateLimiter,
} from "../../../src/runtime/rateLimiter.js";

describe("ItemExponentialRateLimiter", () => {
  it("doubles from the base per failure of the same key and caps at max", () => {
    const limiter = new ItemExponentialRateLimiter(5, 1_000_000);
    const delays = Array.from({ length: 20 }, () => limiter.when("k"));
    expect(delays.slice(0, 5)).toEqual([5, 10, 20, 40, 80]);
    // 5 ms × 2^18 = 1,310,720 ms exceeds the 1000 s cap.
    expect(delays[17]).toBe(655_360);
    expect(delays[18]).toBe(1_000_000);
    expect(delays[19]).toBe(1_000_000);
  });

  it("stays at max after very many failures (no overflow)", () => {
    const limiter = new ItemExponentialRateLimiter(5, 1_000_000);
    let last = 0;
    for (let i = 0; i < 2000; i++) last = limiter.when("k");
    expect(last).toBe(1_000_000);
    expect(limiter.numRequeues("k")).toBe(2000);
  });

  it("forget() starts the key over; other keys are independent", () => {
    const limiter = new ItemExponentialRateLimiter(5, 1000);
    limiter.when("a");
    limiter.when("a");
    expect(limiter.when("b")).toBe(5);
    limiter.forget("a");
    expect(limiter.numRequeues("a")).toBe(0);
    expect(limiter.when("a")).toBe(5);
  });
});

describe("TokenBucketRateLimiter", () => {
  it("lets a burst through at once, then spaces reservations at 1/qps", () => {
    const clock = new ManualClock();
    const limiter = new TokenBucketRateLimiter(10, 3, clock);
    expect([limiter.when("a"), limiter.when("b"), limiter.when("c")]).toEqual([0, 0, 0]);
    expect([limiter.when("d"), limiter.when("e")]).toEqual([100, 200]);
  });

  it("refills over time up to the burst size", async () => {
    const clock = new ManualClock();
    const limiter = new TokenBucketRateLimiter(10, 2, clock);
    limiter.when("a");
    limiter.when("a");
    await clock.advance(10_000);
    expect([limiter.when("a"), limiter.when("a"), limiter.when("a")]).toEqual([0, 0, 100]);
  });
});

describe("MaxOfRateLimiter / defaultControllerRateLimiter", () => {
  it("takes the longest delay of its limiters", () => {
    const clock = new ManualClock();
    const limiter = new MaxOfRateLimiter(
      new ItemExponentialRateLimiter(5, 1000),
      new TokenBucketRateLimiter(1, 1, clock),
    );
    expect(limiter.when("a")).toBe(5); // bucket has a token; per-key says 5
    expect(limiter.when("a")).toBe(1000); // bucket empty: 1 s; per-key says 10
    expect(limiter.numRequeues("a")).toBe(2);
    limiter.forget("a");
    expect(limiter.numRequeues("a")).toBe(0);
  });

  it("the default combines 5 ms doubling per key with a 10 qps / 100 burst bucket", () => {
    const clock = new ManualClock();
    const limiter = defaultControllerRateLimiter({ clock });
    const delays = Array.from({ length: 101 }, (_, i) => limiter.when(`key-${i}`));
    expect(delays.slice(0, 100).every((d) => d === 5)).toBe(true);
    expect(delays[100]).toBe(100);
  });
});
