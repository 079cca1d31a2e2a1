/**
 * Time as an injected dependency. Everything in src/runtime and src/k8s that waits or measures
 * takes a Clock, so tests drive time with ManualClock instead of sleeping.
 *
 * `now()` is monotonic milliseconds (only differences mean anything); wall-clock instants that
 * are written to the API (Lease renewTime) come from a separate `() => Date`.
 */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Opaque handle returned by Clock.setTimeout. */
export interface TimerHandle {
  readonly __timerHandle: unique symbol;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, delayMs) => {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    // Timers here are housekeeping (retries, rechecks): never keep the process alive for them.
    timer.unref();
    return timer as unknown as TimerHandle;
  },
  clearTimeout: (handle) => {
    clearTimeout(handle as unknown as NodeJS.Timeout);
  },
};

/**
 * Sleep on `clock` for `delayMs`. Resolves true when the time has passed, false at once when
 * `signal` aborts (never rejects, so loops can simply `if (!(await sleep(...))) return`).
 */
export function sleep(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted === true) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      resolve(false);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, delayMs);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

interface ManualTimer {
  readonly id: number;
  readonly dueAt: number;
  readonly callback: () => void;
}

/**
 * A clock that moves only when told to. `advance(ms)` fires due timers in due order (ties in
 * scheduling order), with `now()` set to each timer's due time, and lets pending promise
 * callbacks run after each one, so async code reacting to a timer settles before the next.
 */
export class ManualClock implements Clock {
  private current: number;
  private nextId = 1;
  private readonly timers = new Map<number, ManualTimer>();

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, dueAt: this.current + Math.max(0, delayMs), callback });
    return id as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as unknown as number);
  }

  /** Number of timers scheduled and not yet fired or cleared. */
  pendingTimers(): number {
    return this.timers.size;
  }

  /** Due time of the earliest pending timer, if any. */
  nextDueAt(): number | undefined {
    return this.earliest()?.dueAt;
  }

  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await flushPromises();
    for (;;) {
      const timer = this.earliest();
      if (timer === undefined || timer.dueAt > target) break;
      this.timers.delete(timer.id);
      this.current = timer.dueAt;
      timer.callback();
      await flushPromises();
    }
    this.current = target;
    await flushPromises();
  }

  private earliest(): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const timer of this.timers.values()) {
      if (
        best === undefined ||
        timer.dueAt < best.dueAt ||
        (timer.dueAt === best.dueAt && timer.id < best.id)
      ) {
        best = timer;
      }
    }
    return best;
  }
}

/** Let every queued promise callback run (a macrotask boundary drains the microtask queue). */
export function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
