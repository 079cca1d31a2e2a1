import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/runtime/clock.js";
import { ItemExponentialRateLimiter } from "../../../src/runtime/rateLimiter.js";
import { WorkQueue, type WorkQueueMetrics } from "../../../src/runtime/workqueue.js";

function drain(queue: WorkQueue): string[] {
  const keys: string[] = [];
  for (let key = queue.tryGet(); key !== undefined; key = queue.tryGet()) keys.push(key);
  return keys;
}

function recordingMetrics(): WorkQueueMetrics & {
  depths: number[];
  adds: number;
  retries: number;
  latencies: number[];
  durations: number[];
} {
  const m = {
    depths: [] as number[],
    adds: 0,
    retries: 0,
    latencies: [] as number[],
    durations: [] as number[],
    depth: (v: number) => {
      m.depths.push(v);
    },
    added: () => {
      m.adds++;
    },
    retried: () => {
      m.retries++;
    },
    queueLatency: (ms: number) => {
      m.latencies.push(ms);
    },
    workDuration: (ms: number) => {
      m.durations.push(ms);
    },
  };
  return m;
}

describe("WorkQueue deduplication", () => {
  it("hands out each queued key once however often it was added, in first-add order", () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    for (const key of ["a", "b", "a", "c", "b", "a"]) queue.add(key);
    expect(queue.len()).toBe(3);
    expect(drain(queue)).toEqual(["a", "b", "c"]);
    expect(queue.len()).toBe(0);
  });

  it("a key added again after done() is handed out again", () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    queue.add("a");
    expect(queue.tryGet()).toBe("a");
    queue.done("a");
    queue.add("a");
    expect(queue.tryGet()).toBe("a");
  });
});

describe("WorkQueue dirty re-add during processing", () => {
  it("does not hand out a key being processed; queues it again at done()", () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    queue.add("a");
    expect(queue.tryGet()).toBe("a");
    queue.add("a");
    queue.add("a");
    expect(queue.len()).toBe(0);
    expect(queue.tryGet()).toBeUndefined();
    queue.done("a");
    expect(queue.len()).toBe(1);
    expect(queue.tryGet()).toBe("a");
    queue.done("a");
    expect(queue.tryGet()).toBeUndefined();
  });

  it("a processed key that was not re-added is not queued again", () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    queue.add("a");
    queue.tryGet();
    queue.done("a");
    expect(queue.len()).toBe(0);
  });

  it("done() for a key that was never handed out is a no-op", () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    queue.add("a");
    queue.done("a");
    expect(drain(queue)).toEqual(["a"]);
  });
});

describe("WorkQueue get()", () => {
  it("a waiting get() receives the next added key", async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    const pending = queue.get();
    queue.add("x");
    await expect(pending).resolves.toBe("x");
    expect(queue.processingCount()).toBe(1);
  });

  it("two waiting getters receive different keys", async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    const first = queue.get();
    const second = queue.get();
    queue.add("x");
    queue.add("y");
    expect(await Promise.all([first, second])).toEqual(["x", "y"]);
  });

  it("resolves undefined when its signal aborts, and the key then goes to the next getter", async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    const controller = new AbortController();
    const aborted = queue.get(controller.signal);
    controller.abort();
    await expect(aborted).resolves.toBeUndefined();
    queue.add("x");
    expect(queue.tryGet()).toBe("x");
  });
});

describe("WorkQueue rate-limited retries", () => {
  it("delays grow per key 5, 10, 20, 40 ms and forget() resets them", async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock, rateLimiter: new ItemExponentialRateLimiter(5, 1_000_000) });
    const observedDelays: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      const before = clock.now();
      queue.addRateLimited("a");
      expect(queue.len()).toBe(0);
      await clock.advance((clock.nextDueAt() ?? Infinity) - clock.now());
      expect(queue.tryGet()).toBe("a");
      queue.done("a");
      observedDelays.push(clock.now() - before);
    }
    expect(observedDelays).toEqual([5, 10, 20, 40]);
    expect(queue.numRequeues("a")).toBe(4);

    queue.forget("a");
    expect(queue.numRequeues("a")).toBe(0);
    queue.addRateLimited("a");
    await clock.advance(4);
    expect(queue.len()).toBe(0);
    await clock.advance(1);
    expect(queue.tryGet()).toBe("a");
  });

  it("backoff of one key does not affect another", async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock, rateLimiter: new ItemExponentialRateLimiter(5, 1_000_000) });
    queue.addRateLimited("a");
    queue.addRateLimited("a");
    queue.addRateLimited("b");
    expect(queue.numRequeues("a")).toBe(2);
    expect(queue.numRequeues("b")).toBe(1);
    await clock.advance(5);
    // "a" keeps its earlier pending time (5 ms) rather than the later 10 ms.
    expect(drain(queue).sort()).toEqual(["a", "b"]);
  });
});

