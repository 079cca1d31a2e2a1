/**
 * Speaker liveness through Kubernetes Leases (coordination.k8s.io/v1), until the membership
 * protocol replaces it: every speaker renews a Lease of its own, `ironlb-speaker-<node>` in the
 * IronLB namespace, and deletes it when it stops so the others take over at once.
 *
 * Defaults: renew every 2 s, lease duration 6 s. A crashed speaker (or a dead node) is noticed
 * by the others within the duration; three renewals may be lost before anyone reacts, so a slow
 * API server call or one dropped request does not move Services. The writes cost one small
 * update per node every 2 s (100 nodes: 50/s, well inside an API server's budget); larger
 * clusters can raise --lease-duration (renewals follow at a third of it).
 */
import { createHash } from "node:crypto";
import { linkedSignal } from "../runtime/abort.js";
import { sleep, systemClock, type Clock } from "../runtime/clock.js";
import type { Logger } from "../runtime/logger.js";

export const DEFAULT_LEASE_DURATION_SECONDS = 6;

/** Renewal period for a lease duration: a third of it, so two renewals may fail in a row. */
export const renewIntervalMs = (durationSeconds: number): number => Math.round((durationSeconds * 1000) / 3);

export const SPEAKER_LEASE_PREFIX = "ironlb-speaker-";
/** Label on every speaker Lease, so speakers watch only these. */
export const SPEAKER_LEASE_LABEL = "ironlb.io/speaker-lease";
export const SPEAKER_LEASE_SELECTOR = `${SPEAKER_LEASE_LABEL}=true`;

const MAX_NAME = 253;

/**
 * The Lease name of a node's speaker. Node names are DNS subdomains already; one too long for
 * the prefix keeps its head and gets a hash of the whole name, so names stay unique.
 */
export function speakerLeaseName(node: string): string {
  const plain = `${SPEAKER_LEASE_PREFIX}${node}`;
  if (plain.length <= MAX_NAME) return plain;
  const digest = createHash("sha256").update(node).digest("hex").slice(0, 16);
  return `${plain.slice(0, MAX_NAME - 17).replace(/[.-]+$/, "")}-${digest}`;
}

/** The parts of a Lease the speakers read and write (the API's JSON shape). */
export interface SpeakerLease {
  readonly metadata?: {
    readonly name?: string | undefined;
    readonly namespace?: string | undefined;
    readonly resourceVersion?: string | undefined;
    readonly labels?: Readonly<Record<string, string>> | undefined;
  };
  readonly spec?: {
    readonly holderIdentity?: string | undefined;
    readonly leaseDurationSeconds?: number | undefined;
    /** RFC 3339 with microseconds, as the API returns it (a Date when written). */
    readonly renewTime?: string | Date | undefined;
    readonly acquireTime?: string | Date | undefined;
  };
}

/** The Lease calls the heartbeat needs; leaseStore.ts implements them against the API server. */
export interface LeaseStore {
  /** undefined when the Lease does not exist. */
  get(namespace: string, name: string, signal: AbortSignal): Promise<SpeakerLease | undefined>;
  /** Throws LeaseConflictError when it exists already. */
  create(namespace: string, lease: SpeakerLease, signal: AbortSignal): Promise<SpeakerLease>;
  /** Throws LeaseConflictError on a resourceVersion mismatch, LeaseGoneError when deleted. */
  replace(namespace: string, lease: SpeakerLease, signal: AbortSignal): Promise<SpeakerLease>;
  /** Resolves also when it is already gone. */
  delete(namespace: string, name: string, signal: AbortSignal): Promise<void>;
}

export class LeaseConflictError extends Error {
  override readonly name = "LeaseConflictError";
  readonly code = "ERR_LEASE_CONFLICT";
}

export class LeaseGoneError extends Error {
  override readonly name = "LeaseGoneError";
  readonly code = "ERR_LEASE_GONE";
}

export interface SpeakerLeaseHeartbeatOptions {
  readonly store: LeaseStore;
  readonly namespace: string;
  readonly node: string;
  readonly durationSeconds?: number;
  /** Default renewIntervalMs(durationSeconds). */
  readonly renewEveryMs?: number;
  readonly clock?: Clock;
  /** Wall-clock time written as renewTime. */
  readonly wallClock?: () => Date;
  readonly logger?: Logger;
  /** Called after every successful renewal (and with false after a failed one). */
  readonly onRenew?: (ok: boolean) => void;
}

/**
 * Keeps this node's speaker Lease fresh. run() renews at once and then every interval (never
 * two calls at a time) until its signal aborts; release() deletes the Lease.
 */
