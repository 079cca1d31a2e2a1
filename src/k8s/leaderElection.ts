import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import {
  V1Lease,
  V1LeaseSpec,
  V1MicroTime,
  V1ObjectMeta,
  type CoordinationV1Api,
} from "@kubernetes/client-node";
import { linkedSignal, type LinkedSignal } from "../runtime/abort.js";
import { sleep, systemClock, type Clock, type TimerHandle } from "../runtime/clock.js";
import type { Logger } from "../runtime/logger.js";
import { isConflict, isNotFound, requestOptions } from "./client.js";
import {
  DEFAULT_ELECTION_TIMINGS,
  RETRY_JITTER,
  decide,
  nextRecord,
  observe,
  releasedRecord,
  validateTimings,
  type ElectionTimings,
  type LeaseRecord,
  type Observation,
  type StopReason,
  type StoredLease,
} from "./leaseDecision.js";

export {
  DEFAULT_ELECTION_TIMINGS,
  type ElectionTimings,
  type LeaseRecord,
  type StopReason,
  type StoredLease,
} from "./leaseDecision.js";

/** Someone else wrote the Lease first (409): our update was based on a stale resourceVersion. */
export class LeaseConflictError extends Error {
  override readonly name = "LeaseConflictError";
  readonly code = "ERR_LEASE_CONFLICT";
}

/** Where the Lease lives. Updates must be conditional on `resourceVersion`. */
export interface LeaseStore {
  /** The Lease, or undefined if there is none. */
  get(signal: AbortSignal): Promise<StoredLease | undefined>;
  /** Throws LeaseConflictError if it already exists. */
  create(record: LeaseRecord, signal: AbortSignal): Promise<StoredLease>;
  /** Throws LeaseConflictError if the Lease changed since `resourceVersion`. */
  update(record: LeaseRecord, resourceVersion: string, signal: AbortSignal): Promise<StoredLease>;
}

