/**
 * One BGP session with one peer: wires the pure FSM to an injected clock, dialer and
 * connections, frames and decodes what the peer sends, and keeps the peer's copy of our routes
 * (the Adj-RIB-Out actually sent) in step with the advertisements it is given, by diff.
 *
 * Connection collisions (RFC 4271 6.8): an inbound connection arriving while ours is in
 * OpenSent/OpenConfirm runs as a second FSM (the candidate). Once both have the peer's OPEN the
 * connection initiated by the higher BGP Identifier survives; a connection that reaches
 * Established wins over one that has not; the loser gets Cease / Connection Collision
 * Resolution. Events are queued and processed one at a time, so actions that trigger events
 * never re-enter the state machine.
 */
import { tryParseIP, type CIDR, type IPAddr } from "../net/ip.js";
import {
  adjRibOutForPeer,
  diffAdjRibOut,
  EMPTY_RIB,
  fullAnnouncement,
  type AdjRibOut,
  type Advertisement,
  type RibDiff,
  type Route,
} from "./adjRibOut.js";
import { validateBackoffPolicy, type RandomSource } from "../runtime/backoff.js";
import { collisionSurvivor, type ConnectionOrigin } from "./collision.js";
import {
  CeaseSubcode,
  ErrorCode,
  IPV4_UNICAST,
  IPV6_UNICAST,
  sameAfiSafi,
  type AfiSafi,
} from "./codec/constants.js";
import { protocolError, type AttributeProblem, type BgpProtocolError } from "./codec/errors.js";
import { MessageFramer } from "./codec/framer.js";
import { decodeMessage, encodeMessage, type BgpMessage } from "./codec/message.js";
import { endOfRib } from "./codec/update.js";
import {
  INITIAL_STATE,
  step,
  type DownReason,
  type FsmAction,
  type FsmConfig,
  type FsmContext,
  type FsmEvent,
  type FsmState,
  type SessionState,
  type TimerName,
} from "./fsm.js";
import { localOpen, SessionConfigError, validateSessionParameters, type Negotiated } from "./negotiation.js";
import type { BgpConnection, BgpDialer, Clock, TimerHandle } from "./transport.js";
import { buildUpdates } from "./updateBuilder.js";

export interface NextHops {
  readonly ipv4?: IPAddr;
  readonly ipv6?: IPAddr;
  readonly ipv6LinkLocal?: IPAddr;
}

/** A TCP connection to the peer that could not be opened (no BGP message tells of it). */
export interface ConnectFailure {
  /** The system error code (ECONNREFUSED, EHOSTUNREACH, ETIMEDOUT…), when known. */
  readonly code?: string;
  /** What went wrong, as the dialer said it, e.g. "connect ECONNREFUSED 192.0.2.1:179". */
  readonly message: string;
  /** How long the attempt ran before it failed or was given up. */
  readonly afterMs: number;
}

/** Callbacks for status, metrics and logs; all optional. Exceptions they throw go to observerError. */
export interface SessionObserver {
  stateChanged?(from: SessionState, to: SessionState): void;
  /**
   * A connection attempt failed, or was given up when the connect-retry timer fired first (a
   * peer that drops our SYNs, as one with another TCP-MD5 password does, answers nothing).
   */
  connectFailed?(failure: ConnectFailure): void;
  established?(negotiated: Negotiated): void;
  down?(reason: DownReason): void;
  messageSent?(message: BgpMessage): void;
  messageReceived?(message: BgpMessage): void;
  /** RFC 7606 problems survived in a received UPDATE. */
  updateProblems?(problems: readonly AttributeProblem[], treatAsWithdraw: boolean): void;
  /** A decoding error answered with a NOTIFICATION. */
  protocolError?(error: BgpProtocolError): void;
  /** Prefixes not advertised because the session has no next hop of their family. */
  routesSkipped?(prefixes: readonly CIDR[]): void;
  observerError?(error: unknown): void;
}

export interface BgpSessionOptions {
  readonly config: FsmConfig;
  readonly clock: Clock;
  /** How to reach the peer; required unless the session is passive. */
  readonly dialer?: BgpDialer;
  readonly random?: RandomSource;
  /**
   * This speaker has just restarted (graceful restart, RFC 4724): the OPEN carries the Restart
   * State bit until the first End-of-RIB has been sent.
   */
  readonly restarting?: boolean;
  /** Next hops to advertise; by default our address on the connection, for its family only. */
  readonly nextHops?: NextHops;
  readonly observer?: SessionObserver;
}

