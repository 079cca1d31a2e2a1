/**
 * The BGP finite state machine of RFC 4271 section 8, as a pure function:
 * step(context, state, event) → { state, actions }. It never touches a socket or a clock: the
 * session driver performs the actions (connect, send, start a timer…) and feeds back events.
 *
 * Deliberate simplifications of the RFC's optional machinery, all within its latitude:
 * - DelayOpen and the per-connection collision state live outside: collision resolution is a
 *   pure helper (collision.ts) the driver applies, sending OpenCollisionDump to the loser.
 * - Automatic restart after a failure uses the IdleHoldTimer with the jittered exponential
 *   backoff (runtime/backoff.ts, jitter only shortening as RFC 4271 section 10 asks);
 *   `attempts` counts failures since the last Established.
 * - A failed outbound connect goes to Active (listening) until ConnectRetryTimer retries, as
 *   RFC 4271 does when DelayOpen is running, rather than through Idle.
 * - Timer events arriving in a state where the timer cannot run (stale, already cancelled)
 *   are ignored instead of being treated as FSM errors.
 * - KeepaliveTimer is not restarted when an UPDATE is sent: a few extra KEEPALIVEs are harmless.
 */
import { backoffDelay, type BackoffPolicy, type RandomSource } from "../runtime/backoff.js";
import {
  CeaseSubcode,
  ErrorCode,
  FsmErrorSubcode,
  OpenErrorSubcode,
  sameAfiSafi,
  type AfiSafi,
} from "./codec/constants.js";
import type { BgpProtocolError } from "./codec/errors.js";
import { encodeShutdownCommunication, type NotificationMessage } from "./codec/notification.js";
import type { OpenMessage } from "./codec/open.js";
import { negotiate, type Negotiated, type SessionParameters } from "./negotiation.js";

export type SessionState = "Idle" | "Connect" | "Active" | "OpenSent" | "OpenConfirm" | "Established";

export type TimerName = "connectRetry" | "hold" | "keepalive" | "idleHold";
export const ALL_TIMERS: readonly TimerName[] = ["connectRetry", "hold", "keepalive", "idleHold"];

/** RFC 4271 8: the large hold time used until the peer's OPEN arrives. */
export const OPEN_SENT_HOLD_TIME_MS = 240_000;

export interface FsmConfig extends SessionParameters {
  /** Never connect out; only accept the peer's connection. */
  readonly passive: boolean;
  readonly connectBackoff: BackoffPolicy;
}

export interface FsmContext {
  readonly config: FsmConfig;
  readonly random: RandomSource;
}

export interface FsmState {
  readonly state: SessionState;
  /** Failed attempts since the session was last Established; drives the backoff. */
  readonly attempts: number;
  /** Whether a failure schedules an automatic restart (true after a start, false after ManualStop). */
  readonly autoRestart: boolean;
  /** Set from the peer's OPEN onwards (OpenConfirm, Established). */
  readonly negotiated?: Negotiated;
}

export const INITIAL_STATE: FsmState = { state: "Idle", attempts: 0, autoRestart: false };

/** The connect-retry / idle-hold delay after `attempt` failures; jitter only shortens it (RFC 4271 10). */
function retryDelay(ctx: FsmContext, attempt: number): number {
  return backoffDelay(ctx.config.connectBackoff, attempt, ctx.random, "below");
}

