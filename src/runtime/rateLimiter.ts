import { systemClock, type Clock } from "./clock.js";

/**
 * Decides how long a failed key waits before it is retried (client-go's RateLimiter shape).
 * `when` records a failure and returns the delay; `forget` clears the key's history.
 */
export interface RateLimiter {
  when(key: string): number;
  forget(key: string): void;
  numRequeues(key: string): number;
}

/** Per-key exponential delay: base, 2×base, 4×base, … up to max; forget() starts over. */
export class ItemExponentialRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {}

  when(key: string): number {
    const exponent = this.failures.get(key) ?? 0;
    this.failures.set(key, exponent + 1);
    // 2^1024 is Infinity; min() handles it, but stop multiplying long before that.
    if (exponent > 62) return this.maxMs;
    return Math.min(this.maxMs, this.baseMs * 2 ** exponent);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

/**
 * An overall token bucket (qps refill, burst capacity) shared by all keys. Each `when` reserves a
 * token; when the bucket is empty the delay is the time until that reservation is covered, so a
 * storm of failures is spread out at `qps` instead of hammering the API server.
 */
export class TokenBucketRateLimiter implements RateLimiter {
  private tokens: number;
  private lastRefill: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly clock: Clock = systemClock,
  ) {
    this.tokens = burst;
    this.lastRefill = clock.now();
  }

  when(_key: string): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastRefill) / 1000) * this.qps);
    this.lastRefill = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  forget(_key: string): void {
    // The bucket is shared; nothing per key to forget.
  }

  numRequeues(_key: string): number {
    return 0;
  }
}

/** The longest delay any of the limiters asks for (every limiter records the failure). */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }

  when(key: string): number {
    let delay = 0;
    for (const limiter of this.limiters) delay = Math.max(delay, limiter.when(key));
    return delay;
  }

  forget(key: string): void {
    for (const limiter of this.limiters) limiter.forget(key);
  }

  numRequeues(key: string): number {
    let count = 0;
    for (const limiter of this.limiters) count = Math.max(count, limiter.numRequeues(key));
    return count;
  }
}

export interface ControllerRateLimiterOptions {
  readonly baseMs?: number;
  readonly maxMs?: number;
  readonly qps?: number;
  readonly burst?: number;
  readonly clock?: Clock;
}

/**
 * The default for reconcile loops: per-key 5 ms doubling to 1000 s, combined with an overall
 * 10 qps / burst 100 bucket (client-go's DefaultControllerRateLimiter values).
 */
export function defaultControllerRateLimiter(options: ControllerRateLimiterOptions = {}): RateLimiter {
  return new MaxOfRateLimiter(
    new ItemExponentialRateLimiter(options.baseMs ?? 5, options.maxMs ?? 1_000_000),
    new TokenBucketRateLimiter(options.qps ?? 10, options.burst ?? 100, options.clock ?? systemClock),
  );
}
