/**
 * The BGP sessions of one node: given the peers it should talk to and what to advertise to each,
 * it opens, keeps, replaces and closes BgpSessions, and hands each its advertisements (the session
 * sends only the difference from what the peer already has). Level-triggered: `sync` takes the
 * whole desired state every time and may be called as often as the caller likes.
 *
 * - A peer whose session parameters change (AS, address, password, timers…) is reconnected
 *   (Cease / Other Configuration Change); a removed peer gets Cease / Peer De-configured.
 * - `stop("shutdown")` closes every session with Cease / Administrative Shutdown, so the peers
 *   withdraw our routes at once, and clears the graceful-restart marker.
 * - `stop("restart")` drops graceful-restart sessions without a NOTIFICATION (RFC 4724: a
 *   NOTIFICATION would make the peer flush our routes), so the peers keep forwarding to us while
 *   the next process comes up; that process finds the marker and sets the Restart State bit.
 * - BFD (RFC 5882): a peer whose spec has `bfd` gets a BFD session toward its address from the
 *   session's source address (shared with other peers to the same address). When BFD goes from
 *   Up to Down — not because the peer went AdminDown — the BGP session is torn down at once with
 *   Cease / BFD Down (RFC 9384) instead of waiting for the hold timer, then retries as usual.
 *   Stops and removals release BFD first, so the peer sees AdminDown before the Cease.
 */
import { BfdManager, type BfdHandle, type BfdPeerSettings } from "../bfd/manager.js";
import type { BfdStateChange } from "../bfd/session.js";
import { formatIP } from "../net/ip.js";
import type { Advertisement, AdjRibOut } from "./adjRibOut.js";
import type { RandomSource } from "../runtime/backoff.js";
import { CeaseSubcode, describeNotification, formatAfiSafi } from "./codec/constants.js";
import type { DownReason, FsmConfig, SessionState } from "./fsm.js";
import type { Negotiated } from "./negotiation.js";
import { peerDialer, type PeerEndpoint } from "./peerDialer.js";
import { memoryRestartMarker, type RestartMarker } from "./restartMarker.js";
import { BgpSession, type NextHops, type SessionObserver } from "./session.js";
import { systemClock, type BgpConnection, type BgpDialer, type Clock } from "./transport.js";

/** Everything that defines one session; a change to any of it means a new connection. */
export interface PeerSpec {
  /** Unique among the manager's peers (the BGPPeer's name). */
  readonly name: string;
  readonly session: FsmConfig;
  readonly endpoint: PeerEndpoint;
  /** Next hops to advertise; by default our address on the connection, for its family only. */
  readonly nextHops?: NextHops;
  /** Run BFD with the peer (its BFDProfile); a change does not reset the BGP session. */
  readonly bfd?: BfdPeerSettings;
}

export interface DesiredPeer {
  readonly spec: PeerSpec;
  readonly advertisements: readonly Advertisement[];
}

export interface ManagerObserver {
  /** An observer for one session's events (metrics, logs); called once per session created. */
  forPeer?(peer: PeerSpec): SessionObserver;
  /** The peer's session was closed because the peer left the configuration or changed. */
  removed?(peer: PeerSpec): void;
  /** The peer's BFD session changed state. */
  bfdStateChanged?(peer: PeerSpec, change: BfdStateChange): void;
}

export interface BgpManagerOptions {
  readonly clock?: Clock;
  readonly random?: RandomSource;
  /** How to reach a peer; by default TCP, with TCP-MD5 from the native addon when a password is set. */
  readonly dialerFor?: (endpoint: PeerEndpoint) => BgpDialer;
  /** Memory of a previous run for graceful restart; by default none (never restarting). */
  readonly restartMarker?: RestartMarker;
  readonly observer?: ManagerObserver;
  /** The node's BFD sessions; by default one BfdManager on UDP, made when a peer first wants BFD. */
  readonly bfd?: BfdService;
}

/** What the manager needs of BFD (a BfdManager). */
export type BfdService = Pick<BfdManager, "acquire" | "flushed">;

export type StopMode = "shutdown" | "restart";

export interface StopOptions {
  readonly mode: StopMode;
  /** Shutdown communication (RFC 9003) sent with the Cease. */
  readonly message?: string;
  /** How long to wait for the NOTIFICATIONs to leave and the connections to close (default 2 s). */
  readonly flushTimeoutMs?: number;
}

