import { describe, expect, it } from "vitest";
import { TimeoutError, linkedSignal } from "../../../src/runtime/abort.js";
import { ManualClock } from "../../../src/runtime/clock.js";

describe("linkedSignal", () => {
  it("aborts with the parent's reason when the parent aborts", () => {
    const parent = new AbortController();
    const linked = linkedSignal(parent.signal);
    const reason = new Error("leadership lost");
    parent.abort(reason);
    expect(linked.signal.aborted).toBe(true);
    expect(linked.signal.reason).toBe(reason);
  });

  it("aborts with a TimeoutError when the time is up, and no sooner", async () => {
    const clock = new ManualClock();
    const linked = linkedSignal(new AbortController().signal, {
      timeoutMs: 100,
      clock,
      timeoutMessage: "slow",
    });
    await clock.advance(99);
    expect(linked.signal.aborted).toBe(false);
    await clock.advance(1);
    expect(linked.signal.reason).toBeInstanceOf(TimeoutError);
    expect((linked.signal.reason as Error).message).toBe("slow");
  });

  it("is aborted at once for an already-aborted parent", () => {
    expect(linkedSignal(AbortSignal.abort("gone")).signal.reason).toBe("gone");
  });

  it("after dispose() neither the parent nor the timer aborts it, and no timer is left", async () => {
    const clock = new ManualClock();
    const parent = new AbortController();
    const linked = linkedSignal(parent.signal, { timeoutMs: 100, clock });
    linked.dispose();
    expect(clock.pendingTimers()).toBe(0);
    parent.abort();
    await clock.advance(1000);
    expect(linked.signal.aborted).toBe(false);
  });

  it("works without a parent as a plain timeout", async () => {
    const clock = new ManualClock();
    const linked = linkedSignal(undefined, { timeoutMs: 5, clock });
    await clock.advance(5);
    expect(linked.signal.aborted).toBe(true);
  });
});
