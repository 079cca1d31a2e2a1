/**
 * Keeps this node's status objects of one kind equal to the latest desired list: level-triggered
 * (every pass reads this node's objects and plans the writes afresh), one pass at a time, a
 * failed pass retried with backoff. Status objects are information, never on the data path, so
 * nothing here blocks announcing, a BGP session or an advertisement. `stop()` after a last
 * `desire([])` and `idle()` removes them at shutdown.
 */
import type { ServiceL2StatusStatus } from "../api/schema/serviceStatus.js";
import { linkedSignal } from "../runtime/abort.js";
import { Backoff, type BackoffPolicy } from "../runtime/backoff.js";
import { systemClock, type Clock, type TimerHandle } from "../runtime/clock.js";
import type { Logger } from "../runtime/logger.js";
import type { StatusObjectWriter } from "./statusObjectApi.js";
import { planObjectWrites, type DesiredObject, type ExistingObject } from "./statusObjects.js";

export interface StatusObjectSyncOptions<S> {
  /** The kind, for logs. */
  readonly kind: string;
  readonly api: StatusObjectWriter<S>;
  /**
   * This node's objects of the kind now (listed, or from an informer cache); undefined while not
   * known (an informer that has not listed yet: a missing object only means "not seen yet").
   */
  readonly existing: (signal: AbortSignal) => Promise<readonly ExistingObject[] | undefined>;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Retry delays of a failed pass; default 500 ms doubling to 30 s. */
  readonly backoff?: BackoffPolicy;
  /** Bound of each API call; default 10 s. */
  readonly callTimeoutMs?: number;
}

export class StatusObjectSync<S> {
  private desired: readonly DesiredObject<S>[] | undefined;
  private running = false;
  private dirty = false;
  private stopped = false;
  private retryTimer: TimerHandle | undefined;
  private idleWaiters: (() => void)[] = [];
  private readonly abort = new AbortController();
  private readonly clock: Clock;
  private readonly backoff: Backoff;

  constructor(private readonly options: StatusObjectSyncOptions<S>) {
    this.clock = options.clock ?? systemClock;
    this.backoff = new Backoff(options.backoff ?? { initialMs: 500, maxMs: 30_000 }, { clock: this.clock });
  }

  /** The objects that should exist now. */
  desire(objects: readonly DesiredObject<S>[]): void {
    this.desired = objects;
    this.kick();
  }

  /** Something changed (an informer event, a session): check again. */
  kick(): void {
    if (this.stopped || this.desired === undefined) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    if (this.retryTimer !== undefined) return; // the retry will run with the latest state
    void this.pass();
  }

  /** Resolves when no pass is running or waiting to retry (for tests and shutdown). */
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
    let ok = false;
    try {
      ok = await this.writeOnce();
    } finally {
      this.running = false;
    }
    // Read through calls: the compiler would assume the await above left the flags unchanged.
    if (this.isStopped()) {
      this.wakeIdle();
      return;
    }
    if (!ok) {
      this.retryTimer = this.clock.setTimeout(() => {
        this.retryTimer = undefined;
        this.kick();
        this.wakeIdle();
      }, this.backoff.nextDelay());
      return;
    }
    this.backoff.reset();
    if (this.changedDuringPass()) {
      void this.pass();
      return;
    }
    this.wakeIdle();
  }

  /** One call, bounded in time; an Error when it failed (logged). */
  private async call<T>(
    what: string,
    name: string,
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T | Error> {
    const { kind, logger, callTimeoutMs = 10_000 } = this.options;
    const bounded = linkedSignal(this.abort.signal, { timeoutMs: callTimeoutMs, clock: this.clock });
    try {
      const result = await run(bounded.signal);
      if (what !== "list") logger?.debug({ object: name }, `${kind} ${what}`);
      return result;
    } catch (error) {
      if (!this.stopped) logger?.warn({ err: error, object: name }, `cannot ${what} ${kind}`);
      return error instanceof Error ? error : new Error(String(error));
    } finally {
      bounded.dispose();
    }
  }

  /** One pass; true when every call succeeded (or there was nothing it could do yet). */
  private async writeOnce(): Promise<boolean> {
    const existing = await this.call("list", "*", (signal) => this.options.existing(signal));
    if (existing === undefined) return true;
    if (existing instanceof Error) return false;
    const writes = planObjectWrites(existing, this.desired ?? []);
    const { api } = this.options;
    let ok = true;
    const track = (result: unknown): void => {
      if (result instanceof Error) ok = false;
    };
    for (const d of writes.create)
      track(await this.call("create", d.name, (signal) => api.create(d, signal)));
    for (const u of writes.update) {
      const { desired, resourceVersion } = u;
      track(
        await this.call("update", desired.name, (signal) =>
          api.updateStatus(desired, resourceVersion, signal),
        ),
      );
    }
    for (const name of writes.delete)
      track(await this.call("delete", name, (signal) => api.delete(name, signal)));
    return ok;
  }

  private isStopped(): boolean {
    return this.stopped;
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

export interface StatusSyncOptions extends Omit<
  StatusObjectSyncOptions<ServiceL2StatusStatus>,
  "kind" | "existing"
> {
  /** This node's objects as the informer sees them. */
  readonly existing: () => readonly ExistingObject[];
  /** False until the informer has listed once. */
  readonly ready?: () => boolean;
}

/** This node's ServiceL2Status objects, read back through the speaker's informer. */
export class StatusSync extends StatusObjectSync<ServiceL2StatusStatus> {
  constructor({ existing, ready, ...options }: StatusSyncOptions) {
    super({
      ...options,
      kind: "ServiceL2Status",
      existing: () => Promise.resolve(ready?.() === false ? undefined : existing()),
    });
  }
}