export interface PeerSessionStatus {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly state: SessionState;
  /** Clock time of the last state change. */
  readonly sinceMs: number;
  /**
   * Clock time the session last entered or left Established (its creation, if neither since):
   * how long it has been up, or down — a session that keeps retrying alternates between Connect
   * and Active, so the last state change alone would always look recent.
   */
  readonly phaseSinceMs: number;
  readonly negotiated?: {
    readonly peerAs: number;
    readonly peerRouterId: number;
    readonly holdTimeSeconds: number;
    readonly keepaliveSeconds: number;
    readonly families: readonly string[];
    readonly peerGracefulRestart: boolean;
  };
  /** Prefixes the peer currently has from us. */
  readonly advertisedPrefixes: number;
  /** Prefixes wanted for this peer (the advertisements last given). */
  readonly desiredPrefixes: number;
  readonly lastDown?: { readonly kind: string; readonly detail: string; readonly atMs: number };
  /** Whether the OPENs of this session carry the Restart State bit. */
  readonly restarting: boolean;
  /** State of the peer's BFD session, when it has one. */
  readonly bfdState?: string;
}

/** After a restart the R bit is set for sessions opened within this long (the advertised restart time). */
export const DEFAULT_GRACEFUL_RESTART_SECONDS = 120;

/**
 * A session's connections, wrapped so they can be muted: a muted connection drops writes, so a
 * restart-mode stop closes the TCP connection without the NOTIFICATION the state machine sends.
 */
class ConnectionTracker {
  private readonly open = new Set<{ closed: Promise<void> }>();
  muted = false;

  wrap(dialer: BgpDialer): BgpDialer {
    return {
      connect: async (signal) => this.track(await dialer.connect(signal)),
    };
  }

  private track(inner: BgpConnection): BgpConnection {
    let markClosed!: () => void;
    const entry = { closed: new Promise<void>((resolve) => (markClosed = resolve)) };
    this.open.add(entry);
    inner.onClose(() => {
      this.open.delete(entry);
      markClosed();
    });
    return {
      localAddress: inner.localAddress,
      remoteAddress: inner.remoteAddress,
      write: (data) => {
        if (!this.muted) inner.write(data);
      },
      close: () => {
        inner.close();
      },
      onData: (listener) => {
        inner.onData(listener);
      },
      onClose: (listener) => {
        inner.onClose(listener);
      },
    };
  }

  /** Resolves when every tracked connection has closed. */
  allClosed(): Promise<void> {
    return Promise.all([...this.open].map((c) => c.closed)).then(() => undefined);
  }
}

interface Entry {
  readonly spec: PeerSpec;
  readonly key: string;
  readonly session: BgpSession;
  readonly conns: ConnectionTracker;
  readonly restarting: boolean;
  state: SessionState;
  sinceMs: number;
  phaseSinceMs: number;
  lastDown?: { kind: string; detail: string; atMs: number };
  desiredPrefixes: number;
  bfd?: { readonly key: string; readonly handle: BfdHandle } | undefined;
}

/** A text equal for two specs exactly when they describe the same session (the password included). */
function specKey(spec: PeerSpec): string {
  // `bfd` is left out: a BFD profile change re-creates the BFD session, not the BGP one.
  const { password, ...endpoint } = spec.endpoint;
  return JSON.stringify(
    { session: spec.session, endpoint, password: password?.reveal() ?? null, nextHops: spec.nextHops },
    (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value),
  );
}

/** One observer that calls each of `observers` in turn (an exception in one does not stop the others). */
export function combineSessionObservers(
  observers: readonly (SessionObserver | undefined)[],
): SessionObserver {
  const list = observers.filter((o): o is SessionObserver => o !== undefined);
  const each = (call: (o: SessionObserver) => void): void => {
    for (const o of list) {
      try {
        call(o);
      } catch (error) {
        o.observerError?.(error);
      }
    }
  };
  return {
    stateChanged: (from, to) => {
      each((o) => o.stateChanged?.(from, to));
    },
    connectFailed: (failure) => {
      each((o) => o.connectFailed?.(failure));
    },
    established: (n) => {
      each((o) => o.established?.(n));
    },
    down: (reason) => {
      each((o) => o.down?.(reason));
    },
    messageSent: (m) => {
      each((o) => o.messageSent?.(m));
    },
    messageReceived: (m) => {
      each((o) => o.messageReceived?.(m));
    },
    updateProblems: (problems, treatAsWithdraw) => {
      each((o) => o.updateProblems?.(problems, treatAsWithdraw));
    },
    protocolError: (error) => {
      each((o) => o.protocolError?.(error));
    },
    routesSkipped: (prefixes) => {
      each((o) => o.routesSkipped?.(prefixes));
    },
  };
}