export type FsmEvent =
  | { readonly type: "ManualStart" }
  | { readonly type: "ManualStop"; readonly shutdownMessage?: string }
  | { readonly type: "AutomaticStart" }
  /** Stop for a reason other than the operator (e.g. BFD down, configuration change); restarts later. */
  | { readonly type: "AutomaticStop"; readonly ceaseSubcode: number; readonly shutdownMessage?: string }
  | { readonly type: "ConnectRetryTimerExpires" }
  | { readonly type: "HoldTimerExpires" }
  | { readonly type: "KeepaliveTimerExpires" }
  | { readonly type: "IdleHoldTimerExpires" }
  /** Events 16/17: our outbound connection completed, or an inbound one was accepted. */
  | { readonly type: "TcpConnectionConfirmed" }
  | { readonly type: "TcpConnectionFails" }
  | { readonly type: "BGPOpen"; readonly open: OpenMessage }
  | { readonly type: "BGPHeaderErr"; readonly error: BgpProtocolError }
  | { readonly type: "BGPOpenMsgErr"; readonly error: BgpProtocolError }
  | { readonly type: "OpenCollisionDump" }
  /** Events 24/25: NotifMsgVerErr is recognised from the code and subcode. */
  | { readonly type: "NotifMsg"; readonly notification: NotificationMessage }
  | { readonly type: "KeepAliveMsg" }
  | { readonly type: "UpdateMsg" }
  | { readonly type: "UpdateMsgErr"; readonly error: BgpProtocolError }
  | { readonly type: "RouteRefreshMsg"; readonly family: AfiSafi };

export type DownReasonKind =
  | "manualStop"
  | "automaticStop"
  | "holdTimerExpired"
  | "notificationReceived"
  | "notificationSent"
  | "connectionLost"
  | "collision";

export interface DownReason {
  readonly kind: DownReasonKind;
  readonly detail: string;
  /** The NOTIFICATION sent or received, when there was one. */
  readonly notification?: { readonly code: number; readonly subcode: number; readonly data: Buffer };
}

export type FsmAction =
  | { readonly type: "connect" }
  | { readonly type: "dropConnection" }
  | { readonly type: "sendOpen" }
  | { readonly type: "sendKeepalive" }
  | {
      readonly type: "sendNotification";
      readonly code: number;
      readonly subcode: number;
      readonly data: Buffer;
    }
  | { readonly type: "startTimer"; readonly timer: TimerName; readonly ms: number }
  | { readonly type: "stopTimer"; readonly timer: TimerName }
  /** OpenConfirm → Established: send the Adj-RIB-Out and End-of-RIB. */
  | { readonly type: "established"; readonly negotiated: Negotiated }
  /** Established → anything else: the peer forgets our routes (unless graceful restart keeps them). */
  | { readonly type: "sessionDown"; readonly reason: DownReason }
  /** The peer asked for our routes again (ROUTE-REFRESH). */
  | { readonly type: "resendRoutes"; readonly family: AfiSafi };

export interface StepResult {
  readonly state: FsmState;
  readonly actions: readonly FsmAction[];
}

type Notification = { readonly code: number; readonly subcode: number; readonly data: Buffer };

const NO_DATA = Buffer.alloc(0);

function stopAll(): FsmAction[] {
  return ALL_TIMERS.map((timer) => ({ type: "stopTimer", timer }));
}

function sendNotification(n: Notification): FsmAction {
  return { type: "sendNotification", code: n.code, subcode: n.subcode, data: n.data };
}

function fromError(e: BgpProtocolError): Notification {
  return { code: e.errorCode, subcode: e.subcode, data: e.data };
}

function cease(subcode: number, message: string | undefined): Notification {
  const withText =
    subcode === CeaseSubcode.AdministrativeShutdown || subcode === CeaseSubcode.AdministrativeReset;
  return {
    code: ErrorCode.Cease,
    subcode,
    data: withText && message !== undefined ? encodeShutdownCommunication(message) : NO_DATA,
  };
}

/** Leaves Idle: connect out (or, passive, wait for the peer) and arm the retry timer. */
function start(ctx: FsmContext, s: FsmState): StepResult {
  const next: FsmState = {
    state: ctx.config.passive ? "Active" : "Connect",
    attempts: s.attempts,
    autoRestart: true,
  };
  if (ctx.config.passive) return { state: next, actions: [{ type: "stopTimer", timer: "idleHold" }] };
  return {
    state: next,
    actions: [
      { type: "stopTimer", timer: "idleHold" },
      { type: "connect" },
      {
        type: "startTimer",
        timer: "connectRetry",
        ms: retryDelay(ctx, s.attempts),
      },
    ],
  };
}

