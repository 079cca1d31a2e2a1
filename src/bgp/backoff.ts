/**
 * Jittered exponential backoff for BGP connect retries: attempt n waits
 * min(max, initial × multiplier^n) shortened by up to `jitter` of itself, so speakers that lost
 * a router together do not reconnect in lockstep. The random source is injected for tests.
 */

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
  /** Fraction in [0, 1]: the delay is drawn from [(1 - jitter) × base, base]. */
  readonly jitter: number;
}

/** Returns a number in [0, 1), like Math.random. */
export type RandomSource = () => number;

export const DEFAULT_CONNECT_BACKOFF: BackoffPolicy = {
  initialMs: 2_000,
  maxMs: 60_000,
  multiplier: 2,
  jitter: 0.2,
};

export class BackoffPolicyError extends Error {
  override readonly name = "BackoffPolicyError";
  readonly code = "ERR_BACKOFF_POLICY";
}

export function validateBackoffPolicy(p: BackoffPolicy): void {
  if (!(p.initialMs > 0)) throw new BackoffPolicyError(`initialMs must be positive, got ${p.initialMs}`);
  if (!(p.maxMs >= p.initialMs))
    throw new BackoffPolicyError(`maxMs (${p.maxMs}) must be at least initialMs (${p.initialMs})`);
  if (!(p.multiplier >= 1))
    throw new BackoffPolicyError(`multiplier must be at least 1, got ${p.multiplier}`);
  if (!(p.jitter >= 0 && p.jitter <= 1))
    throw new BackoffPolicyError(`jitter must be within [0, 1], got ${p.jitter}`);
}

/** The un-jittered delay of attempt `attempt` (0-based); multiplier^attempt may reach Infinity, min caps it. */
export function backoffBase(policy: BackoffPolicy, attempt: number): number {
  return Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** Math.max(0, attempt));
}

export function backoffDelay(policy: BackoffPolicy, attempt: number, random: RandomSource): number {
  const base = backoffBase(policy, attempt);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(base * (1 - policy.jitter * r));
}