/** One connection attempt with its own FSM: the session's, or a colliding inbound one. */
interface Runner {
  fsm: FsmState;
  conn: BgpConnection | undefined;
  origin: ConnectionOrigin | undefined;
  framer: MessageFramer;
  readonly timers: Map<TimerName, TimerHandle>;
  dial: AbortController | undefined;
  /** Clock time the pending dial started. */
  dialStartedMs: number;
  discarded: boolean;
}

const TIMER_EVENTS: Readonly<Record<TimerName, FsmEvent>> = {
  connectRetry: { type: "ConnectRetryTimerExpires" },
  hold: { type: "HoldTimerExpires" },
  keepalive: { type: "KeepaliveTimerExpires" },
  idleHold: { type: "IdleHoldTimerExpires" },
};

const CONNECTED: ReadonlySet<SessionState> = new Set(["OpenSent", "OpenConfirm", "Established"]);

function newRunner(fsm: FsmState): Runner {
  return {
    fsm,
    conn: undefined,
    origin: undefined,
    framer: new MessageFramer(),
    timers: new Map(),
    dial: undefined,
    dialStartedMs: 0,
    discarded: false,
  };
}

function familyOfPrefix(p: CIDR): AfiSafi {
  return p.family === "IPv4" ? IPV4_UNICAST : IPV6_UNICAST;
}

/** The error a dialer rejected with, as a ConnectFailure (timeouts worded the same for every dialer). */
export function connectFailureOf(error: unknown, afterMs: number): ConnectFailure {
  const raw = (error as { code?: unknown } | null)?.code;
  const code = typeof raw === "string" ? raw : undefined;
  if (code === "ETIMEDOUT") return { code, message: timedOutMessage(afterMs), afterMs };
  const message = error instanceof Error ? error.message : String(error);
  return { ...(code === undefined ? {} : { code }), message, afterMs };
}

function timedOutMessage(afterMs: number): string {
  return `connect timed out after ${String(Math.round(afterMs / 100) / 10)} s`;
}

/** Our address on a connection as an IPAddr (IPv4-mapped IPv6 is unwrapped). */
function connectionAddress(text: string | undefined): IPAddr | undefined {
  if (text === undefined) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  return tryParseIP(mapped?.[1] ?? text);
}

export class BgpSession {
  private readonly ctx: FsmContext;
  private primary: Runner = newRunner(INITIAL_STATE);
  private candidate: Runner | undefined;
  private reportedState: SessionState = "Idle";
  private readonly queue: [Runner, FsmEvent][] = [];
  private draining = false;
  private restarting: boolean;
  private advertisements: readonly Advertisement[] = [];
  private sent: AdjRibOut = EMPTY_RIB;

  constructor(private readonly opts: BgpSessionOptions) {
    validateSessionParameters(opts.config);
    validateBackoffPolicy(opts.config.connectBackoff);
    if (!opts.config.passive && opts.dialer === undefined) {
      throw new SessionConfigError("an active session needs a dialer");
    }
    this.ctx = { config: opts.config, random: opts.random ?? Math.random };
    this.restarting = opts.restarting ?? false;
  }

  get state(): SessionState {
    return this.primary.fsm.state;
  }

  get negotiated(): Negotiated | undefined {
    return this.primary.fsm.state === "Established" ? this.primary.fsm.negotiated : undefined;
  }

  /** The routes the peer currently has from us. */
  get advertised(): AdjRibOut {
    return this.sent;
  }

  /** Who opened the current connection ("local" when we dialled), if there is one. */
  get connectionOrigin(): ConnectionOrigin | undefined {
    return this.primary.conn === undefined ? undefined : this.primary.origin;
  }

  start(): void {
    this.enqueue(this.primary, { type: "ManualStart" });
  }

  /** Closes the session with Cease / Administrative Shutdown and the message (RFC 9003); no restart. */
  stop(shutdownMessage?: string): void {
    const event: FsmEvent =
      shutdownMessage === undefined ? { type: "ManualStop" } : { type: "ManualStop", shutdownMessage };
    if (this.candidate !== undefined) this.enqueue(this.candidate, event);
    this.enqueue(this.primary, event);
  }

  /** Closes the session for a reason other than the operator (Cease subcode given); it restarts later. */
  automaticStop(ceaseSubcode: number, shutdownMessage?: string): void {
    const event: FsmEvent = {
      type: "AutomaticStop",
      ceaseSubcode,
      ...(shutdownMessage === undefined ? {} : { shutdownMessage }),
    };
    // A colliding connection goes too, or it would be promoted in place of the stopped one.
    if (this.candidate !== undefined) this.enqueue(this.candidate, event);
    this.enqueue(this.primary, event);
  }