/** One manager observer from several (metrics, logs). */
export function combineManagerObservers(observers: readonly ManagerObserver[]): ManagerObserver {
  return {
    forPeer: (peer) => combineSessionObservers(observers.map((o) => o.forPeer?.(peer))),
    removed: (peer) => {
      for (const o of observers) o.removed?.(peer);
    },
    bfdStateChanged: (peer, change) => {
      for (const o of observers) o.bfdStateChanged?.(peer, change);
    },
  };
}

export class BgpManager {
  private readonly entries = new Map<string, Entry>();
  private readonly clock: Clock;
  private readonly marker: RestartMarker;
  private readonly restartWindowEndMs: number;
  private bfdService: BfdService | undefined;
  private stopped = false;

  constructor(private readonly options: BgpManagerOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.marker = options.restartMarker ?? memoryRestartMarker();
    this.bfdService = options.bfd;
    this.restartWindowEndMs = this.marker.wasRunning()
      ? this.clock.now() + DEFAULT_GRACEFUL_RESTART_SECONDS * 1000
      : Number.NEGATIVE_INFINITY;
  }

  /** Makes the sessions and their advertisements match `desired` (peer names must be unique). */
  sync(desired: readonly DesiredPeer[]): void {
    if (this.stopped) return;
    const wanted = new Map(desired.map((d) => [d.spec.name, d]));
    for (const [name, entry] of this.entries) {
      if (!wanted.has(name)) this.remove(entry, CeaseSubcode.PeerDeconfigured);
    }
    for (const d of desired) {
      let entry = this.entries.get(d.spec.name);
      if (entry !== undefined && entry.key !== specKey(d.spec)) {
        this.remove(entry, CeaseSubcode.OtherConfigurationChange);
        entry = undefined;
      }
      entry ??= this.create(d.spec);
      this.syncBfd(entry, d.spec);
      entry.desiredPrefixes = d.advertisements.length;
      entry.session.setAdvertisements(d.advertisements);
    }
  }

  status(): PeerSessionStatus[] {
    return [...this.entries.values()]
      .sort((a, b) => (a.spec.name < b.spec.name ? -1 : a.spec.name > b.spec.name ? 1 : 0))
      .map((e) => this.statusOf(e));
  }

  /** The routes the named peer currently has from us (empty when there is no such session). */
  advertised(name: string): AdjRibOut {
    return this.entries.get(name)?.session.advertised ?? new Map();
  }

  /** Closes every session (see the module comment for the two modes). Further syncs are ignored. */
  async stop(options: StopOptions): Promise<void> {
    this.stopped = true;
    const closing: Promise<void>[] = [];
    // AdminDown first: the peers must not read the BGP stop that follows as a BFD failure.
    for (const entry of this.entries.values()) this.releaseBfd(entry);
    if (this.bfdService !== undefined) closing.push(this.bfdService.flushed());
    for (const entry of this.entries.values()) {
      const keepRoutes =
        options.mode === "restart" &&
        entry.spec.session.gracefulRestart !== undefined &&
        entry.session.state === "Established";
      if (keepRoutes) {
        entry.conns.muted = true;
        entry.session.stop();
      } else {
        entry.session.stop(options.message);
      }
      closing.push(entry.conns.allClosed());
    }
    this.entries.clear();
    if (options.mode === "shutdown") this.marker.clear();
    await Promise.race([
      Promise.all(closing),
      new Promise<void>((resolve) => {
        this.clock.setTimer(options.flushTimeoutMs ?? 2000, resolve);
      }),
    ]);
  }

