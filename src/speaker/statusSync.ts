/**
 * Keeps this node's ServiceL2Status objects equal to the latest desired list: level-triggered
 * (the plan is recomputed from the informer's view before every pass), one pass at a time, a
 * failed pass retried with backoff. Status objects are information, never on the data path, so
 * nothing here blocks announcing.
 */
import { linkedSignal } from "../runtime/abort.js";
import { Backoff, type BackoffPolicy } from "../runtime/backoff.js";
import { systemClock, type Clock, type TimerHandle } from "../runtime/clock.js";
import type { Logger } from "../runtime/logger.js";
import {
  isEmptyStatusWrites,
  planStatusWrites,
  type DesiredL2Status,
  type ExistingL2Status,
} from "./l2Status.js";

/** The writes, against the API server in kube.ts. */
export interface StatusApi {
  /** Create the object and set its status. Resolves also when it exists already (a stale cache). */
  create(status: DesiredL2Status, signal: AbortSignal): Promise<void>;
  updateStatus(status: DesiredL2Status, resourceVersion: string, signal: AbortSignal): Promise<void>;
  /** Resolves also when it is gone already. */
  delete(name: string, signal: AbortSignal): Promise<void>;
}

export interface StatusSyncOptions {
  readonly api: StatusApi;
  /** This node's objects as the informer sees them. */
  readonly existing: () => readonly ExistingL2Status[];
  /** False until the informer has listed once (before that, "missing" means "unknown"). */
  readonly ready?: () => boolean;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly backoff?: BackoffPolicy;
  /** Bound of each API call; default 10 s. */
  readonly callTimeoutMs?: number;
}

export class StatusSync {
  private desired: readonly DesiredL2Status[] | undefined;
  private running = false;
  private dirty = false;
  private retryTimer: TimerHandle | undefined;
  private idleWaiters: (() => void)[] = [];
  private stopped = false;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private readonly abort = new AbortController();

  constructor(private readonly options: StatusSyncOptions) {
    this.clock = options.clock ?? systemClock;
    this.backoff = new Backoff(options.backoff ?? { initialMs: 500, maxMs: 30_000 }, { clock: this.clock });
  }

  /** The objects that should exist now. */
  desire(statuses: readonly DesiredL2Status[]): void {
    this.desired = statuses;
    this.kick();
  }

  /** Something changed (the informer saw an event): check again. */
  kick(): void {
    if (this.stopped || this.desired === undefined) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    if (this.retryTimer !== undefined) return; // the retry will run with the latest state
    void this.pass();
  }

  /** Resolves when no pass is running or pending (for tests and shutdown). */
  idle(): Promise<void> {
    if (!this.running && this.retryTimer === undefined) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops retrying and aborts calls in flight. */
  stop(): void {
    this.stopped = true;
    this.abort.abort();
    if (this.retryTimer !== undefined) this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.wakeIdle();
  }

  private async pass(): Promise<void> {
    this.running = true;
    this.dirty = false;
    let failed = false;
    try {
      // Before the informer has listed, a missing object only means "not seen yet".
      if (this.options.ready?.() !== false) failed = !(await this.writeOnce());
    } finally {
      this.running = false;
    }
    if (this.stopped) {
      this.wakeIdle();
      return;
    }
    if (failed) {
      this.retryTimer = this.clock.setTimeout(() => {
        this.retryTimer = undefined;
        this.kick();
        this.wakeIdle();
      }, this.backoff.nextDelay());
      return;
    }
    this.backoff.reset();
    // Read through a call: the compiler would assume the await above left the flag unchanged.
    if (this.changedDuringPass()) {
      void this.pass();
      return;
    }
    this.wakeIdle();
  }

  /** One pass over the plan; true when every write succeeded. */
  private async writeOnce(): Promise<boolean> {
    const desired = this.desired ?? [];
    const writes = planStatusWrites(this.options.existing(), desired);
    if (isEmptyStatusWrites(writes)) return true;
    const { api, logger } = this.options;
    let ok = true;
    const attempt = async (
      what: string,
      name: string,
      call: (signal: AbortSignal) => Promise<void>,
    ): Promise<void> => {
      const bounded = linkedSignal(this.abort.signal, {
        timeoutMs: this.options.callTimeoutMs ?? 10_000,
        clock: this.clock,
      });
      try {
        await call(bounded.signal);
        logger?.debug({ status: name }, `ServiceL2Status ${what}`);
      } catch (error) {
        ok = false;
        if (!this.stopped) logger?.warn({ err: error, status: name }, `cannot ${what} ServiceL2Status`);
      } finally {
        bounded.dispose();
      }
    };
    for (const d of writes.create) await attempt("create", d.name, (signal) => api.create(d, signal));
    for (const u of writes.update) {
      await attempt("update", u.desired.name, (signal) =>
        api.updateStatus(u.desired, u.resourceVersion, signal),
      );
    }
    for (const name of writes.delete) await attempt("delete", name, (signal) => api.delete(name, signal));
    return ok;
  }

  private changedDuringPass(): boolean {
    return this.dirty;
  }

  private wakeIdle(): void {
    if (this.running || this.retryTimer !== undefined) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
