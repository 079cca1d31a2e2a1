/**
 * The node's BFD sessions: one per (peer address, our address, single/multi hop), shared by every
 * client (BGP session) that asks for it and reference-counted — the last `release()` sends
 * AdminDown (diag 7) and closes the session's socket. The first client's settings (timers,
 * passive, minimumTtl) are the session's; later clients with other settings join it as it is.
 * Received packets are decoded, checked (RFC 5880 §6.8.6) and demultiplexed here; drops are
 * counted by reason, never thrown.
 *
 * A request without a local address shares the session of other such requests only: one that
 * names the address the kernel would have chosen gets a session of its own (the peer then sees
 * two sessions from us; BGPPeers to one router rarely mix the two).
 *
 * Sockets come from a BfdTransport (UDP in production, udp.ts); the clock and random source are
 * injected, so the whole manager runs in tests on an in-memory network.
 */
import type { Clock, TimerHandle } from "../bgp/transport.js";
import { systemClock } from "../bgp/transport.js";
import { formatIP, type IPAddr } from "../net/ip.js";
import { sessionKey, SessionTable } from "./demux.js";
import { decodeControlPacket, encodeControlPacket, type DropReason } from "./packet.js";
import { BfdSession, type BfdSessionStatus, type BfdStateChange, type BfdTimers } from "./session.js";
import type { BfdRxEndpoint, BfdTransport, BfdTxEndpoint } from "./transport.js";
import { udpTransport } from "./udp.js";

/** Single hop sessions accept only packets that left the peer with TTL 255 and crossed no router. */
export const SINGLE_HOP_MIN_TTL = 255;
/** Wait before trying again to open a session's sockets (e.g. its address is not up yet). */
export const REOPEN_DELAY_MS = 5000;

export interface BfdPeerSettings {
  readonly multiHop: boolean;
  readonly timers: BfdTimers;
  readonly passive: boolean;
  /** Multi hop only: lowest TTL accepted on received packets. */
  readonly minimumTtl: number;
}

export interface BfdRequest extends BfdPeerSettings {
  readonly peer: IPAddr;
  /** Our address; by default the one the kernel routes from. */
  readonly local?: IPAddr;
}

export type BfdListener = (change: BfdStateChange) => void;

export interface BfdHandle {
  /** The session's state now (Down until its sockets are open). */
  state(): BfdSessionStatus["state"];
  /** Drops this client's interest; the last one closes the session with AdminDown. */
  release(): void;
}

export interface BfdObserver {
  stateChanged?(peer: string, change: BfdStateChange): void;
  packetSent?(peer: string): void;
  packetReceived?(peer: string): void;
  packetDropped?(reason: DropReason): void;
  /** Sockets could not be opened (retried every REOPEN_DELAY_MS). */
  socketError?(peer: string, error: unknown): void;
  /** The received TTL cannot be enforced on this listener (no native addon). */
  ttlUnchecked?(local: string, multiHop: boolean): void;
}

export interface BfdSessionView extends BfdSessionStatus {
  readonly peer: string;
  /** Our address, once known. */
  readonly local: string | undefined;
  readonly multiHop: boolean;
  readonly clients: number;
  /** Whether received packets' TTL is enforced (see udp.ts). */
  readonly ttlChecked: boolean;
}

export interface BfdManagerOptions {
  readonly transport?: BfdTransport;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly observer?: BfdObserver;
}

interface Rx {
  readonly endpoint: Promise<BfdRxEndpoint>;
  /** minimumTtl of each session using it (one entry per session). */
  readonly minTtls: number[];
  ttlChecked: boolean;
}

interface Entry {
  readonly key: string;
  readonly request: BfdRequest;
  readonly peer: string;
  readonly listeners: Set<BfdListener>;
  readonly discriminator: number;
  session?: BfdSession | undefined;
  tx?: BfdTxEndpoint;
  local?: IPAddr;
  demuxKey?: string;
  rxKey?: string;
  reopen?: TimerHandle | undefined;
  closed: boolean;
}

const requestKey = (r: BfdRequest): string =>
  `${r.multiHop ? "mh" : "sh"}|${formatIP(r.peer)}|${r.local === undefined ? "auto" : formatIP(r.local)}`;