  private create(spec: PeerSpec): Entry {
    const conns = new ConnectionTracker();
    const dialerFor = this.options.dialerFor ?? ((endpoint: PeerEndpoint) => peerDialer(endpoint));
    const restarting =
      spec.session.gracefulRestart !== undefined && this.clock.now() < this.restartWindowEndMs;
    const own: SessionObserver = {
      stateChanged: (from, to) => {
        const now = this.clock.now();
        entry.state = to;
        entry.sinceMs = now;
        if ((from === "Established") !== (to === "Established")) entry.phaseSinceMs = now;
      },
      established: () => {
        if (spec.session.gracefulRestart !== undefined) this.marker.markRunning();
      },
      down: (reason: DownReason) => {
        const n = reason.notification;
        const detail =
          n === undefined ? reason.detail : `${reason.detail} (${describeNotification(n.code, n.subcode)})`;
        entry.lastDown = { kind: reason.kind, detail, atMs: this.clock.now() };
      },
    };
    const session = new BgpSession({
      config: spec.session,
      clock: this.clock,
      dialer: conns.wrap(dialerFor(spec.endpoint)),
      restarting,
      observer: combineSessionObservers([own, this.options.observer?.forPeer?.(spec)]),
      ...(this.options.random === undefined ? {} : { random: this.options.random }),
      ...(spec.nextHops === undefined ? {} : { nextHops: spec.nextHops }),
    });
    const entry: Entry = {
      spec,
      key: specKey(spec),
      session,
      conns,
      restarting,
      state: session.state,
      sinceMs: this.clock.now(),
      phaseSinceMs: this.clock.now(),
      desiredPrefixes: 0,
    };
    this.entries.set(spec.name, entry);
    session.start();
    return entry;
  }

  private remove(entry: Entry, ceaseSubcode: number): void {
    this.entries.delete(entry.spec.name);
    this.releaseBfd(entry);
    // automaticStop sends the Cease with our subcode; stop() then cancels its restart.
    entry.session.automaticStop(ceaseSubcode);
    entry.session.stop();
    this.options.observer?.removed?.(entry.spec);
  }

  private statusOf(e: Entry): PeerSessionStatus {
    const n: Negotiated | undefined = e.session.negotiated;
    return {
      name: e.spec.name,
      address: formatIP(e.spec.endpoint.address),
      port: e.spec.endpoint.port,
      state: e.state,
      sinceMs: e.sinceMs,
      phaseSinceMs: e.phaseSinceMs,
      ...(n === undefined
        ? {}
        : {
            negotiated: {
              peerAs: n.peerAs,
              peerRouterId: n.peerRouterId,
              holdTimeSeconds: n.holdTimeMs / 1000,
              keepaliveSeconds: n.keepaliveMs / 1000,
              families: n.families.map(formatAfiSafi),
              peerGracefulRestart: n.peerGracefulRestart !== undefined,
            },
          }),
      advertisedPrefixes: e.session.advertised.size,
      desiredPrefixes: e.desiredPrefixes,
      ...(e.lastDown === undefined ? {} : { lastDown: e.lastDown }),
      restarting: e.restarting,
      ...(e.bfd === undefined ? {} : { bfdState: e.bfd.handle.state() }),
    };
  }

  /** Starts, replaces or ends the entry's BFD session to follow `spec.bfd`. */
  private syncBfd(entry: Entry, spec: PeerSpec): void {
    const key = spec.bfd === undefined ? undefined : JSON.stringify(spec.bfd);
    if (entry.bfd?.key === key) return;
    this.releaseBfd(entry);
    if (spec.bfd === undefined || key === undefined) return;
    this.bfdService ??= new BfdManager({ clock: this.clock });
    const source = spec.endpoint.sourceAddress;
    const handle = this.bfdService.acquire(
      { ...spec.bfd, peer: spec.endpoint.address, ...(source === undefined ? {} : { local: source }) },
      (change) => {
        if (entry.bfd?.handle !== handle) return;
        this.options.observer?.bfdStateChanged?.(entry.spec, change);
        // RFC 5882 §3.2: AdminDown from the peer is not a failure; Up → Down is.
        if (change.from === "Up" && change.to === "Down" && !change.peerAdminDown) {
          entry.session.automaticStop(CeaseSubcode.BfdDown);
        }
      },
    );
    entry.bfd = { key, handle };
  }

  private releaseBfd(entry: Entry): void {
    entry.bfd?.handle.release();
    entry.bfd = undefined;
  }
}