/** A coordination.k8s.io/v1 Lease as a LeaseStore. */
export function kubeLeaseStore(api: CoordinationV1Api, namespace: string, name: string): LeaseStore {
  const toLease = (record: LeaseRecord, resourceVersion?: string): V1Lease =>
    Object.assign(new V1Lease(), {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: Object.assign(new V1ObjectMeta(), {
        name,
        namespace,
        ...(resourceVersion === undefined ? {} : { resourceVersion }),
      }),
      spec: Object.assign(new V1LeaseSpec(), {
        holderIdentity: record.holderIdentity,
        leaseDurationSeconds: record.leaseDurationSeconds,
        leaseTransitions: record.leaseTransitions,
        ...(record.acquireTime === undefined
          ? {}
          : { acquireTime: new V1MicroTime(record.acquireTime.getTime()) }),
        ...(record.renewTime === undefined ? {} : { renewTime: new V1MicroTime(record.renewTime.getTime()) }),
      }),
    });
  const conflictAware = async (call: () => Promise<V1Lease>): Promise<StoredLease> => {
    try {
      return fromLease(await call());
    } catch (error) {
      if (isConflict(error)) throw new LeaseConflictError(`lease ${namespace}/${name} changed meanwhile`);
      throw error;
    }
  };
  return {
    async get(signal) {
      try {
        return fromLease(await api.readNamespacedLease({ name, namespace }, requestOptions({ signal })));
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    create: (record, signal) =>
      conflictAware(() =>
        api.createNamespacedLease({ namespace, body: toLease(record) }, requestOptions({ signal })),
      ),
    update: (record, resourceVersion, signal) =>
      conflictAware(() =>
        api.replaceNamespacedLease(
          { name, namespace, body: toLease(record, resourceVersion) },
          requestOptions({ signal }),
        ),
      ),
  };
}

function fromLease(lease: V1Lease): StoredLease {
  const spec = lease.spec;
  return {
    resourceVersion: lease.metadata?.resourceVersion ?? "",
    record: {
      holderIdentity: spec?.holderIdentity ?? "",
      leaseDurationSeconds: spec?.leaseDurationSeconds ?? 0,
      acquireTime: toDate(spec?.acquireTime),
      renewTime: toDate(spec?.renewTime),
      leaseTransitions: spec?.leaseTransitions ?? 0,
    },
  };
}

/** client-node hands MicroTime fields back as strings or Dates depending on the path. */
function toDate(value: unknown): Date | undefined {
  if (value instanceof Date) return value;
  if (typeof value === "string") {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : new Date(ms);
  }
  return undefined;
}

/** "<pod name>_<8 random hex digits>": unique even when a pod restarts with the same name. */
export function leaderIdentity(podName = process.env.POD_NAME ?? hostname()): string {
  return `${podName}_${randomBytes(4).toString("hex")}`;
}

export interface LeaderElectorOptions {
  readonly store: LeaseStore;
  readonly identity: string;
  readonly timings?: Partial<ElectionTimings>;
  /**
   * Called when we become leader. Lead until `signal` aborts, and stop writing at once when it
   * does: it aborts the moment the lease cannot be renewed in time, is lost, or on shutdown.
   * The elector waits for the returned promise before a later term starts or the lease is
   * released.
   */
  readonly onStartedLeading: (signal: AbortSignal) => Promise<void> | void;
  readonly onStoppedLeading?: (reason: StopReason) => void;
  /** The holder we observe changed (undefined: nobody). */
  readonly onNewLeader?: (identity: string | undefined) => void;
  /** Give the lease up on shutdown so a standby takes over at once; default true. */
  readonly releaseOnShutdown?: boolean;
  readonly clock?: Clock;
  readonly wallClock?: () => Date;
  readonly random?: () => number;
  readonly logger?: Logger;
}

/**
 * Runs the election loop over a LeaseStore. One `run()` covers many terms: after losing the
 * lease the elector stands by again (its caches stay warm) until `signal` aborts.
 */
export class LeaderElector {
  private readonly timings: ElectionTimings;
  private readonly clock: Clock;
  private readonly wallClock: () => Date;
  private readonly random: () => number;
  private readonly logger: Logger | undefined;
  private observation: Observation | undefined;
  private leading = false;
  private lastRenewedAt: number | undefined;
  private term: AbortController | undefined;
  private work: Promise<void> = Promise.resolve();
  private deadline: TimerHandle | undefined;
  private observedHolder: string | undefined;

  constructor(private readonly options: LeaderElectorOptions) {
    this.timings = { ...DEFAULT_ELECTION_TIMINGS, ...options.timings };
    validateTimings(this.timings);
    this.clock = options.clock ?? systemClock;
    this.wallClock = options.wallClock ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.logger = options.logger?.child({ identity: options.identity });
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder of the lease as last observed ("" or undefined: nobody). */
  leader(): string | undefined {
    return this.observedHolder;
  }

  /** Campaign, lead and stand by until `signal` aborts; then stop leading and release. */
  async run(signal: AbortSignal): Promise<void> {
    try {
      while (!signal.aborted) {
        const pauseMs = await this.step(signal);
        await sleep(this.clock, pauseMs, signal);
      }
    } finally {
      await this.shutdown();
    }
  }

  /** One read-decide-write round; returns how long to pause before the next. */
  private async step(signal: AbortSignal): Promise<number> {
    const { store } = this.options;
    const standbyPause = this.timings.retryPeriodMs * (1 + this.random() * RETRY_JITTER);
    const scope = this.callScope(signal);
    if (scope === undefined) {
      this.stopLeading("renew-deadline");
      return 0;
    }
    try {
      this.observation = observe(this.observation, await store.get(scope.signal), this.clock.now());
    } catch (error) {
      if (signal.aborted) return 0;
      this.logger?.warn({ err: error }, "cannot read the leader lease");
      return this.leading ? this.timings.retryPeriodMs : standbyPause;
    } finally {
      scope.dispose();
    }
    this.noteHolder(this.observation.lease?.record.holderIdentity);
    const decision = decide({
      identity: this.options.identity,
      timings: this.timings,
      observation: this.observation,
      leading: this.leading,
      lastRenewedAt: this.lastRenewedAt,
      now: this.clock.now(),
    });
    switch (decision.action) {
      case "wait":
        return Math.min(standbyPause, Math.max(decision.expiresInMs, 1));
      case "stop":
        this.stopLeading(decision.reason);
        return standbyPause;
      case "create":
      case "acquire":
      case "renew":
        return this.write(decision.action, signal, standbyPause);
    }
  }

  private async write(
    action: "create" | "acquire" | "renew",
    signal: AbortSignal,
    standbyPause: number,
  ): Promise<number> {
    const { store, identity } = this.options;
    const current = this.observation?.lease;
    const record = nextRecord(action, current?.record, identity, this.timings, this.wallClock());
    const scope = this.callScope(signal);
    if (scope === undefined) {
      this.stopLeading("renew-deadline");
      return 0;
    }
    const sentAt = this.clock.now();
    try {
      const stored =
        current === undefined
          ? await store.create(record, scope.signal)
          : await store.update(record, current.resourceVersion, scope.signal);
      if (signal.aborted) return 0;
      // Too late to count: the deadline timer has stopped (or is about to stop) this term.
      if (this.clock.now() - sentAt >= this.timings.renewDeadlineMs) return 0;
      this.observation = { lease: stored, observedAt: sentAt };
      this.noteHolder(identity);
      this.lastRenewedAt = sentAt;
      if (!this.leading) this.startLeading();
      else this.armDeadline();
      return this.timings.retryPeriodMs;
    } catch (error) {
      if (signal.aborted) return 0;
      if (error instanceof LeaseConflictError) {
        this.logger?.debug({ action }, "lease changed meanwhile; reading it again");
      } else {
        this.logger?.warn({ err: error, action }, "cannot write the leader lease");
      }
      return this.leading ? Math.min(this.timings.retryPeriodMs, 500) : standbyPause;
    } finally {
      scope.dispose();
    }
  }

  /**
   * A scope for one API call: its signal aborts with the outer signal and, for a leader, when
   * the renew deadline passes (so a hung call cannot outlast it). Undefined if the deadline
   * already passed. `dispose()` clears the timer once the call is over.
   */
  private callScope(signal: AbortSignal): LinkedSignal | undefined {
    let budget = this.timings.renewDeadlineMs;
    if (this.leading && this.lastRenewedAt !== undefined) {
      budget = this.lastRenewedAt + this.timings.renewDeadlineMs - this.clock.now();
      if (budget <= 0) return undefined;
    }
    return linkedSignal(signal, {
      timeoutMs: budget,
      clock: this.clock,
      timeoutMessage: "lease call timed out",
    });
  }

  private startLeading(): void {
    this.leading = true;
    const term = new AbortController();
    this.term = term;
    this.armDeadline();
    this.logger?.info("became leader");
    const previous = this.work;
    this.work = previous.then(async () => {
      if (term.signal.aborted) return;
      try {
        await this.options.onStartedLeading(term.signal);
      } catch (error) {
        this.logger?.error({ err: error }, "leader work failed");
      }
    });
  }

  /** Stop at once: abort the term's signal so writers stop before anyone else can lead. */
  private stopLeading(reason: StopReason): void {
    if (!this.leading) return;
    this.leading = false;
    this.lastRenewedAt = undefined;
    if (this.deadline !== undefined) this.clock.clearTimeout(this.deadline);
    this.deadline = undefined;
    this.term?.abort(new Error(`leadership ended: ${reason}`));
    this.logger?.warn({ reason }, "stopped leading");
    try {
      this.options.onStoppedLeading?.(reason);
    } catch (error) {
      this.logger?.error({ err: error }, "onStoppedLeading failed");
    }
  }

  /** Stop leading exactly when the renew deadline passes, even if the loop is stuck in a call. */
  private armDeadline(): void {
    if (this.deadline !== undefined) this.clock.clearTimeout(this.deadline);
    const renewedAt = this.lastRenewedAt ?? this.clock.now();
    const remaining = renewedAt + this.timings.renewDeadlineMs - this.clock.now();
    this.deadline = this.clock.setTimeout(() => {
      this.deadline = undefined;
      this.stopLeading("renew-deadline");
    }, remaining);
  }

  private noteHolder(holder: string | undefined): void {
    const normalized = holder === "" ? undefined : holder;
    if (normalized === this.observedHolder) return;
    this.observedHolder = normalized;
    try {
      this.options.onNewLeader?.(normalized);
    } catch (error) {
      this.logger?.error({ err: error }, "onNewLeader failed");
    }
  }

  private async shutdown(): Promise<void> {
    const wasLeading = this.leading;
    this.stopLeading("shutdown");
    // Let the leader's writers finish stopping before anyone else can take over.
    const bound = new AbortController();
    await Promise.race([this.work, sleep(this.clock, this.timings.renewDeadlineMs, bound.signal)]);
    bound.abort();
    const lease = this.observation?.lease;
    const release = this.options.releaseOnShutdown ?? true;
    if (!release || lease?.record.holderIdentity !== this.options.identity) return;
    const timeout = new AbortController();
    const handle = this.clock.setTimeout(() => {
      timeout.abort();
    }, this.timings.retryPeriodMs);
    try {
      await this.options.store.update(
        releasedRecord(lease.record, this.wallClock()),
        lease.resourceVersion,
        timeout.signal,
      );
      this.logger?.info({ wasLeading }, "released the leader lease");
    } catch (error) {
      this.logger?.warn({ err: error }, "could not release the leader lease; it will expire");
    } finally {
      this.clock.clearTimeout(handle);
    }
  }
}