const minTtlOf = (r: BfdPeerSettings): number => (r.multiHop ? r.minimumTtl : SINGLE_HOP_MIN_TTL);

export class BfdManager {
  private readonly entries = new Map<string, Entry>();
  private readonly table: SessionTable<Entry>;
  private readonly rx = new Map<string, Rx>();
  private readonly closing = new Set<Promise<void>>();
  private readonly transport: BfdTransport;
  private readonly clock: Clock;
  private readonly random: () => number;
  private stopped = false;

  constructor(private readonly options: BfdManagerOptions = {}) {
    this.transport = options.transport ?? udpTransport();
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    // Random first discriminator: a restarted speaker does not reuse the previous run's.
    this.table = new SessionTable(Math.floor(this.random() * 0xfffffffe) + 1);
  }

  /** Joins (or starts) the session for `request`; `listener` hears its state changes. */
  acquire(request: BfdRequest, listener: BfdListener): BfdHandle {
    const key = requestKey(request);
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = {
        key,
        request,
        peer: formatIP(request.peer),
        listeners: new Set(),
        discriminator: this.table.allocateDiscriminator(),
        closed: this.stopped,
      };
      this.entries.set(key, entry);
      // Reserve the discriminator now; the addresses are filled in once the sockets are open.
      this.table.add(`pending|${key}`, entry.discriminator, entry);
      if (!this.stopped) void this.open(entry);
    }
    const own = entry;
    // Each acquire is its own client, even with the same listener function.
    const client: BfdListener = (change) => {
      listener(change);
    };
    own.listeners.add(client);
    let released = false;
    return {
      state: () => own.session?.state ?? "Down",
      release: () => {
        if (released) return;
        released = true;
        own.listeners.delete(client);
        if (own.listeners.size === 0) this.close(own);
      },
    };
  }

  status(): BfdSessionView[] {
    return [...this.entries.values()]
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((e) => {
        const s = e.session?.status();
        return {
          peer: e.peer,
          local: e.local === undefined ? undefined : formatIP(e.local),
          multiHop: e.request.multiHop,
          clients: e.listeners.size,
          ttlChecked: e.rxKey === undefined ? false : (this.rx.get(e.rxKey)?.ttlChecked ?? false),
          ...(s ?? {
            state: "Down",
            localDiag: 0,
            remoteState: "Down",
            localDiscriminator: e.discriminator,
            remoteDiscriminator: 0,
            transmitIntervalMs: undefined,
            detectionTimeMs: undefined,
            pollInProgress: false,
          }),
        };
      });
  }

  /** AdminDown on every session, then every socket closed. Later acquires stay idle. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const e of [...this.entries.values()]) this.close(e);
    await this.flushed();
  }

  /** Resolves when every closing session's sockets are closed. */
  async flushed(): Promise<void> {
    while (this.closing.size > 0) await Promise.all([...this.closing]);
  }

  private async open(entry: Entry): Promise<void> {
    const { request } = entry;
    let tx: BfdTxEndpoint | undefined;
    // Read through a call: release() may close the entry during any await below.
    const closed = (): boolean => entry.closed;
    try {
      tx = await this.transport.openTx(request.peer, request.local, request.multiHop);
      if (closed()) {
        await tx.close();
        return;
      }
      const local = tx.localAddress;
      const rxKey = `${request.multiHop ? "mh" : "sh"}|${formatIP(local)}`;
      await this.acquireRx(rxKey, local, request);
      if (closed()) {
        this.releaseRx(rxKey, request);
        await tx.close();
        return;
      }
      const sender = tx;
      entry.tx = sender;
      entry.local = local;
      entry.rxKey = rxKey;
      entry.demuxKey = sessionKey(entry.peer, formatIP(local), request.multiHop);
      this.table.remove(`pending|${entry.key}`, entry.discriminator);
      this.table.add(entry.demuxKey, entry.discriminator, entry);
      entry.session = new BfdSession({
        config: { ...request.timers, localDiscriminator: entry.discriminator, passive: request.passive },
        clock: this.clock,
        random: this.random,
        transmit: (packet) => {
          sender.send(encodeControlPacket(packet));
          this.options.observer?.packetSent?.(entry.peer);
        },
        onStateChange: (change) => {
          this.options.observer?.stateChanged?.(entry.peer, change);
          for (const l of [...entry.listeners]) l(change);
        },
      });
      entry.session.start();
    } catch (error) {
      if (tx !== undefined) await tx.close().catch(() => undefined);
      this.options.observer?.socketError?.(entry.peer, error);
      if (!entry.closed) {
        entry.reopen = this.clock.setTimer(REOPEN_DELAY_MS, () => {
          entry.reopen = undefined;
          if (!entry.closed) void this.open(entry);
        });
      }
    }
  }

  private close(entry: Entry): void {
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
    entry.closed = true;
    entry.reopen?.cancel();
    this.table.remove(`pending|${entry.key}`, entry.discriminator);
    const session = entry.session;
    if (session === undefined) return; // open() sees `closed` and cleans up
    session.adminDown();
    entry.session = undefined;
    if (entry.demuxKey !== undefined) this.table.remove(entry.demuxKey, entry.discriminator);
    if (entry.rxKey !== undefined) this.releaseRx(entry.rxKey, entry.request);
    const tx = entry.tx;
    if (tx !== undefined) {
      const done = tx.close().catch(() => undefined);
      this.closing.add(done);
      void done.then(() => this.closing.delete(done));
    }
  }

  private async acquireRx(rxKey: string, local: IPAddr, request: BfdRequest): Promise<void> {
    let rx = this.rx.get(rxKey);
    if (rx === undefined) {
      const endpoint = this.transport.openRx(local, request.multiHop, (data, source) => {
        this.onPacket(data, source, local, request.multiHop);
      });
      rx = { endpoint, minTtls: [], ttlChecked: false };
      this.rx.set(rxKey, rx);
      endpoint.catch(() => {
        if (this.rx.get(rxKey) === rx) this.rx.delete(rxKey);
      });
    }
    rx.minTtls.push(minTtlOf(request));
    try {
      await this.applyMinTtl(rx, local, request.multiHop);
    } catch (error) {
      const i = rx.minTtls.indexOf(minTtlOf(request));
      if (i >= 0) rx.minTtls.splice(i, 1);
      throw error;
    }
  }

  private releaseRx(rxKey: string, request: BfdRequest): void {
    const rx = this.rx.get(rxKey);
    if (rx === undefined) return;
    const i = rx.minTtls.indexOf(minTtlOf(request));
    if (i >= 0) rx.minTtls.splice(i, 1);
    if (rx.minTtls.length > 0) {
      void rx.endpoint.then((ep) => {
        rx.ttlChecked = ep.setMinTtl(Math.min(...rx.minTtls));
      });
      return;
    }
    this.rx.delete(rxKey);
    const done = rx.endpoint.then((ep) => ep.close()).catch(() => undefined);
    this.closing.add(done);
    void done.then(() => this.closing.delete(done));
  }

  private async applyMinTtl(rx: Rx, local: IPAddr, multiHop: boolean): Promise<void> {
    const ep = await rx.endpoint;
    // Several multi-hop sessions share a listener: the loosest minimum applies to all of them.
    const checked = ep.setMinTtl(Math.min(...rx.minTtls));
    if (!checked && (rx.ttlChecked || rx.minTtls.length === 1))
      this.options.observer?.ttlUnchecked?.(formatIP(local), multiHop);
    rx.ttlChecked = checked;
  }

  private onPacket(data: Buffer, source: IPAddr, local: IPAddr, multiHop: boolean): void {
    const observer = this.options.observer;
    const decoded = decodeControlPacket(data);
    if (!decoded.ok) {
      observer?.packetDropped?.(decoded.reason);
      return;
    }
    const found = this.table.lookup(decoded.packet, sessionKey(formatIP(source), formatIP(local), multiHop));
    if (!found.ok) {
      observer?.packetDropped?.(found.reason);
      return;
    }
    const entry = found.session;
    observer?.packetReceived?.(entry.peer);
    entry.session?.receive(decoded.packet);
  }
}