describe("WorkQueue addAfter", () => {
  it("adds the key when the delay has passed", async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    queue.addAfter("a", 100);
    expect(queue.waitingCount()).toBe(1);
    await clock.advance(99);
    expect(queue.len()).toBe(0);
    await clock.advance(1);
    expect(queue.waitingCount()).toBe(0);
    expect(drain(queue)).toEqual(["a"]);
  });

  const cases: { description: string; delays: number[]; expectedDueAt: number }[] = [
    { description: "an earlier request replaces a later one", delays: [100, 30], expectedDueAt: 30 },
    { description: "a later request keeps the earlier one", delays: [30, 100], expectedDueAt: 30 },
  ];
  for (const { description, delays, expectedDueAt } of cases) {
    it(description, async () => {
      const clock = new ManualClock();
      const queue = new WorkQueue({ clock });
      for (const delay of delays) queue.addAfter("a", delay);
      expect(queue.waitingCount()).toBe(1);
      expect(clock.pendingTimers()).toBe(1);
      await clock.advance(expectedDueAt - 1);
      expect(queue.len()).toBe(0);
      await clock.advance(1);
      expect(drain(queue)).toEqual(["a"]);
      await clock.advance(1000);
      expect(queue.len()).toBe(0);
    });
  }

  it("a zero or negative delay adds at once", () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    queue.addAfter("a", 0);
    queue.addAfter("b", -5);
    expect(drain(queue)).toEqual(["a", "b"]);
  });
});

describe("WorkQueue shutdown", () => {
  it("wakes waiting getters with undefined, drops queued and delayed keys, ignores later adds", async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    const waiting = queue.get();
    queue.add("a"); // goes straight to the waiting getter
    await expect(waiting).resolves.toBe("a");
    queue.add("b");
    queue.addAfter("c", 10);
    const blocked = new WorkQueue({ clock });
    const blockedGet = blocked.get();
    queue.shutdown();
    blocked.shutdown();
    await expect(blockedGet).resolves.toBeUndefined();
    expect(queue.isShuttingDown()).toBe(true);
    expect(queue.len()).toBe(0);
    expect(queue.waitingCount()).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
    queue.add("d");
    queue.addRateLimited("e");
    expect(queue.len()).toBe(0);
    await expect(queue.get()).resolves.toBeUndefined();
  });

  it("idle() resolves once in-flight keys are done, and a dirty key is not re-queued", async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    queue.add("a");
    queue.tryGet();
    queue.add("a");
    let idle = false;
    const idlePromise = queue.idle().then(() => {
      idle = true;
    });
    queue.shutdown();
    await Promise.resolve();
    expect(idle).toBe(false);
    queue.done("a");
    await idlePromise;
    expect(idle).toBe(true);
    expect(queue.len()).toBe(0);
  });

  it("shuts down when the constructor's signal aborts", async () => {
    const controller = new AbortController();
    const queue = new WorkQueue({ clock: new ManualClock(), signal: controller.signal });
    const pending = queue.get();
    controller.abort();
    await expect(pending).resolves.toBeUndefined();
    expect(queue.isShuttingDown()).toBe(true);
  });
});

describe("WorkQueue metrics", () => {
  it("reports adds (not coalesced ones), depth, retries, queue latency and work duration", async () => {
    const clock = new ManualClock();
    const metrics = recordingMetrics();
    const queue = new WorkQueue({ clock, metrics, rateLimiter: new ItemExponentialRateLimiter(5, 1000) });
    queue.add("a");
    queue.add("a");
    queue.add("b");
    expect(metrics.adds).toBe(2);
    expect(metrics.depths.at(-1)).toBe(2);
    await clock.advance(7);
    expect(queue.tryGet()).toBe("a");
    expect(metrics.depths.at(-1)).toBe(1);
    expect(metrics.latencies).toEqual([7]);
    await clock.advance(3);
    queue.done("a");
    expect(metrics.durations).toEqual([3]);
    queue.addRateLimited("a");
    expect(metrics.retries).toBe(1);
  });
});
