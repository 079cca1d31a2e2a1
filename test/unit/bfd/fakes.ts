/** A synchronous manual clock, a two-session link and peer packets for the BFD tests (and bench/bfd.bench.ts). */
import type { Clock, TimerHandle } from "../../../src/bgp/transport.js";
import type { ControlPacket } from "../../../src/bfd/packet.js";
import { BfdSession, type BfdSessionConfig, type BfdStateChange } from "../../../src/bfd/session.js";

interface Pending {
  readonly at: number;
  readonly id: number;
  readonly callback: () => void;
}

/** Time moves only in `advance`; due timers fire in time order. */
export class ManualClock implements Clock {
  private time = 0;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  now(): number {
    return this.time;
  }

  setTimer(ms: number, callback: () => void): TimerHandle {
    const id = this.nextId++;
    this.pending.set(id, { at: this.time + ms, id, callback });
    return { cancel: () => this.pending.delete(id) };
  }

  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const due = [...this.pending.values()]
        .filter((t) => t.at <= target)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.pending.delete(due.id);
      this.time = due.at;
      due.callback();
    }
    this.time = target;
  }
}

export interface Sent {
  readonly at: number;
  readonly packet: ControlPacket;
}

/** A session with everything it sent and every state change recorded. */
export interface Probe {
  readonly session: BfdSession;
  readonly sent: Sent[];
  readonly changes: (BfdStateChange & { at: number })[];
}

export function probe(
  clock: ManualClock,
  config: Partial<BfdSessionConfig> & { localDiscriminator: number },
  deliver: (packet: ControlPacket) => void = () => undefined,
  random: () => number = () => 0.5,
): Probe {
  const sent: Sent[] = [];
  const changes: (BfdStateChange & { at: number })[] = [];
  const session = new BfdSession({
    config: { desiredMinTxMs: 300, requiredMinRxMs: 300, detectMult: 3, passive: false, ...config },
    clock,
    random,
    transmit: (packet) => {
      sent.push({ at: clock.now(), packet });
      deliver(packet);
    },
    onStateChange: (change) => changes.push({ ...change, at: clock.now() }),
  });
  return { session, sent, changes };
}

/** Two sessions joined by a 1 ms link; each direction can be cut. */
export function linkedPair(
  clock: ManualClock,
  a: Partial<BfdSessionConfig> = {},
  b: Partial<BfdSessionConfig> = {},
): { a: Probe; b: Probe; cut: { aToB: boolean; bToA: boolean } } {
  const cut = { aToB: false, bToA: false };
  const ref: { a?: Probe; b?: Probe } = {};
  const link = (to: () => Probe | undefined, isCut: () => boolean) => (packet: ControlPacket) => {
    if (isCut()) return;
    clock.setTimer(1, () => to()?.session.receive(packet));
  };
  ref.a = probe(
    clock,
    { localDiscriminator: 0x1111, ...a },
    link(
      () => ref.b,
      () => cut.aToB,
    ),
  );
  ref.b = probe(
    clock,
    { localDiscriminator: 0x2222, ...b },
    link(
      () => ref.a,
      () => cut.bToA,
    ),
  );
  return { a: ref.a, b: ref.b, cut };
}

/** `linkedPair` with both sessions started (nothing has been sent yet: the clock has not moved). */
export function startedPair(
  clock: ManualClock,
  a: Partial<BfdSessionConfig> = {},
  b: Partial<BfdSessionConfig> = {},
): ReturnType<typeof linkedPair> {
  const pair = linkedPair(clock, a, b);
  pair.a.session.start();
  pair.b.session.start();
  return pair;
}

/** A packet from a peer with sensible defaults. */
export function peerPacket(fields: Partial<ControlPacket> = {}): ControlPacket {
  return {
    diag: 0,
    state: 1,
    poll: false,
    final: false,
    controlPlaneIndependent: false,
    authenticationPresent: false,
    demand: false,
    detectMult: 3,
    myDiscriminator: 0x9999,
    yourDiscriminator: 0,
    desiredMinTxUs: 300_000,
    requiredMinRxUs: 300_000,
    requiredMinEchoRxUs: 0,
    ...fields,
  };
}
