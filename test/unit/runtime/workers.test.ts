import { describe, expect, it } from "vitest";
import { ManualClock, flushPromises } from "../../../src/runtime/clock.js";
import { ItemExponentialRateLimiter } from "../../../src/runtime/rateLimiter.js";
import { runWorkers, type ReconcileOutcome } from "../../../src/runtime/workers.js";
import { WorkQueue } from "../../../src/runtime/workqueue.js";

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function newQueue(clock: ManualClock): WorkQueue {
  return new WorkQueue({ clock, rateLimiter: new ItemExponentialRateLimiter(5, 1000) });
}

describe("runWorkers", () => {
  it("never runs the same key twice at once, stays within the concurrency, and loses no re-add", async () => {
    const clock = new ManualClock();
    const queue = newQueue(clock);
    const controller = new AbortController();
    const running = new Map<string, number>();
    let maxPerKey = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const completedAfterLastAdd = new Map<string, boolean>();
    const reconcile = async (key: string): Promise<void> => {
      running.set(key, (running.get(key) ?? 0) + 1);
      inFlight++;
      maxPerKey = Math.max(maxPerKey, running.get(key) ?? 0);
      maxInFlight = Math.max(maxInFlight, inFlight);
      completedAfterLastAdd.set(key, true);
      // Work takes a little (fake) time, so adds land while keys are being processed.
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 3));
      running.set(key, (running.get(key) ?? 0) - 1);
      inFlight--;
    };
    const workers = runWorkers(queue, 4, reconcile, controller.signal);
    const keys = ["a", "b", "c", "d", "e", "f"];
    for (let round = 0; round < 50; round++) {
      for (const key of [keys[round % 6] ?? "a", keys[(round * 5) % 6] ?? "a", "a"]) {
        queue.add(key);
        completedAfterLastAdd.set(key, false);
      }
      await clock.advance(1);
    }
    await clock.advance(1000);
    expect(maxPerKey).toBe(1);
    expect(maxInFlight).toBeLessThanOrEqual(4);
    expect(maxInFlight).toBeGreaterThan(1);
    // Every key was reconciled after its last add: no change was swallowed.
    expect([...completedAfterLastAdd.values()].every(Boolean)).toBe(true);
    controller.abort();
    await workers;
  });

  it("retries a failing key with growing backoff and resets it after success", async () => {
    const clock = new ManualClock();
    const queue = newQueue(clock);
    const controller = new AbortController();
    const attempts: number[] = [];
    const errors: unknown[] = [];
    const workers = runWorkers(
      queue,
      1,
      (key) => {
        attempts.push(clock.now());
        if (attempts.length <= 3) return Promise.reject(new Error(`boom ${key}`));
        return Promise.resolve();
      },
      controller.signal,
      {
        onError: (_key, error) => {
          errors.push(error);
        },
      },
    );
    queue.add("k");
    await clock.advance(100);
    // Failures at 0, retried after 5, then 10, then 20 ms.
    expect(attempts).toEqual([0, 5, 15, 35]);
    expect(errors).toHaveLength(3);
    expect(queue.numRequeues("k")).toBe(0);
    controller.abort();
    await workers;
  });

  it("requeueAfterMs re-adds the key after that delay", async () => {
    const clock = new ManualClock();
    const queue = newQueue(clock);
    const controller = new AbortController();
    const runs: number[] = [];
    const workers = runWorkers(
      queue,
      2,
      () => {
        runs.push(clock.now());
        return Promise.resolve(runs.length < 3 ? { requeueAfterMs: 250 } : undefined);
      },
      controller.signal,
    );
    queue.add("k");
    await clock.advance(2000);
    expect(runs).toEqual([0, 250, 500]);
    controller.abort();
    await workers;
  });

  it("reports outcomes and durations to observe()", async () => {
    const clock = new ManualClock();
    const queue = newQueue(clock);
    const controller = new AbortController();
    const seen: [string, ReconcileOutcome, number][] = [];
    const workers = runWorkers(
      queue,
      1,
      async (key) => {
        await new Promise<void>((resolve) => clock.setTimeout(resolve, 4));
        if (key === "bad") throw new Error("x");
        return key === "again" ? { requeueAfterMs: 10_000 } : undefined;
      },
      controller.signal,
      {
        now: () => clock.now(),
        observe: (key, outcome, ms) => {
          seen.push([key, outcome, ms]);
        },
      },
    );
    queue.add("good");
    queue.add("bad");
    queue.add("again");
    await clock.advance(12);
    expect(seen).toEqual([
      ["good", "success", 4],
      ["bad", "error", 4],
      ["again", "requeue", 4],
    ]);
    controller.abort();
    await workers;
  });

  it("on abort: waits for in-flight reconciles, gives them the aborted signal, keeps their keys", async () => {
    const clock = new ManualClock();
    const queue = newQueue(clock);
    const controller = new AbortController();
    const gate = deferred();
    let sawAbort = false;
    const workers = runWorkers(
      queue,
      2,
      async (_key, signal) => {
        signal.addEventListener("abort", () => {
          sawAbort = true;
          gate.reject(new Error("aborted"));
        });
        await gate.promise;
      },
      controller.signal,
    );
    queue.add("k");
    await flushPromises();
    expect(queue.processingCount()).toBe(1);
    let finished = false;
    void workers.then(() => {
      finished = true;
    });
    controller.abort();
    await workers;
    expect(finished).toBe(true);
    expect(sawAbort).toBe(true);
    expect(queue.processingCount()).toBe(0);
    // Not rate-limited, simply still queued for the next term's workers.
    expect(queue.len()).toBe(1);
    expect(queue.numRequeues("k")).toBe(0);
    expect(queue.isShuttingDown()).toBe(false);
  });

  it("rejects a concurrency that is not a positive integer", async () => {
    const queue = newQueue(new ManualClock());
    await expect(runWorkers(queue, 0, () => Promise.resolve(), new AbortController().signal)).rejects.toThrow(
      RangeError,
    );
  });
});
