/** A manual clock, in-memory connections and a scripted BGP peer for the session tests. */
import type { BgpConnection, BgpDialer, Clock, TimerHandle } from "../../../src/bgp/transport.js";
import {
  decodeMessage,
  encodeMessage,
  MessageFramer,
  type BgpMessage,
} from "../../../src/bgp/codec/index.js";

/** Lets every pending promise callback and microtask run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface Scheduled {
  readonly at: number;
  readonly id: number;
  readonly callback: () => void;
  readonly scope: Set<number>;
}

/** Time moves only when the test says so; timers fire in time order, microtasks flushed between. */
export class FakeClock {
  private time = 0;
  private nextId = 0;
  private readonly timers = new Map<number, Scheduled>();

  now(): number {
    return this.time;
  }

  /** A Clock whose pending timers can be counted separately (one per session). */
  scope(): Clock & { readonly pending: number } {
    const ids = new Set<number>();
    const schedule = (ms: number, callback: () => void): TimerHandle => {
      const id = this.nextId++;
      ids.add(id);
      this.timers.set(id, { at: this.time + ms, id, callback, scope: ids });
      return {
        cancel: () => {
          this.timers.delete(id);
          ids.delete(id);
        },
      };
    };
    return {
      now: () => this.time,
      setTimer: schedule,
      get pending() {
        return ids.size;
      },
    };
  }

  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    await flush();
    for (;;) {
      const due = [...this.timers.values()]
        .filter((t) => t.at <= target)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.timers.delete(due.id);
      due.scope.delete(due.id);
      this.time = due.at;
      due.callback();
      await flush();
    }
    this.time = target;
    await flush();
  }
}

/** One end of an in-memory duplex byte stream; delivery is asynchronous and ordered. */
export class PipeEnd implements BgpConnection {
  peer!: PipeEnd;
  closed = false;
  /** Drop what this end writes, as a peer that vanished without a FIN would. */
  blackholed = false;
  readonly written: Buffer[] = [];
  private readonly dataListeners: ((chunk: Buffer) => void)[] = [];
  private readonly closeListeners: ((error?: Error) => void)[] = [];
  private readonly inbox: Buffer[] = [];
  private closeNotified = false;

  constructor(
    readonly localAddress: string,
    readonly remoteAddress: string,
  ) {}

  write(data: Buffer): void {
    if (this.closed) return;
    this.written.push(Buffer.from(data));
    if (this.blackholed) return;
    const peer = this.peer;
    const copy = Buffer.from(data);
    queueMicrotask(() => {
      peer.deliver(copy);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    queueMicrotask(() => {
      this.notifyClose();
      this.peer.closed = true;
      this.peer.notifyClose();
    });
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.dataListeners.push(listener);
    for (const chunk of this.inbox.splice(0)) listener(chunk);
  }

  onClose(listener: (error?: Error) => void): void {
    this.closeListeners.push(listener);
    if (this.closeNotified) listener();
  }

  private deliver(chunk: Buffer): void {
    if (this.closed) return;
    if (this.dataListeners.length === 0) this.inbox.push(chunk);
    for (const l of this.dataListeners) l(chunk);
  }

  private notifyClose(): void {
    if (this.closeNotified) return;
    this.closeNotified = true;
    for (const l of this.closeListeners) l();
  }
}

export function createPipe(a: string, b: string): [PipeEnd, PipeEnd] {
  const x = new PipeEnd(a, b);
  const y = new PipeEnd(b, a);
  x.peer = y;
  y.peer = x;
  return [x, y];
}

export interface Acceptor {
  acceptConnection(conn: BgpConnection): void;
}

/**
 * Addresses → listeners. A dial to an address nobody listens on is refused. With
 * `acceptDelayMs`, the dialer gets its connection at once but the listener only after the
 * delay, which makes simultaneous dials cross (a connection collision).
 */
export class MemoryNetwork {
  private readonly listeners = new Map<string, Acceptor>();
  readonly dials: { from: string; to: string; at: number }[] = [];
  /** Every connection made, as [dialler's end, listener's end]. */
  readonly pipes: [PipeEnd, PipeEnd][] = [];

  constructor(
    private readonly clock: FakeClock,
    private readonly acceptDelayMs?: number,
  ) {}

  listen(address: string, acceptor: Acceptor): void {
    this.listeners.set(address, acceptor);
  }

  unlisten(address: string): void {
    this.listeners.delete(address);
  }

  dialer(from: string, to: string): BgpDialer {
    return {
      connect: (signal) =>
        new Promise<BgpConnection>((resolve, reject) => {
          this.dials.push({ from, to, at: this.clock.now() });
          queueMicrotask(() => {
            const acceptor = this.listeners.get(to);
            if (signal.aborted) {
              reject(new Error("aborted"));
              return;
            }
            if (acceptor === undefined) {
              reject(new Error(`connection refused by ${to}`));
              return;
            }
            const [local, remote] = createPipe(from, to);
            this.pipes.push([local, remote]);
            if (this.acceptDelayMs === undefined) acceptor.acceptConnection(remote);
            else
              this.clock.scope().setTimer(this.acceptDelayMs, () => {
                acceptor.acceptConnection(remote);
              });
            resolve(local);
          });
        }),
    };
  }
}

/** A BGP peer driven by the test: it records what it receives and sends what it is told. */
export class ScriptedPeer implements Acceptor {
  conn: PipeEnd | undefined;
  readonly received: BgpMessage[] = [];
  readonly connections: PipeEnd[] = [];
  private framer = new MessageFramer();

  acceptConnection(conn: BgpConnection): void {
    if (!(conn instanceof PipeEnd)) throw new Error("ScriptedPeer works over in-memory pipes");
    const end = conn;
    this.conn = end;
    this.connections.push(end);
    this.framer = new MessageFramer();
    end.onData((chunk) => {
      if (this.conn !== end) return;
      for (const frame of this.framer.push(chunk).messages) {
        const r = decodeMessage(frame);
        if (!r.ok) throw r.error;
        this.received.push(r.message);
      }
    });
  }

  send(message: BgpMessage | Buffer): void {
    if (this.conn === undefined) throw new Error("no connection");
    this.conn.write(Buffer.isBuffer(message) ? message : encodeMessage(message));
  }

  ofType<T extends BgpMessage["type"]>(type: T): Extract<BgpMessage, { type: T }>[] {
    return this.received.filter((m): m is Extract<BgpMessage, { type: T }> => m.type === type);
  }

  clear(): void {
    this.received.length = 0;
  }
}
