import { systemClock, type Clock } from "./clock.js";

export class TimeoutError extends Error {
  override readonly name = "TimeoutError";
  readonly code = "ERR_TIMEOUT";
}

export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Detach from the parent and cancel the timer. Call when the operation is over. */
  dispose(): void;
}

export interface LinkedSignalOptions {
  readonly timeoutMs?: number | undefined;
  readonly clock?: Clock;
  /** Message of the TimeoutError the signal aborts with when the time is up. */
  readonly timeoutMessage?: string;
}

/**
 * A signal for one operation that aborts when `parent` aborts or after `timeoutMs`. Unlike
 * AbortSignal.any, it detaches from the long-lived parent on dispose() (and at the latest when
 * the timer fires): on Node 20 every AbortSignal.any([parent, ...]) stays referenced by the
 * parent, which leaks in a daemon making a call every few seconds for weeks.
 */
export function linkedSignal(
  parent: AbortSignal | undefined,
  options: LinkedSignalOptions = {},
): LinkedSignal {
  const controller = new AbortController();
  const clock = options.clock ?? systemClock;
  const onParentAbort = (): void => {
    dispose();
    controller.abort(parent?.reason);
  };
  let timer: ReturnType<Clock["setTimeout"]> | undefined;
  const dispose = (): void => {
    parent?.removeEventListener("abort", onParentAbort);
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
  };
  if (parent?.aborted === true) {
    controller.abort(parent.reason);
    return { signal: controller.signal, dispose };
  }
  parent?.addEventListener("abort", onParentAbort, { once: true });
  const timeoutMs = options.timeoutMs;
  if (timeoutMs !== undefined) {
    timer = clock.setTimeout(() => {
      timer = undefined;
      dispose();
      controller.abort(new TimeoutError(options.timeoutMessage ?? `timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  }
  return { signal: controller.signal, dispose };
}
