/**
 * A deterministic discrete-event simulation of many SwimProtocol members on one virtual clock:
 * a seeded random source, a network with loss, delay and partitions, crashes, and event-loop
 * stalls that behave like Node's (on waking, expired timers run first, then the packets that
 * waited, then timers set meanwhile: a zero-delay timer waits at least 1 ms, as in Node).
 */
import type { Clock, TimerHandle } from "../../../src/runtime/clock.js";
import { memberAddress, type MemberAddress } from "../../../src/membership/address.js";
import { decodeMessage, encodeMessage } from "../../../src/membership/codec.js";
import type { MembershipConfig } from "../../../src/membership/config.js";
import type { Message } from "../../../src/membership/messages.js";
import { isLive, SwimProtocol, type MemberState } from "../../../src/membership/protocol.js";

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SimEvent {
  readonly time: number;
  readonly order: number;
  readonly member: string;
  readonly kind: "timer" | "packet";
  readonly run: () => void;
  cancelled: boolean;
}

class EventQueue {
  private readonly heap: SimEvent[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(event: SimEvent): void {
    const heap = this.heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i] as SimEvent, heap[parent] as SimEvent)) break;
      [heap[i], heap[parent]] = [heap[parent] as SimEvent, heap[i] as SimEvent];
      i = parent;
    }
  }

  peek(): SimEvent | undefined {
    return this.heap[0];
  }

  pop(): SimEvent | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let best = i;
      if (left < heap.length && before(heap[left] as SimEvent, heap[best] as SimEvent)) best = left;
      if (right < heap.length && before(heap[right] as SimEvent, heap[best] as SimEvent)) best = right;
      if (best === i) break;
      [heap[i], heap[best]] = [heap[best] as SimEvent, heap[i] as SimEvent];
      i = best;
    }
    return top;
  }
}

const before = (a: SimEvent, b: SimEvent): boolean =>
  a.time < b.time || (a.time === b.time && a.order < b.order);

export interface NetworkOptions {
  /** Probability that a packet is lost. */
  readonly loss?: number;
  /** One-way delay: base + uniform jitter, ms. */
  readonly delayMs?: number;
  readonly jitterMs?: number;
  /** Encode and decode every message (exercises the codec in the loop). */
  readonly wire?: boolean;
}

export interface SimulationOptions extends NetworkOptions {
  readonly members: number;
  readonly seed: number;
  readonly config?: Partial<MembershipConfig>;
  /** Seeds: the first `seedCount` members' addresses (default 1). */
  readonly seedCount?: number;
  /** Stagger the starts uniformly over this many ms (default 0). */
  readonly startSpreadMs?: number;
}

export interface StateChange {
  readonly time: number;
  readonly observer: string;
  readonly member: string;
  readonly previous: MemberState | undefined;
  readonly next: MemberState;
}

interface SimMember {
  readonly name: string;
  readonly addr: MemberAddress;
  protocol: SwimProtocol;
  crashed: boolean;
  stalledUntil: number;
}

export class Simulation {
  now = 0;
  private order = 0;
  private readonly queue = new EventQueue();
  readonly random: () => number;
  readonly members = new Map<string, SimMember>();
  private readonly byAddress = new Map<string, SimMember>();
  readonly changes: StateChange[] = [];
  readonly refutations: { time: number; member: string; incarnation: number }[] = [];
  /** Groups that cannot reach each other: member name → group id (undefined = all connected). */
  private partition: Map<string, number> | undefined;
  network: Required<Omit<NetworkOptions, "wire">> & { wire: boolean };
  packetsSent = 0;
  packetsLost = 0;

  constructor(private readonly options: SimulationOptions) {
    this.random = seededRandom(options.seed);
    this.network = {
      loss: options.loss ?? 0,
      delayMs: options.delayMs ?? 0.2,
      jitterMs: options.jitterMs ?? 0.3,
      wire: options.wire ?? false,
    };
    const seeds: MemberAddress[] = [];
    const names = Array.from({ length: options.members }, (_, i) => `node-${String(i).padStart(2, "0")}`);
    names.forEach((name, i) => {
      const addr = memberAddress(`192.0.2.${10 + i}`, 7946);
      if (i < (options.seedCount ?? 1)) seeds.push(addr);
      const member: SimMember = {
        name,
        addr,
        protocol: undefined as unknown as SwimProtocol,
        crashed: false,
        stalledUntil: 0,
      };
      this.members.set(name, member);
      this.byAddress.set(`${addr.ip}:${addr.port}`, member);
    });
    for (const member of this.members.values()) member.protocol = this.makeProtocol(member, seeds, 0);
    const spread = options.startSpreadMs ?? 0;
    for (const member of this.members.values()) {
      this.schedule(member.name, "timer", this.random() * spread, () => {
        member.protocol.start();
      });
    }
  }

  private makeProtocol(
    member: SimMember,
    seeds: readonly MemberAddress[],
    incarnation: number,
  ): SwimProtocol {
    const memberRandom = seededRandom(Math.floor(this.random() * 2 ** 32));
    return new SwimProtocol({
      name: member.name,
      addr: member.addr,
      seeds,
      incarnation,
      ...(this.options.config === undefined ? {} : { config: this.options.config }),
      clock: this.clockFor(member),
      random: memberRandom,
      transport: {
        send: (to, message) => {
          this.deliver(member, to, message);
        },
      },
      observer: {
        memberChanged: (name, previous, next) => {
          this.changes.push({
            time: this.now,
            observer: member.name,
            member: name,
            previous,
            next: next.state,
          });
        },
        refuted: (incarnationNow) => {
          this.refutations.push({ time: this.now, member: member.name, incarnation: incarnationNow });
        },
      },
    });
  }