/**
 * Any error: optionally a NOTIFICATION, then drop the connection and all timers, go Idle, and
 * (unless stopped by hand) schedule a restart after the backoff delay.
 */
function fail(
  ctx: FsmContext,
  s: FsmState,
  kind: DownReasonKind,
  detail: string,
  opts: { send?: Notification; received?: Notification; countsAsAttempt?: boolean } = {},
): StepResult {
  const attempts = opts.countsAsAttempt === false ? s.attempts : s.attempts + 1;
  const actions: FsmAction[] = [];
  if (opts.send !== undefined) actions.push(sendNotification(opts.send));
  actions.push({ type: "dropConnection" }, ...stopAll());
  if (s.state === "Established") {
    const notification = opts.send ?? opts.received;
    actions.push({
      type: "sessionDown",
      reason: { kind, detail, ...(notification === undefined ? {} : { notification }) },
    });
  }
  if (s.autoRestart) {
    actions.push({
      type: "startTimer",
      timer: "idleHold",
      ms: retryDelay(ctx, attempts - 1),
    });
  }
  return { state: { state: "Idle", attempts, autoRestart: s.autoRestart }, actions };
}

function manualStop(s: FsmState, message: string | undefined): StepResult {
  const connected = s.state === "OpenSent" || s.state === "OpenConfirm" || s.state === "Established";
  const actions: FsmAction[] = [];
  const notification = cease(CeaseSubcode.AdministrativeShutdown, message);
  if (connected) actions.push(sendNotification(notification));
  if (s.state !== "Idle") actions.push({ type: "dropConnection" });
  actions.push(...stopAll());
  if (s.state === "Established") {
    actions.push({
      type: "sessionDown",
      reason: { kind: "manualStop", detail: message ?? "stopped by the operator", notification },
    });
  }
  return { state: { state: "Idle", attempts: 0, autoRestart: false }, actions };
}

const same = (s: FsmState): StepResult => ({ state: s, actions: [] });

function unexpectedMessageSubcode(state: SessionState): number {
  if (state === "OpenSent") return FsmErrorSubcode.UnexpectedMessageInOpenSent;
  if (state === "OpenConfirm") return FsmErrorSubcode.UnexpectedMessageInOpenConfirm;
  return FsmErrorSubcode.UnexpectedMessageInEstablished;
}

function notificationFields(n: NotificationMessage): Notification {
  return { code: n.code, subcode: n.subcode, data: n.data };
}

/** Events every connected state (OpenSent, OpenConfirm, Established) handles the same way. */
function connectedCommon(ctx: FsmContext, s: FsmState, e: FsmEvent): StepResult | undefined {
  switch (e.type) {
    case "AutomaticStop":
      return fail(ctx, s, "automaticStop", "stopped automatically", {
        send: cease(e.ceaseSubcode, e.shutdownMessage),
      });
    case "HoldTimerExpires":
      return fail(ctx, s, "holdTimerExpired", "no message from the peer within the hold time", {
        send: { code: ErrorCode.HoldTimerExpired, subcode: 0, data: NO_DATA },
      });
    case "BGPHeaderErr":
    case "BGPOpenMsgErr":
    case "UpdateMsgErr":
      return fail(ctx, s, "notificationSent", e.error.message, { send: fromError(e.error) });
    case "OpenCollisionDump":
      return fail(ctx, s, "collision", "connection lost the collision resolution", {
        send: cease(CeaseSubcode.ConnectionCollisionResolution, undefined),
      });
    case "NotifMsg": {
      // RFC 4271 8.2.2: a version error from the peer is not held against the retry count.
      const versionError =
        e.notification.code === ErrorCode.OpenMessage &&
        e.notification.subcode === OpenErrorSubcode.UnsupportedVersionNumber;
      return fail(ctx, s, "notificationReceived", "the peer sent a NOTIFICATION", {
        received: notificationFields(e.notification),
        countsAsAttempt: !versionError,
      });
    }
    default:
      return undefined;
  }
}