  /** Hands over a connection the peer opened to us. */
  acceptConnection(conn: BgpConnection): void {
    const p = this.primary;
    const state = p.fsm.state;
    if (state === "Idle") {
      conn.close(); // RFC 4271 8.2.2: Idle refuses connections.
      return;
    }
    if (state === "Connect" || state === "Active") {
      // Take the peer's connection instead of finishing our own attempt.
      this.abortDial(p);
      this.attach(p, conn, "remote");
      return;
    }
    if (state === "Established" || this.candidate !== undefined) {
      const notification = {
        code: ErrorCode.Cease,
        subcode: CeaseSubcode.ConnectionRejected,
        data: Buffer.alloc(0),
      };
      conn.write(encodeMessage({ type: "notification", ...notification }));
      conn.close();
      return;
    }
    const c = newRunner({ state: "Active", attempts: 0, autoRestart: false });
    this.candidate = c;
    this.attach(c, conn, "remote");
  }

  /** The prefixes to advertise; the peer receives only the difference from what it has. */
  setAdvertisements(ads: Iterable<Advertisement>): void {
    this.advertisements = [...ads];
    const n = this.negotiated;
    if (n === undefined) return;
    const next = this.desiredRib(n);
    this.sendRoutes(this.primary, diffAdjRibOut(this.sent, next), n);
    this.sent = next;
  }

  // -------------------------------------------------------------------------------------------
  // Event loop

