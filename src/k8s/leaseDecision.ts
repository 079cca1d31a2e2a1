/**
 * The pure core of Lease-based leader election: given what we last saw of the Lease, when we saw
 * it (on our own monotonic clock) and whether we lead, decide the next step. No I/O, no timers.
 *
 * Expiry is judged from when *we observed* the record change, never from the renewTime another
 * host wrote, so clock skew between hosts cannot make a live lease look expired.
 */

export interface ElectionTimings {
  /** How long a holder's claim lasts after we observe its last renewal (Lease spec). */
  readonly leaseDurationMs: number;
  /** A leader that has not renewed for this long stops leading, before others may take over. */
  readonly renewDeadlineMs: number;
  /** Pause between attempts (renewals while leading, checks while standing by). */
  readonly retryPeriodMs: number;
}

export const DEFAULT_ELECTION_TIMINGS: ElectionTimings = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

/** Candidates wait retryPeriod × [1, 1 + this) between checks. */
export const RETRY_JITTER = 0.2;

export class ElectionTimingsError extends Error {
  override readonly name = "ElectionTimingsError";
  readonly code = "ERR_ELECTION_TIMINGS";
}

export function validateTimings(timings: ElectionTimings): void {
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = timings;
  if (!(retryPeriodMs > 0)) throw new ElectionTimingsError("retryPeriod must be positive");
  if (!(leaseDurationMs > renewDeadlineMs)) {
    throw new ElectionTimingsError("leaseDuration must be greater than renewDeadline");
  }
  if (!(renewDeadlineMs > retryPeriodMs * (1 + RETRY_JITTER))) {
    throw new ElectionTimingsError("renewDeadline must be greater than retryPeriod × (1 + jitter)");
  }
  if (leaseDurationMs % 1000 !== 0) throw new ElectionTimingsError("leaseDuration must be whole seconds");
}

/** The Lease spec fields election uses. */
export interface LeaseRecord {
  /** "" when nobody holds the lease (released). */
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime: Date | undefined;
  readonly renewTime: Date | undefined;
  readonly leaseTransitions: number;
}

export interface StoredLease {
  readonly record: LeaseRecord;
  /** The object's resourceVersion: every update is conditional on it. */
  readonly resourceVersion: string;
}

/** The Lease as last read (undefined: no Lease object exists) and when that version was first seen. */
export interface Observation {
  readonly lease: StoredLease | undefined;
  readonly observedAt: number;
}

export interface ElectorView {
  readonly identity: string;
  readonly timings: ElectionTimings;
  readonly observation: Observation;
  readonly leading: boolean;
  /** When our last successful write as leader was sent (local monotonic ms). */
  readonly lastRenewedAt: number | undefined;
  readonly now: number;
}

export type StopReason = "renew-deadline" | "lost" | "shutdown";

export type Decision =
  | { readonly action: "create" }
  | { readonly action: "acquire" }
  | { readonly action: "renew" }
  | { readonly action: "wait"; readonly holder: string; readonly expiresInMs: number }
  | { readonly action: "stop"; readonly reason: Exclude<StopReason, "shutdown"> };

/** The next step for an elector. */
export function decide(view: ElectorView): Decision {
  const { identity, timings, observation, leading, lastRenewedAt, now } = view;
  if (leading && (lastRenewedAt === undefined || now - lastRenewedAt >= timings.renewDeadlineMs)) {
    return { action: "stop", reason: "renew-deadline" };
  }
  const lease = observation.lease;
  if (lease === undefined) return { action: "create" };
  const holder = lease.record.holderIdentity;
  if (holder === identity) return { action: "renew" };
  if (leading) return { action: "stop", reason: "lost" };
  if (holder === "") return { action: "acquire" };
  const durationMs =
    lease.record.leaseDurationSeconds > 0
      ? lease.record.leaseDurationSeconds * 1000
      : timings.leaseDurationMs;
  const expiresInMs = observation.observedAt + durationMs - now;
  if (expiresInMs <= 0) return { action: "acquire" };
  return { action: "wait", holder, expiresInMs };
}

/**
 * Fold a fresh read into the observation: the same resourceVersion (or still no Lease) keeps
 * the time we first saw it; anything else starts the clock again.
 */
export function observe(
  previous: Observation | undefined,
  lease: StoredLease | undefined,
  now: number,
): Observation {
  if (previous !== undefined && previous.lease?.resourceVersion === lease?.resourceVersion) {
    return { lease, observedAt: previous.observedAt };
  }
  return { lease, observedAt: now };
}

/** The record to write for a create, acquire or renew by `identity` at wall-clock `wallNow`. */
export function nextRecord(
  action: "create" | "acquire" | "renew",
  current: LeaseRecord | undefined,
  identity: string,
  timings: ElectionTimings,
  wallNow: Date,
): LeaseRecord {
  const leaseDurationSeconds = timings.leaseDurationMs / 1000;
  if (action === "renew" && current !== undefined) {
    return { ...current, holderIdentity: identity, leaseDurationSeconds, renewTime: wallNow };
  }
  const transitions = current?.leaseTransitions ?? 0;
  const changedHands = current !== undefined && current.holderIdentity !== identity;
  return {
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: wallNow,
    renewTime: wallNow,
    leaseTransitions: changedHands ? transitions + 1 : transitions,
  };
}

/** The record a leader writes on clean shutdown: nobody holds it, so a standby takes it at once. */
export function releasedRecord(current: LeaseRecord, wallNow: Date): LeaseRecord {
  return {
    ...current,
    holderIdentity: "",
    leaseDurationSeconds: 1,
    acquireTime: wallNow,
    renewTime: wallNow,
  };
}