  private clockFor(member: SimMember): Clock {
    return {
      now: () => this.now,
      setTimeout: (callback, delayMs) => {
        const event = this.schedule(member.name, "timer", Math.max(1, delayMs), callback);
        return event as unknown as TimerHandle;
      },
      clearTimeout: (handle) => {
        (handle as unknown as SimEvent).cancelled = true;
      },
    };
  }

  private schedule(member: string, kind: SimEvent["kind"], delayMs: number, run: () => void): SimEvent {
    const event: SimEvent = {
      time: this.now + delayMs,
      order: this.order++,
      member,
      kind,
      run,
      cancelled: false,
    };
    this.queue.push(event);
    return event;
  }

  private deliver(from: SimMember, to: MemberAddress, message: Message): void {
    if (from.crashed) return;
    this.packetsSent++;
    const target = this.byAddress.get(`${to.ip}:${to.port}`);
    if (target === undefined) return;
    if (this.partition !== undefined && this.partition.get(from.name) !== this.partition.get(target.name)) {
      this.packetsLost++;
      return;
    }
    if (this.random() < this.network.loss) {
      this.packetsLost++;
      return;
    }
    const payload = this.network.wire ? decodeMessage(encodeMessage(message)) : message;
    const delay = this.network.delayMs + this.random() * this.network.jitterMs;
    this.schedule(target.name, "packet", delay, () => {
      if (!target.crashed) target.protocol.receive(from.name, from.addr, payload);
    });
  }

  /** Runs events until `time`. */
  runUntil(time: number): void {
    for (;;) {
      const event = this.queue.peek();
      if (event === undefined || event.time > time) break;
      this.queue.pop();
      if (event.cancelled) continue;
      const member = this.members.get(event.member);
      if (member !== undefined && member.stalledUntil > event.time) {
        // The member's loop is busy: the event waits. Timers that expired run first on waking,
        // then the packets that queued up.
        const wakeAt = member.stalledUntil + (event.kind === "packet" ? 0.01 : 0);
        this.queue.push({ ...event, time: wakeAt, order: this.order++ });
        continue;
      }
      this.now = event.time;
      event.run();
    }
    this.now = time;
  }

  runFor(ms: number): void {
    this.runUntil(this.now + ms);
  }

  protocol(name: string): SwimProtocol {
    const member = this.members.get(name);
    if (member === undefined) throw new Error(`no member ${name}`);
    return member.protocol;
  }

  names(): string[] {
    return [...this.members.keys()];
  }

  running(): string[] {
    return [...this.members.values()].filter((m) => !m.crashed).map((m) => m.name);
  }

  /** Kills a member without a word. */
  crash(name: string): void {
    const member = this.members.get(name);
    if (member === undefined) return;
    member.crashed = true;
    member.protocol.stop();
  }

  /** Graceful leave; resolves when the member has stopped. */
  leave(name: string): Promise<void> {
    const member = this.members.get(name);
    if (member === undefined) return Promise.resolve();
    const done = member.protocol.leave().then(() => {
      member.crashed = true;
    });
    return done;
  }

  /** Restarts a crashed member with a fresh protocol (incarnation 0), joining through `seedNames`. */
  restart(name: string, seedNames: readonly string[]): void {
    const member = this.members.get(name);
    if (member === undefined) return;
    const seeds = seedNames.map((seed) => this.members.get(seed)?.addr).filter((a) => a !== undefined);
    member.crashed = false;
    member.protocol = this.makeProtocol(member, seeds, 0);
    member.protocol.start();
  }

  /** The member's event loop does nothing for `ms` from now. */
  stall(name: string, ms: number): void {
    const member = this.members.get(name);
    if (member !== undefined) member.stalledUntil = this.now + ms;
  }

  /** Splits the members into groups that cannot reach each other. */
  partitionInto(groups: readonly (readonly string[])[]): void {
    this.partition = new Map();
    groups.forEach((group, id) => {
      for (const name of group) this.partition?.set(name, id);
    });
  }

  heal(): void {
    this.partition = undefined;
  }

  /** The live set as `observer` sees it. */
  liveSeenBy(observer: string): ReadonlySet<string> {
    return this.protocol(observer).alive();
  }

  /** Whether every running member sees exactly the running members as live. */
  converged(expected: ReadonlySet<string> = new Set(this.running())): boolean {
    return this.running().every((name) => sameSet(this.liveSeenBy(name), expected));
  }

  /** First time each observer saw `member` leave the live set at or after `since`. */
  departures(member: string, since: number): Map<string, number> {
    const seen = new Map<string, number>();
    for (const change of this.changes) {
      if (change.time < since || change.member !== member || seen.has(change.observer)) continue;
      if (change.previous !== undefined && isLive(change.previous) && !isLive(change.next)) {
        seen.set(change.observer, change.time);
      }
    }
    return seen;
  }

  /** Changes that took a member that was never crashed or stopped out of someone's live set. */
  falseDeaths(innocent: ReadonlySet<string>, since = 0): StateChange[] {
    return this.changes.filter(
      (c) =>
        c.time >= since &&
        innocent.has(c.member) &&
        c.previous !== undefined &&
        isLive(c.previous) &&
        !isLive(c.next),
    );
  }
}

export function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((item) => b.has(item));
}

/** p-quantile (0..1) of `values` by nearest rank. */
export function quantile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}