  private enqueue(runner: Runner, event: FsmEvent): void {
    this.queue.push([runner, event]);
    this.drain();
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let item = this.queue.shift(); item !== undefined; item = this.queue.shift()) {
        this.process(item[0], item[1]);
      }
    } finally {
      this.draining = false;
    }
  }

  private process(runner: Runner, event: FsmEvent): void {
    if (runner.discarded) return;
    // The retry timer firing in Connect abandons the attempt still pending: it timed out.
    const abandonedDialMs =
      event.type === "ConnectRetryTimerExpires" && runner.dial !== undefined
        ? this.opts.clock.now() - runner.dialStartedMs
        : undefined;
    const result = step(this.ctx, runner.fsm, event);
    runner.fsm = result.state;
    if (abandonedDialMs !== undefined && result.actions.some((a) => a.type === "dropConnection")) {
      const failure = {
        code: "ETIMEDOUT",
        message: timedOutMessage(abandonedDialMs),
        afterMs: abandonedDialMs,
      };
      this.notify((o) => o.connectFailed?.(failure));
    }
    for (const action of result.actions) this.perform(runner, action);
    this.resolveConnections();
    const now = this.primary.fsm.state;
    if (now !== this.reportedState) {
      const from = this.reportedState;
      this.reportedState = now;
      this.notify((o) => o.stateChanged?.(from, now));
    }
  }

  private perform(runner: Runner, a: FsmAction): void {
    switch (a.type) {
      case "connect":
        if (runner === this.primary) this.dial(runner);
        return;
      case "dropConnection":
        this.abortDial(runner);
        this.closeConnection(runner);
        return;
      case "sendOpen":
        this.send(runner, localOpen(this.opts.config, this.restarting));
        return;
      case "sendKeepalive":
        this.send(runner, { type: "keepalive" });
        return;
      case "sendNotification":
        this.send(runner, { type: "notification", code: a.code, subcode: a.subcode, data: a.data });
        return;
      case "startTimer": {
        runner.timers.get(a.timer)?.cancel();
        const event = TIMER_EVENTS[a.timer];
        runner.timers.set(
          a.timer,
          this.opts.clock.setTimer(a.ms, () => {
            runner.timers.delete(a.timer);
            this.enqueue(runner, event);
          }),
        );
        return;
      }
      case "stopTimer":
        runner.timers.get(a.timer)?.cancel();
        runner.timers.delete(a.timer);
        return;
      case "established":
        if (runner !== this.primary) this.promote(runner);
        this.notify((o) => o.established?.(a.negotiated));
        this.sendInitialRoutes(runner, a.negotiated);
        return;
      case "sessionDown":
        if (runner !== this.primary) return;
        this.sent = EMPTY_RIB;
        this.notify((o) => o.down?.(a.reason));
        return;
      case "resendRoutes": {
        const n = runner.fsm.negotiated;
        if (n === undefined) return;
        const routes = [...this.sent.values()].filter((r) => sameAfiSafi(familyOfPrefix(r.prefix), a.family));
        this.sendRoutes(runner, { announce: routes, withdraw: [] }, n);
        return;
      }
    }
  }

  /** Applies the collision rules once per processed event (see the module comment). */
  private resolveConnections(): void {
    const p = this.primary;
    const c = this.candidate;
    if (c === undefined) return;
    if (!CONNECTED.has(c.fsm.state)) {
      this.candidate = undefined;
      this.discard(c);
      return;
    }
    if (!CONNECTED.has(p.fsm.state)) {
      // Our own connection failed while the peer's is alive: carry on with the peer's.
      this.promote(c);
      return;
    }
    if (p.fsm.state === "Established") {
      this.dump(c);
      return;
    }
    const peer = p.fsm.negotiated;
    if (p.fsm.state === "OpenConfirm" && c.fsm.state === "OpenConfirm" && peer !== undefined) {
      const survivor = collisionSurvivor(
        { bgpId: this.opts.config.routerId, asn: this.opts.config.localAs },
        { bgpId: peer.peerRouterId, asn: peer.peerAs },
      );
      if (p.origin === c.origin || p.origin === survivor) this.dump(c);
      else this.promote(c);
    }
  }

  /** Makes `runner` the session's connection; the previous primary is closed (Cease 7 if connected). */
  private promote(runner: Runner): void {
    const old = this.primary;
    this.primary = runner;
    this.candidate = undefined;
    runner.fsm = { ...runner.fsm, autoRestart: old.fsm.autoRestart, attempts: old.fsm.attempts };
    if (CONNECTED.has(old.fsm.state)) this.dump(old);
    else this.discard(old);
  }

  private dump(runner: Runner): void {
    if (runner === this.candidate) this.candidate = undefined;
    this.process(runner, { type: "OpenCollisionDump" });
    this.discard(runner);
  }

  private discard(runner: Runner): void {
    runner.discarded = true;
    for (const t of runner.timers.values()) t.cancel();
    runner.timers.clear();
    this.abortDial(runner);
    this.closeConnection(runner);
  }

  // -------------------------------------------------------------------------------------------
  // Connections

  private dial(runner: Runner): void {
    const dialer = this.opts.dialer;
    if (dialer === undefined) return;
    this.abortDial(runner);
    const attempt = new AbortController();
    runner.dial = attempt;
    runner.dialStartedMs = this.opts.clock.now();
    const current = (): boolean => !attempt.signal.aborted && runner.dial === attempt && !runner.discarded;
    dialer.connect(attempt.signal).then(
      (conn) => {
        if (!current()) {
          conn.close();
          return;
        }
        runner.dial = undefined;
        this.attach(runner, conn, "local");
      },
      (error: unknown) => {
        if (!current()) return;
        runner.dial = undefined;
        // Reported before the event, so the state change that follows finds the error recorded.
        const failure = connectFailureOf(error, this.opts.clock.now() - runner.dialStartedMs);
        this.notify((o) => o.connectFailed?.(failure));
        this.enqueue(runner, { type: "TcpConnectionFails" });
      },
    );
  }

  private abortDial(runner: Runner): void {
    runner.dial?.abort();
    runner.dial = undefined;
  }

  /** Adopts a connection: TcpConnectionConfirmed first, so bytes already waiting come after it. */
  private attach(runner: Runner, conn: BgpConnection, origin: ConnectionOrigin): void {
    runner.conn = conn;
    runner.origin = origin;
    runner.framer = new MessageFramer();
    this.enqueue(runner, { type: "TcpConnectionConfirmed" });
    conn.onData((chunk) => {
      if (runner.conn === conn && !runner.discarded) this.receive(runner, conn, chunk);
    });
    conn.onClose(() => {
      if (runner.conn !== conn || runner.discarded) return;
      runner.conn = undefined;
      this.enqueue(runner, { type: "TcpConnectionFails" });
    });
  }

  private closeConnection(runner: Runner): void {
    const conn = runner.conn;
    runner.conn = undefined;
    conn?.close();
  }

  private receive(runner: Runner, conn: BgpConnection, chunk: Buffer): void {
    const out = runner.framer.push(chunk);
    for (const frame of out.messages) {
      // Decode each frame only after the previous one was processed: the OPEN decides how
      // the UPDATEs after it are read (2- or 4-octet AS numbers).
      if (runner.conn !== conn || runner.discarded) return;
      this.enqueue(runner, this.eventFor(runner, frame));
    }
    const error = out.error;
    if (error !== undefined && runner.conn === conn) {
      this.notify((o) => o.protocolError?.(error));
      this.enqueue(runner, { type: "BGPHeaderErr", error });
    }
  }

  private eventFor(runner: Runner, frame: Buffer): FsmEvent {
    const n = runner.fsm.negotiated;
    let r: ReturnType<typeof decodeMessage>;
    try {
      r = decodeMessage(frame, { fourOctetAs: n?.fourOctetAs ?? true, external: n?.external ?? false });
    } catch (err) {
      // The decoder is built not to throw; if it ever does, reset this session only.
      return {
        type: "BGPHeaderErr",
        error: protocolError(ErrorCode.Cease, 0, `decoder failure: ${String(err)}`),
      };
    }
    if (!r.ok) {
      this.notify((o) => o.protocolError?.(r.error));
      if (r.error.errorCode === ErrorCode.OpenMessage) return { type: "BGPOpenMsgErr", error: r.error };
      if (r.error.errorCode === ErrorCode.UpdateMessage) return { type: "UpdateMsgErr", error: r.error };
      return { type: "BGPHeaderErr", error: r.error };
    }
    const m = r.message;
    this.notify((o) => o.messageReceived?.(m));
    switch (m.type) {
      case "open":
        return { type: "BGPOpen", open: m };
      case "update":
        if (r.problems.length > 0) this.notify((o) => o.updateProblems?.(r.problems, r.treatAsWithdraw));
        return { type: "UpdateMsg" };
      case "notification":
        return { type: "NotifMsg", notification: m };
      case "keepalive":
        return { type: "KeepAliveMsg" };
      case "routeRefresh":
        return { type: "RouteRefreshMsg", family: { afi: m.afi, safi: m.safi } };
    }
  }

  private send(runner: Runner, message: BgpMessage, fourOctetAs = true): void {
    const conn = runner.conn;
    if (conn === undefined) return;
    conn.write(encodeMessage(message, { fourOctetAs }));
    this.notify((o) => o.messageSent?.(message));
  }

  // -------------------------------------------------------------------------------------------
  // Routes

  private peerNextHops(runner: Runner): NextHops {
    const configured = this.opts.nextHops ?? {};
    const local = connectionAddress(runner.conn?.localAddress);
    return {
      ...(local?.family === "IPv4" ? { ipv4: local } : {}),
      ...(local?.family === "IPv6" ? { ipv6: local } : {}),
      ...configured,
    };
  }

  private desiredRib(n: Negotiated, runner: Runner = this.primary): AdjRibOut {
    const hops = this.peerNextHops(runner);
    const { rib, skipped } = adjRibOutForPeer(this.advertisements, {
      localAs: this.opts.config.localAs,
      peerAs: n.peerAs,
      ...(hops.ipv4 === undefined ? {} : { nextHopIPv4: hops.ipv4 }),
      ...(hops.ipv6 === undefined ? {} : { nextHopIPv6: hops.ipv6 }),
      ...(hops.ipv6LinkLocal === undefined ? {} : { nextHopIPv6LinkLocal: hops.ipv6LinkLocal }),
    });
    const unsent: CIDR[] = [...skipped];
    const out = new Map<string, Route>();
    for (const [key, route] of rib) {
      if (n.families.some((f) => sameAfiSafi(f, familyOfPrefix(route.prefix)))) out.set(key, route);
      else unsent.push(route.prefix);
    }
    if (unsent.length > 0) this.notify((o) => o.routesSkipped?.(unsent));
    return out;
  }

  private sendRoutes(runner: Runner, diff: RibDiff, n: Negotiated): void {
    for (const update of buildUpdates(diff, { fourOctetAs: n.fourOctetAs }))
      this.send(runner, update, n.fourOctetAs);
  }

  /** After Established: the whole table, then End-of-RIB for every family (RFC 4724 2). */
  private sendInitialRoutes(runner: Runner, n: Negotiated): void {
    const rib = this.desiredRib(n, runner);
    this.sendRoutes(runner, fullAnnouncement(rib), n);
    for (const family of n.families) this.send(runner, endOfRib(family), n.fourOctetAs);
    this.sent = rib;
    this.restarting = false;
  }

  private notify(call: (o: SessionObserver) => void): void {
    const o = this.opts.observer;
    if (o === undefined) return;
    try {
      call(o);
    } catch (err) {
      o.observerError?.(err);
    }
  }
}
