import { systemClock, type Clock, type TimerHandle } from "./clock.js";
import { defaultControllerRateLimiter, type RateLimiter } from "./rateLimiter.js";

/**
 * Observation hooks, all optional (see workqueueMetrics.ts for the Prometheus adapter).
 * Durations are milliseconds.
 */
export interface WorkQueueMetrics {
  /** Keys ready and waiting to be handed out, after every change. */
  depth?(value: number): void;
  /** A key entered the queue (a deduplicated add does not count). */
  added?(): void;
  /** addRateLimited was called: a failed key is scheduled for retry. */
  retried?(): void;
  /** Time from entering the queue to being handed out by get(). */
  queueLatency?(ms: number): void;
  /** Time from get() to done(). */
  workDuration?(ms: number): void;
}

export interface WorkQueueOptions {
  readonly clock?: Clock;
  /** Delays for addRateLimited; default: defaultControllerRateLimiter(). */
  readonly rateLimiter?: RateLimiter;
  readonly metrics?: WorkQueueMetrics;
  /** Shuts the queue down when aborted. */
  readonly signal?: AbortSignal;
}

interface Waiter {
  resolve(key: string | undefined): void;
}

/**
 * A keyed work queue in client-go's shape:
 * - a key is queued at most once however often it is added (adds coalesce);
 * - a key handed out by get() is not handed out again until done(key); adds that arrive while
 *   it is processed mark it dirty and it is queued again at done(), so no change is lost and
 *   the same key never runs twice at once;
 * - addAfter delays an add (the earliest pending time for a key wins); addRateLimited delays it
 *   by the rate limiter (per-key exponential backoff plus an overall bucket); forget() resets.
 * After shutdown() adds are ignored, queued keys are dropped and get() resolves undefined.
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private queueHead = 0;
  /** Keys that need processing: queued, or being processed and changed since get(). */
  private readonly dirty = new Set<string>();
  private readonly processing = new Map<string, number>();
  private readonly addedAt = new Map<string, number>();
  private readonly waiting = new Map<string, { dueAt: number; handle: TimerHandle }>();
  private readonly getters: Waiter[] = [];
  private idleWaiters: (() => void)[] = [];
  private shuttingDown = false;
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter;
  private readonly metrics: WorkQueueMetrics;

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter({ clock: this.clock });
    this.metrics = options.metrics ?? {};
    const signal = options.signal;
    if (signal?.aborted === true) this.shutdown();
    signal?.addEventListener("abort", () => {
      this.shutdown();
    });
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.addedAt.set(key, this.clock.now());
    this.metrics.added?.();
    if (this.processing.has(key)) return; // re-queued by done()
    this.enqueue(key);
  }

  /** Add `key` once `delayMs` has passed. A pending earlier time for the key is kept. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const dueAt = this.clock.now() + delayMs;
    const pending = this.waiting.get(key);
    if (pending !== undefined) {
      if (pending.dueAt <= dueAt) return;
      this.clock.clearTimeout(pending.handle);
    }
    const handle = this.clock.setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, delayMs);
    this.waiting.set(key, { dueAt, handle });
  }

  /** Retry `key` after the rate limiter's delay (grows with each call until forget(key)). */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.metrics.retried?.();
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** The key succeeded: reset its backoff. (Does not remove a pending add.) */
  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.rateLimiter.numRequeues(key);
  }

  /**
   * The next key to process, waiting until one is ready. Resolves undefined when the queue shuts
   * down or `signal` aborts (the queue itself keeps running in that case). The caller owns the
   * key until it calls done(key).
   */
  get(signal?: AbortSignal): Promise<string | undefined> {
    if (signal?.aborted === true) return Promise.resolve(undefined);
    const ready = this.tryGet();
    if (ready !== undefined || this.shuttingDown) return Promise.resolve(ready);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        const index = this.getters.indexOf(waiter);
        if (index >= 0) this.getters.splice(index, 1);
        resolve(undefined);
      };
      const waiter: Waiter = {
        resolve: (key) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(key);
        },
      };
      this.getters.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** The next ready key, or undefined if none is ready right now. */
  tryGet(): string | undefined {
    if (this.shuttingDown) return undefined;
    const key = this.dequeue();
    if (key === undefined) return undefined;
    this.startProcessing(key);
    return key;
  }

  /** Processing of `key` finished; if it was added meanwhile it is queued again. */
  done(key: string): void {
    const startedAt = this.processing.get(key);
    if (startedAt === undefined) return;
    this.processing.delete(key);
    this.metrics.workDuration?.(this.clock.now() - startedAt);
    if (!this.shuttingDown && this.dirty.has(key)) this.enqueue(key);
    if (this.processing.size === 0) this.notifyIdle();
  }

  /** Keys ready to be handed out. */
  len(): number {
    return this.queue.length - this.queueHead;
  }

  /** Keys handed out and not yet done. */
  processingCount(): number {
    return this.processing.size;
  }

  /** Keys scheduled by addAfter/addRateLimited and not yet due. */
  waitingCount(): number {
    return this.waiting.size;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  shutdown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const { handle } of this.waiting.values()) this.clock.clearTimeout(handle);
    this.waiting.clear();
    this.queue.length = 0;
    this.queueHead = 0;
    this.dirty.clear();
    this.addedAt.clear();
    this.metrics.depth?.(0);
    for (const getter of this.getters.splice(0)) getter.resolve(undefined);
    if (this.processing.size === 0) this.notifyIdle();
  }

  /** Resolves when no key is being processed (e.g. after shutdown, to let reconciles finish). */
  idle(): Promise<void> {
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private enqueue(key: string): void {
    const getter = this.getters.shift();
    if (getter !== undefined) {
      // Hand the key straight to a waiting worker; it never sits in the queue.
      this.startProcessing(key);
      getter.resolve(key);
      return;
    }
    this.queue.push(key);
    this.metrics.depth?.(this.len());
  }

  private dequeue(): string | undefined {
    if (this.queueHead >= this.queue.length) return undefined;
    const key = this.queue[this.queueHead++];
    // Compact occasionally so the array does not grow without bound.
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    this.metrics.depth?.(this.len());
    return key;
  }

  private startProcessing(key: string): void {
    const now = this.clock.now();
    this.dirty.delete(key);
    this.processing.set(key, now);
    const addedAt = this.addedAt.get(key);
    if (addedAt !== undefined) {
      this.addedAt.delete(key);
      this.metrics.queueLatency?.(now - addedAt);
    }
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
