/**
 * Membership timings and the arithmetic derived from them.
 *
 * Timing math at the defaults (LAN, a few to a few dozen speakers):
 *
 * - Probe round T = 200 ms. Each member pings one other member per round and waits
 *   t = 100 ms for the ack; without one it asks k = 3 random members to ping the target for it
 *   (ping-req) and waits for the rest of the round. No ack by the end of the round: the target
 *   becomes *suspect*. The target is the live member heard from least recently, so a crashed
 *   member becomes every survivor's choice within about one round: suspicion starts
 *   T to 2T (0.2-0.4 s) after the crash.
 *
 * - Suspicion lasts between Smin and Smax, Lifeguard's dynamic suspicion timeout:
 *     Smin = suspicionMult x max(1, log10 n) x T      = 2 x 1 x 200 ms = 400 ms for n <= 10
 *     Smax = suspicionMaxMult x Smin                   = 3 x 400 ms     = 1.2 s
 *     S(C) = max(Smin, Smax - (Smax - Smin) x log(C + 1) / log(K + 1))
 *   where C counts independent confirmations (other members whose own probes failed) and
 *   K = min(suspicionConfirmations, n - 2) is how many we expect. A member that learns of a
 *   suspicion probes the suspect next, so the confirmations arrive within a round or two and a
 *   crash is declared dead about Smin after the first suspicion. Simulated with n = 3 and no
 *   loss: p50 0.68 s, p99 0.79 s from crash to death everywhere; n = 10: p50 0.71 s, p99 0.95 s.
 *   A lone suspicion (a member with a bad link) waits Smax, giving the suspect time to refute.
 *
 * - Stalls: a member whose event loop stops for D ms answers nothing meanwhile. The earliest
 *   anyone can suspect it is T after the stall began (the probe must go unanswered for a whole
 *   round); it is declared dead Smin after that at the earliest. On waking it reads the suspect
 *   messages (sent to it directly) and refutes within a round trip, so stalls up to about
 *   T + Smin minus a round trip and some scheduling cause no death: in simulation, stalls of
 *   600 ms never did and 700 ms ones often do, at the defaults.
 *   The stalled member itself sees its own timers fire late: it refrains from judging others
 *   for that round and raises its local health score (Lifeguard's LHM), which stretches its
 *   probe round and timeout by (score + 1) until probes succeed again.
 *
 * - Dissemination: updates ride on every packet (pings, acks, ping-reqs) and on a gossip burst
 *   to 3 random members every 100 ms while the queue is non-empty; each update is sent at most
 *   retransmitMult x ceil(log10(n + 1)) times (4 for n < 10, 8 for n < 100). Urgent news (a
 *   leave, a refutation, a death, a new suspicion) is gossiped at once. An idle cluster sends
 *   only probes and acks: 2 x n / T packets per second cluster-wide (30/s for n = 3).
 *
 * - Partitions: each side declares the other dead. Every member keeps trying one dead member
 *   (or an unanswered seed) per reconnect interval (1 s) with a state exchange; after the
 *   partition heals the first exchange lets both sides refute and the views merge.
 */

export interface MembershipConfig {
  /** Length of a probe round. */
  readonly probeIntervalMs: number;
  /** How long to wait for a direct ack before asking others (ping-req). */
  readonly probeTimeoutMs: number;
  /** Members asked to probe indirectly (k). */
  readonly indirectChecks: number;
  /** Smin = suspicionMult x max(1, log10 n) x probeIntervalMs. */
  readonly suspicionMult: number;
  /** Smax = suspicionMaxMult x Smin. */
  readonly suspicionMaxMult: number;
  /** Independent confirmations that shrink a suspicion to Smin (K, capped at n - 2). */
  readonly suspicionConfirmations: number;
  /** Retransmissions of an update: retransmitMult x ceil(log10(n + 1)) (λ·log n). */
  readonly retransmitMult: number;
  /** How often queued updates are gossiped when nothing else carries them. */
  readonly gossipIntervalMs: number;
  /** Members each gossip burst goes to. */
  readonly gossipFanout: number;
  /** Ceiling of the local health score (probe round and timeout scale by score + 1). */
  readonly maxLocalHealth: number;
  /** A timer firing this much later than asked means our own event loop was stalled. */
  readonly lateTimerMs: number;
  /** How often to try a dead member or an unanswered seed (join retries, partition merges). */
  readonly reconnectIntervalMs: number;
  /** Dead members keep receiving gossip for this long, so a wrongly declared one hears and refutes. */
  readonly gossipToDeadMs: number;
  /** Dead and departed members are forgotten after this long. */
  readonly deadRetentionMs: number;
  /** Largest datagram sent (encrypted, with headers); updates that do not fit wait for the next packet. */
  readonly maxPacketBytes: number;
  /** A graceful leave is sent to every member this many times, this far apart. */
  readonly leaveRepeats: number;
  readonly leaveSpacingMs: number;
}

