import type { WorkQueue } from "./workqueue.js";

/** What a reconcile asks for besides success: look at the key again after a while. */
export interface ReconcileResult {
  /** Re-queue the key after this many milliseconds (its backoff is reset first). */
  readonly requeueAfterMs?: number;
}

/**
 * Brings the world in line with the desired state for `key`. Level-triggered and idempotent:
 * it may run any number of times. Throwing retries the key with backoff. `signal` aborts when
 * the workers are stopped (e.g. leadership lost): stop writing at once.
 */
// `void` lets a reconcile that has nothing to ask for be a plain `async (key) => { ... }`.
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type
export type Reconciler = (key: string, signal: AbortSignal) => Promise<ReconcileResult | undefined | void>;

export type ReconcileOutcome = "success" | "requeue" | "error" | "aborted";

export interface RunWorkersOptions {
  /** Called with each reconcile error (the key is then retried with backoff). Must not throw. */
  readonly onError?: (key: string, error: unknown) => void;
  /** Called after every reconcile with its outcome and duration (for metrics). Must not throw. */
  readonly observe?: (key: string, outcome: ReconcileOutcome, durationMs: number) => void;
  /** Time source for `observe` durations; default performance.now. */
  readonly now?: () => number;
}

/**
 * Run `concurrency` workers that take keys from `queue` and reconcile them until `signal`
 * aborts; resolves once every in-flight reconcile has finished. The queue guarantees a key is
 * never reconciled by two workers at once. The queue is not shut down, so a later call (next
 * leadership term) can continue from it.
 */
export async function runWorkers(
  queue: WorkQueue,
  concurrency: number,
  reconcile: Reconciler,
  signal: AbortSignal,
  options: RunWorkersOptions = {},
): Promise<void> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const now = options.now ?? (() => performance.now());
  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get(signal);
      if (key === undefined) return;
      const started = now();
      let outcome: ReconcileOutcome;
      try {
        const result = await reconcile(key, signal);
        queue.forget(key);
        const requeueAfterMs = result?.requeueAfterMs;
        if (requeueAfterMs !== undefined && requeueAfterMs >= 0) {
          queue.addAfter(key, requeueAfterMs);
          outcome = "requeue";
        } else {
          outcome = "success";
        }
      } catch (error) {
        if (signal.aborted) {
          // Stopping: the reconcile was cut short on purpose. Keep the key queued (no backoff)
          // so whoever runs workers on this queue next picks it up.
          outcome = "aborted";
          queue.add(key);
        } else {
          outcome = "error";
          safeCall(() => options.onError?.(key, error));
          queue.addRateLimited(key);
        }
      } finally {
        queue.done(key);
      }
      safeCall(() => options.observe?.(key, outcome, now() - started));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function safeCall(fn: () => void): void {
  try {
    fn();
  } catch {
    // Observers must not break the worker loop.
  }
}