function fsmError(ctx: FsmContext, s: FsmState, what: string): StepResult {
  return fail(ctx, s, "notificationSent", `unexpected ${what} in ${s.state}`, {
    send: { code: ErrorCode.FsmError, subcode: unexpectedMessageSubcode(s.state), data: NO_DATA },
  });
}

function restartHold(s: FsmState): FsmAction[] {
  const hold = s.negotiated?.holdTimeMs ?? 0;
  return hold > 0 ? [{ type: "startTimer", timer: "hold", ms: hold }] : [];
}

function idle(ctx: FsmContext, s: FsmState, e: FsmEvent): StepResult {
  switch (e.type) {
    case "ManualStart":
      return start(ctx, { ...s, attempts: 0 });
    case "AutomaticStart":
      return start(ctx, s);
    case "IdleHoldTimerExpires":
      return s.autoRestart ? start(ctx, s) : same(s);
    case "ManualStop":
      return manualStop(s, e.shutdownMessage);
    case "TcpConnectionConfirmed":
      // RFC 4271 8.2.2: Idle refuses connections.
      return { state: s, actions: [{ type: "dropConnection" }] };
    default:
      return same(s);
  }
}

function connectOrActive(ctx: FsmContext, s: FsmState, e: FsmEvent): StepResult {
  switch (e.type) {
    case "ManualStart":
    case "AutomaticStart":
    case "IdleHoldTimerExpires":
    case "KeepaliveTimerExpires":
    case "HoldTimerExpires":
      return same(s);
    case "ManualStop":
      return manualStop(s, e.shutdownMessage);
    case "AutomaticStop":
      return fail(ctx, s, "automaticStop", "stopped automatically");
    case "ConnectRetryTimerExpires": {
      if (ctx.config.passive) return same(s);
      const attempts = s.state === "Connect" ? s.attempts + 1 : s.attempts;
      const actions: FsmAction[] = [];
      // In Connect the pending attempt is abandoned before the next one.
      if (s.state === "Connect") actions.push({ type: "dropConnection" });
      actions.push(
        { type: "connect" },
        { type: "startTimer", timer: "connectRetry", ms: retryDelay(ctx, attempts) },
      );
      return { state: { ...s, state: "Connect", attempts }, actions };
    }
    case "TcpConnectionConfirmed":
      return {
        state: { ...s, state: "OpenSent" },
        actions: [
          { type: "stopTimer", timer: "connectRetry" },
          { type: "sendOpen" },
          { type: "startTimer", timer: "hold", ms: OPEN_SENT_HOLD_TIME_MS },
        ],
      };
    case "TcpConnectionFails": {
      if (s.state === "Active") return same(s);
      const attempts = s.attempts + 1;
      return {
        state: { ...s, state: "Active", attempts },
        actions: [
          { type: "dropConnection" },
          { type: "startTimer", timer: "connectRetry", ms: retryDelay(ctx, attempts) },
        ],
      };
    }
    default:
      // No BGP message can arrive before a connection is confirmed: a stray event resets.
      return fail(ctx, s, "connectionLost", `unexpected ${e.type} in ${s.state}`);
  }
}