export const DEFAULT_MEMBERSHIP_CONFIG: MembershipConfig = {
  probeIntervalMs: 200,
  probeTimeoutMs: 100,
  indirectChecks: 3,
  suspicionMult: 2,
  suspicionMaxMult: 3,
  suspicionConfirmations: 3,
  retransmitMult: 4,
  gossipIntervalMs: 100,
  gossipFanout: 3,
  maxLocalHealth: 8,
  lateTimerMs: 50,
  reconnectIntervalMs: 1000,
  gossipToDeadMs: 2000,
  deadRetentionMs: 15 * 60_000,
  maxPacketBytes: 1400,
  leaveRepeats: 2,
  leaveSpacingMs: 20,
};

export class MembershipConfigError extends Error {
  override readonly name = "MembershipConfigError";
  readonly code = "ERR_MEMBERSHIP_CONFIG";
}

/** Defaults overlaid with `overrides`, validated. */
export function membershipConfig(overrides: Partial<MembershipConfig> = {}): MembershipConfig {
  const config = { ...DEFAULT_MEMBERSHIP_CONFIG, ...overrides };
  const problems: string[] = [];
  const positive = (field: keyof MembershipConfig): void => {
    const value = config[field];
    if (!(value > 0) || !Number.isFinite(value)) problems.push(`${field} must be a positive number`);
  };
  const integer = (field: keyof MembershipConfig, min: number): void => {
    const value = config[field];
    if (!Number.isInteger(value) || value < min) problems.push(`${field} must be an integer >= ${min}`);
  };
  for (const field of [
    "probeIntervalMs",
    "probeTimeoutMs",
    "suspicionMult",
    "gossipIntervalMs",
    "lateTimerMs",
    "reconnectIntervalMs",
    "leaveSpacingMs",
  ] as const) {
    positive(field);
  }
  integer("indirectChecks", 0);
  integer("suspicionConfirmations", 0);
  integer("retransmitMult", 1);
  integer("gossipFanout", 1);
  integer("maxLocalHealth", 0);
  integer("leaveRepeats", 1);
  integer("maxPacketBytes", 512);
  if (!(config.suspicionMaxMult >= 1)) problems.push("suspicionMaxMult must be at least 1");
  if (!(config.gossipToDeadMs >= 0)) problems.push("gossipToDeadMs must not be negative");
  if (!(config.deadRetentionMs >= 0)) problems.push("deadRetentionMs must not be negative");
  if (config.probeTimeoutMs >= config.probeIntervalMs) {
    problems.push("probeTimeoutMs must be shorter than probeIntervalMs (the indirect probes need the rest)");
  }
  if (problems.length > 0) throw new MembershipConfigError(problems.join("; "));
  return config;
}

export interface SuspicionBounds {
  readonly minMs: number;
  readonly maxMs: number;
}

/** Smin and Smax for a cluster of `members` (counting ourselves). */
export function suspicionBounds(config: MembershipConfig, members: number): SuspicionBounds {
  const scale = Math.max(1, Math.log10(Math.max(1, members)));
  const minMs = config.suspicionMult * scale * config.probeIntervalMs;
  return { minMs, maxMs: config.suspicionMaxMult * minMs };
}

/** K: the confirmations a suspicion waits for before it reaches Smin. */
export function expectedConfirmations(config: MembershipConfig, members: number): number {
  return Math.max(0, Math.min(config.suspicionConfirmations, members - 2));
}

/**
 * Lifeguard's suspicion timeout after `confirmations` independent confirmations out of
 * `expected`: Smax with none, falling logarithmically to Smin at `expected`.
 */
export function suspicionTimeout(bounds: SuspicionBounds, confirmations: number, expected: number): number {
  if (expected < 1) return bounds.minMs;
  const fraction = Math.log(Math.min(confirmations, expected) + 1) / Math.log(expected + 1);
  return Math.max(bounds.minMs, Math.floor(bounds.maxMs - (bounds.maxMs - bounds.minMs) * fraction));
}

/** λ·log(n): how many times one update is retransmitted in a cluster of `members`. */
export function retransmitLimit(config: MembershipConfig, members: number): number {
  return config.retransmitMult * Math.max(1, Math.ceil(Math.log10(members + 1)));
}
