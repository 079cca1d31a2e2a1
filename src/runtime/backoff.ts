/**
 * Jittered exponential backoff, the one implementation for every retry in IronLB (informer
 * restarts, leader election, status writes, BGP connect retries…). The delay of attempt n is
 * min(max, initial × multiplier^n), then jittered; the random source is injected for tests.
 */
import { sleep, systemClock, type Clock } from "./clock.js";

/** Returns a number in [0, 1), like Math.random. */
export type RandomSource = () => number;

/** How retry delays grow: initial × multiplier^attempt, capped at max, then jittered. */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Growth factor per attempt; default 2. */
  readonly multiplier?: number;
  /**
   * Spread as a fraction of the delay, in [0, 1); default 0.2. Jitter keeps many clients that
   * failed together (all informers after an API server restart, speakers that lost a router)
   * from retrying in lockstep. How it applies is the caller's JitterMode.
   */
  readonly jitter?: number;
}

/**
 * - "around": the delay is scaled by a random factor in [1 - jitter, 1 + jitter).
 * - "below": scaled by a factor in (1 - jitter, 1], so never longer than the base: the
 *   RFC 4271 (section 10) rule for BGP's ConnectRetry and IdleHold timers.
 */
export type JitterMode = "around" | "below";

export class BackoffPolicyError extends Error {
  override readonly name = "BackoffPolicyError";
  readonly code = "ERR_BACKOFF_POLICY";
}

export function validateBackoffPolicy(policy: BackoffPolicy): void {
  const { initialMs, maxMs, multiplier = 2, jitter = 0.2 } = policy;
  if (!(initialMs > 0) || !Number.isFinite(initialMs)) {
    throw new BackoffPolicyError(`initialMs must be a positive number, got ${initialMs}`);
  }
  if (!(maxMs >= initialMs) || !Number.isFinite(maxMs)) {
    throw new BackoffPolicyError(`maxMs must be at least initialMs (${initialMs}), got ${maxMs}`);
  }
  if (!(multiplier >= 1) || !Number.isFinite(multiplier)) {
    throw new BackoffPolicyError(`multiplier must be at least 1, got ${multiplier}`);
  }
  if (!(jitter >= 0 && jitter < 1)) {
    throw new BackoffPolicyError(`jitter must be in [0, 1), got ${jitter}`);
  }
}

/**
 * The un-jittered delay of retry `attempt` (0-based). multiplier^attempt may reach Infinity;
 * the cap takes it back to maxMs.
 */
export function backoffBase(policy: BackoffPolicy, attempt: number): number {
  const { initialMs, maxMs, multiplier = 2 } = policy;
  return Math.min(maxMs, initialMs * multiplier ** Math.max(0, attempt));
}

/**
 * The delay before retry number `attempt` (0 = first retry). Pure. The cap applies before
 * jitter, so with "around" a capped delay still spreads around maxMs.
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: RandomSource,
  mode: JitterMode = "around",
): number {
  const jitter = policy.jitter ?? 0.2;
  const r = Math.min(Math.max(random(), 0), 1);
  const factor = mode === "around" ? 1 + jitter * (2 * r - 1) : 1 - jitter * r;
  return Math.round(backoffBase(policy, attempt) * factor);
}

export interface BackoffDeps {
  readonly clock?: Clock;
  readonly random?: RandomSource;
}

/**
 * A stateful jittered exponential backoff: each `wait()` (or `nextDelay()`) uses the next,
 * longer delay until `reset()`. Used by informer restarts, leader-election retries and
 * anything else that retries a failing operation.
 */
export class Backoff {
  private attemptCount = 0;
  private readonly clock: Clock;
  private readonly random: RandomSource;

  constructor(
    private readonly policy: BackoffPolicy,
    deps: BackoffDeps = {},
  ) {
    validateBackoffPolicy(policy);
    this.clock = deps.clock ?? systemClock;
    this.random = deps.random ?? Math.random;
  }

  /** Retries taken since the last reset. */
  get attempts(): number {
    return this.attemptCount;
  }

  /** The delay for the next retry; advances the sequence. */
  nextDelay(): number {
    return backoffDelay(this.policy, this.attemptCount++, this.random);
  }

  reset(): void {
    this.attemptCount = 0;
  }

  /** Sleep for the next delay. Resolves false at once if `signal` aborts. */
  wait(signal?: AbortSignal): Promise<boolean> {
    return sleep(this.clock, this.nextDelay(), signal);
  }
}

/**
 * Callback form (the shape of grpc-js's BackoffTimeout): `runOnce()` schedules the callback
 * after the next delay; `stop()` cancels; `reset()` returns to the initial delay. For state
 * machines (BGP connect-retry, membership probes) that react to a timer rather than await it.
 */
export class BackoffTimer {
  private readonly backoff: Backoff;
  private readonly clock: Clock;
  private handle: ReturnType<Clock["setTimeout"]> | undefined;

  constructor(
    private readonly callback: () => void,
    policy: BackoffPolicy,
    deps: BackoffDeps = {},
  ) {
    this.backoff = new Backoff(policy, deps);
    this.clock = deps.clock ?? systemClock;
  }

  /** Schedule the callback after the next delay (replacing any pending run); returns the delay. */
  runOnce(): number {
    this.stop();
    const delay = this.backoff.nextDelay();
    this.handle = this.clock.setTimeout(() => {
      this.handle = undefined;
      this.callback();
    }, delay);
    return delay;
  }

  stop(): void {
    if (this.handle !== undefined) {
      this.clock.clearTimeout(this.handle);
      this.handle = undefined;
    }
  }

  reset(): void {
    this.backoff.reset();
  }

  isRunning(): boolean {
    return this.handle !== undefined;
  }
}
