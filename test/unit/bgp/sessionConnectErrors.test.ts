/** Connections that cannot be opened reach the observer (the FSM itself only sees TcpConnectionFails). */
import { afterEach, describe, expect, it } from "vitest";
import { IPV4_UNICAST } from "../../../src/bgp/codec/index.js";
import type { SessionState } from "../../../src/bgp/fsm.js";
import { BgpSession, connectFailureOf, type ConnectFailure } from "../../../src/bgp/session.js";
import type { BgpConnection, BgpDialer, Clock } from "../../../src/bgp/transport.js";
import { FakeClock } from "./fakes.js";

/** An error as Node's net module or the native addon rejects a connect with. */
function systemError(message: string, code?: string): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

/** A dialer that fails every attempt with `error` after `afterMs` (never: the attempt hangs). */
function failingDialer(
  clock: Clock,
  error: Error,
  afterMs: number | "never",
): BgpDialer & { signals: AbortSignal[] } {
  const signals: AbortSignal[] = [];
  return {
    signals,
    connect: (signal) =>
      new Promise<BgpConnection>((_resolve, reject) => {
        signals.push(signal);
        signal.addEventListener("abort", () => {
          reject(new Error("connect aborted"));
        });
        if (afterMs === "never") return;
        clock.setTimer(afterMs, () => {
          reject(error);
        });
      }),
  };
}

const sessions: BgpSession[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.stop();
});

function start(afterMs: number | "never", error: Error) {
  const clock = new FakeClock();
  const scoped = clock.scope();
  const dialer = failingDialer(scoped, error, afterMs);
  const failures: ConnectFailure[] = [];
  const states: SessionState[] = [];
  const session = new BgpSession({
    config: {
      localAs: 64512,
      peerAs: 64513,
      routerId: 0xc000020a,
      holdTimeSeconds: 90,
      families: [IPV4_UNICAST],
      passive: false,
      connectBackoff: { initialMs: 2000, maxMs: 16_000, multiplier: 2, jitter: 0 },
    },
    clock: scoped,
    dialer,
    random: () => 0,
    observer: {
      connectFailed: (f) => failures.push(f),
      stateChanged: (_from, to) => states.push(to),
    },
  });
  sessions.push(session);
  session.start();
  return { clock, session, failures, states, dialer };
}

describe("connect failures", () => {
  const cases: {
    description: string;
    afterMs: number | "never";
    error: Error;
    want: ConnectFailure;
    state: SessionState;
  }[] = [
    {
      description: "refused at once: Node's message and code, then Active",
      afterMs: 0,
      error: systemError("connect ECONNREFUSED 192.0.2.1:179", "ECONNREFUSED"),
      want: { code: "ECONNREFUSED", message: "connect ECONNREFUSED 192.0.2.1:179", afterMs: 0 },
      state: "Active",
    },
    {
      description: "host unreachable after 1.2 s (the native addon's wording)",
      afterMs: 1200,
      error: systemError("connect to 192.0.2.1 port 179 failed: EHOSTUNREACH", "EHOSTUNREACH"),
      want: {
        code: "EHOSTUNREACH",
        message: "connect to 192.0.2.1 port 179 failed: EHOSTUNREACH",
        afterMs: 1200,
      },
      state: "Active",
    },
    {
      description: "the dialer's own timeout: worded as a timeout with its duration",
      afterMs: 1500,
      error: systemError("TCP connect did not complete within 1500 ms", "ETIMEDOUT"),
      want: { code: "ETIMEDOUT", message: "connect timed out after 1.5 s", afterMs: 1500 },
      state: "Active",
    },
    {
      description: "an error without a code keeps its message",
      afterMs: 10,
      error: new Error("connection refused by 192.0.2.1"),
      want: { message: "connection refused by 192.0.2.1", afterMs: 10 },
      state: "Active",
    },
    {
      description: "no answer at all: the retry timer gives the attempt up as timed out, still in Connect",
      afterMs: "never",
      error: new Error("unused"),
      want: { code: "ETIMEDOUT", message: "connect timed out after 2 s", afterMs: 2000 },
      state: "Connect",
    },
  ];
  it.each(cases)("$description", async ({ afterMs, error, want, state }) => {
    const { clock, session, failures, dialer } = start(afterMs, error);
    await clock.advance(afterMs === "never" ? 2000 : afterMs);
    expect(failures).toEqual([want]);
    expect(session.state).toBe(state);
    expect(dialer.signals).toHaveLength(afterMs === "never" ? 2 : 1);
  });

  it("every failed attempt is reported, the abandoned ones once each (not again as 'aborted')", async () => {
    const { clock, failures, dialer } = start("never", new Error("unused"));
    await clock.advance(2000 + 4000 + 8000);
    expect(failures.map((f) => f.message)).toEqual([
      "connect timed out after 2 s",
      "connect timed out after 4 s",
      "connect timed out after 8 s",
    ]);
    expect(dialer.signals.slice(0, 3).every((s) => s.aborted)).toBe(true);
  });

  it("a stop cancels the pending attempt without reporting it", async () => {
    const { clock, session, failures, dialer } = start("never", new Error("unused"));
    await clock.advance(500);
    session.stop();
    await clock.advance(10_000);
    expect(dialer.signals[0]?.aborted).toBe(true);
    expect(failures).toEqual([]);
    expect(session.state).toBe("Idle");
  });

  it("the failure is reported before the state change it causes", async () => {
    const { clock, failures, states } = start(
      100,
      systemError("connect ECONNREFUSED 192.0.2.1:179", "ECONNREFUSED"),
    );
    const seen: [number, SessionState[]][] = [];
    await clock.advance(99);
    seen.push([failures.length, [...states]]);
    await clock.advance(1);
    seen.push([failures.length, [...states]]);
    expect(seen).toEqual([
      [0, ["Connect"]],
      [1, ["Connect", "Active"]],
    ]);
  });
});

describe("connectFailureOf", () => {
  const cases: { description: string; error: unknown; want: ConnectFailure }[] = [
    {
      description: "code and message of a system error",
      error: systemError("connect ENETUNREACH 2001:db8::1:179", "ENETUNREACH"),
      want: { code: "ENETUNREACH", message: "connect ENETUNREACH 2001:db8::1:179", afterMs: 3 },
    },
    {
      description: "ETIMEDOUT from the kernel: our wording",
      error: systemError("connect ETIMEDOUT 192.0.2.1:179", "ETIMEDOUT"),
      want: { code: "ETIMEDOUT", message: "connect timed out after 0 s", afterMs: 3 },
    },
    {
      description: "a numeric code is not a system error name",
      error: Object.assign(new Error("odd"), { code: 111 }),
      want: { message: "odd", afterMs: 3 },
    },
    { description: "not an Error", error: "boom", want: { message: "boom", afterMs: 3 } },
  ];
  it.each(cases)("$description", ({ error, want }) => {
    expect(connectFailureOf(error, 3)).toEqual(want);
  });
});