function openSent(ctx: FsmContext, s: FsmState, e: FsmEvent): StepResult {
  const common = connectedCommon(ctx, s, e);
  if (common !== undefined) return common;
  switch (e.type) {
    case "ManualStop":
      return manualStop(s, e.shutdownMessage);
    case "TcpConnectionFails": {
      const attempts = s.attempts + 1;
      return {
        state: { state: "Active", attempts, autoRestart: s.autoRestart },
        actions: [
          { type: "dropConnection" },
          ...stopAll(),
          {
            type: "startTimer",
            timer: "connectRetry",
            ms: retryDelay(ctx, attempts),
          },
        ],
      };
    }
    case "BGPOpen": {
      const verdict = negotiate(ctx.config, e.open);
      if (!verdict.ok) {
        const { code, subcode, data, detail } = verdict.rejection;
        return fail(ctx, s, "notificationSent", detail, { send: { code, subcode, data } });
      }
      const n = verdict.negotiated;
      const timers: FsmAction[] =
        n.holdTimeMs > 0
          ? [
              { type: "startTimer", timer: "keepalive", ms: n.keepaliveMs },
              { type: "startTimer", timer: "hold", ms: n.holdTimeMs },
            ]
          : [{ type: "stopTimer", timer: "hold" }];
      return {
        state: { ...s, state: "OpenConfirm", negotiated: n },
        actions: [{ type: "stopTimer", timer: "connectRetry" }, { type: "sendKeepalive" }, ...timers],
      };
    }
    case "KeepAliveMsg":
    case "UpdateMsg":
    case "RouteRefreshMsg":
      return fsmError(ctx, s, e.type);
    default:
      return same(s);
  }
}

function openConfirm(ctx: FsmContext, s: FsmState, e: FsmEvent): StepResult {
  const common = connectedCommon(ctx, s, e);
  if (common !== undefined) return common;
  switch (e.type) {
    case "ManualStop":
      return manualStop(s, e.shutdownMessage);
    case "TcpConnectionFails":
      return fail(ctx, s, "connectionLost", "TCP connection closed");
    case "KeepaliveTimerExpires":
      return { state: s, actions: [{ type: "sendKeepalive" }, ...keepaliveRestart(s)] };
    case "KeepAliveMsg": {
      const negotiated = s.negotiated;
      if (negotiated === undefined)
        return fail(ctx, s, "connectionLost", "OpenConfirm without negotiated parameters");
      return {
        state: { ...s, state: "Established", attempts: 0 },
        actions: [...restartHold(s), { type: "established", negotiated }],
      };
    }
    case "BGPOpen":
    case "UpdateMsg":
    case "RouteRefreshMsg":
      return fsmError(ctx, s, e.type);
    default:
      return same(s);
  }
}

function keepaliveRestart(s: FsmState): FsmAction[] {
  const ms = s.negotiated?.keepaliveMs ?? 0;
  return ms > 0 ? [{ type: "startTimer", timer: "keepalive", ms }] : [];
}

function established(ctx: FsmContext, s: FsmState, e: FsmEvent): StepResult {
  const common = connectedCommon(ctx, s, e);
  if (common !== undefined) return common;
  switch (e.type) {
    case "ManualStop":
      return manualStop(s, e.shutdownMessage);
    case "TcpConnectionFails":
      return fail(ctx, s, "connectionLost", "TCP connection closed");
    case "KeepaliveTimerExpires":
      return { state: s, actions: [{ type: "sendKeepalive" }, ...keepaliveRestart(s)] };
    case "KeepAliveMsg":
    case "UpdateMsg":
      return { state: s, actions: restartHold(s) };
    case "RouteRefreshMsg": {
      // RFC 2918 4: a refresh for a family we did not negotiate is ignored.
      const known = s.negotiated?.families.some((f) => sameAfiSafi(f, e.family)) ?? false;
      return {
        state: s,
        actions: [...restartHold(s), ...(known ? [{ type: "resendRoutes" as const, family: e.family }] : [])],
      };
    }
    case "BGPOpen":
      return fsmError(ctx, s, e.type);
    default:
      return same(s);
  }
}

/** The state machine: one event in, the next state and the actions to perform out. */
export function step(ctx: FsmContext, s: FsmState, e: FsmEvent): StepResult {
  switch (s.state) {
    case "Idle":
      return idle(ctx, s, e);
    case "Connect":
    case "Active":
      return connectOrActive(ctx, s, e);
    case "OpenSent":
      return openSent(ctx, s, e);
    case "OpenConfirm":
      return openConfirm(ctx, s, e);
    case "Established":
      return established(ctx, s, e);
  }
}