export class SpeakerLeaseHeartbeat {
  readonly name: string;
  readonly durationSeconds: number;
  private readonly renewEveryMs: number;
  private readonly clock: Clock;
  private readonly wallClock: () => Date;
  private lease: SpeakerLease | undefined;
  private lastRenewedAt: number | undefined;
  private failures = 0;

  constructor(private readonly options: SpeakerLeaseHeartbeatOptions) {
    this.name = speakerLeaseName(options.node);
    this.durationSeconds = options.durationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS;
    if (!(this.durationSeconds >= 1) || !Number.isInteger(this.durationSeconds)) {
      throw new RangeError(
        `lease duration must be a whole number of seconds >= 1, got ${this.durationSeconds}`,
      );
    }
    this.renewEveryMs = options.renewEveryMs ?? renewIntervalMs(this.durationSeconds);
    this.clock = options.clock ?? systemClock;
    this.wallClock = options.wallClock ?? (() => new Date());
  }

  /** Renews until `signal` aborts. Never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.renewOnce(signal);
      if (!(await sleep(this.clock, this.renewEveryMs, signal))) return;
    }
  }

  /**
   * One renewal (create when missing). Resolves true when the Lease is fresh. A conflict or a
   * vanished Lease is resolved by reading it again and retrying once.
   */
  async renewOnce(signal: AbortSignal): Promise<boolean> {
    // A renewal slower than the interval is useless: the next one is due.
    const bounded = linkedSignal(signal, { timeoutMs: Math.max(1000, this.renewEveryMs), clock: this.clock });
    let ok = false;
    for (let attempt = 0; attempt < 2 && !ok && !signal.aborted; attempt++) {
      try {
        this.lease = await this.write(bounded.signal);
        ok = true;
      } catch (error) {
        this.lease = undefined;
        if ((error instanceof LeaseConflictError || error instanceof LeaseGoneError) && attempt === 0)
          continue;
        this.failures++;
        this.options.logger?.warn(
          { err: error, lease: this.name, failures: this.failures },
          "cannot renew the speaker lease",
        );
        break;
      }
    }
    bounded.dispose();
    if (ok) {
      if (this.failures > 0) this.options.logger?.info({ lease: this.name }, "speaker lease renewed again");
      this.failures = 0;
      this.lastRenewedAt = this.clock.now();
    }
    this.options.onRenew?.(ok);
    return ok;
  }

  /** True while the last successful renewal is younger than the lease duration. */
  fresh(): boolean {
    return (
      this.lastRenewedAt !== undefined && this.clock.now() - this.lastRenewedAt < this.durationSeconds * 1000
    );
  }

  /** Delete the Lease so other speakers see this one gone at once. Bounded by `timeoutMs`. */
  async release(timeoutMs = 2000): Promise<boolean> {
    try {
      await this.options.store.delete(this.options.namespace, this.name, AbortSignal.timeout(timeoutMs));
      this.lease = undefined;
      this.lastRenewedAt = undefined;
      this.options.logger?.info({ lease: this.name }, "speaker lease released");
      return true;
    } catch (error) {
      this.options.logger?.warn(
        { err: error, lease: this.name },
        "cannot delete the speaker lease; it will expire",
      );
      return false;
    }
  }

  private async write(signal: AbortSignal): Promise<SpeakerLease> {
    const { store, namespace, node } = this.options;
    const now = this.wallClock();
    const existing = this.lease ?? (await store.get(namespace, this.name, signal));
    const spec = {
      holderIdentity: node,
      leaseDurationSeconds: this.durationSeconds,
      renewTime: now,
    };
    if (existing === undefined) {
      return store.create(
        namespace,
        {
          metadata: {
            name: this.name,
            namespace,
            labels: {
              [SPEAKER_LEASE_LABEL]: "true",
              "app.kubernetes.io/name": "ironlb",
              "app.kubernetes.io/component": "speaker",
            },
          },
          spec: { ...spec, acquireTime: now },
        },
        signal,
      );
    }
    const sameHolder = existing.spec?.holderIdentity === node;
    return store.replace(
      namespace,
      {
        ...existing,
        metadata: {
          ...existing.metadata,
          labels: { ...existing.metadata?.labels, [SPEAKER_LEASE_LABEL]: "true" },
        },
        spec: {
          ...existing.spec,
          ...spec,
          acquireTime: sameHolder ? existing.spec.acquireTime : now,
        },
      },
      signal,
    );
  }
}
