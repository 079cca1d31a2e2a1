/**
 * The SWIM failure detector with Lifeguard's refinements, as a pure state machine: time comes
 * from an injected Clock, randomness from an injected `random`, and messages leave through an
 * injected transport and arrive through `receive()`. Nothing here touches a socket or a key;
 * membership.ts wires it to UDP and the AEAD envelope, and the simulation tests run dozens of
 * instances on one ManualClock-like scheduler.
 *
 * See config.ts for the timing math. The moving parts:
 * - probe rounds (ping, then ping-req through k members, suspicion at the end of the round),
 *   with the round and timeout stretched by the local health multiplier (localHealth.ts);
 * - suspicions that time out between Smin and Smax depending on independent confirmations;
 *   a member that hears of a suspicion probes the suspect next, so confirmations come quickly;
 * - incarnation numbers: a member told it is suspect, dead or gone raises its incarnation and
 *   says it is alive; the newest incarnation wins, and at equal incarnation
 *   left > dead > suspect > alive;
 * - gossip piggybacked on every packet plus bursts while news is pending (broadcasts.ts);
 * - state exchanges (sync) to join through seeds and to merge views after a partition.
 */
import { systemClock, type Clock, type TimerHandle } from "../runtime/clock.js";
import { formatMemberAddress, sameAddress, type MemberAddress } from "./address.js";
import { BroadcastQueue } from "./broadcasts.js";
import { messageBaseSize, messageSize, updateSize } from "./codec.js";
import {
  expectedConfirmations,
  membershipConfig,
  retransmitLimit,
  suspicionBounds,
  suspicionTimeout,
  type MembershipConfig,
} from "./config.js";
import { sealedSize } from "./envelope.js";
import { LocalHealth } from "./localHealth.js";
import type { Message, Update } from "./messages.js";

export type MemberState = "alive" | "suspect" | "dead" | "left";

/** What the table says about one member. */
export interface MemberView {
  readonly state: MemberState;
  readonly incarnation: number;
  readonly addr: MemberAddress;
}

export interface ProtocolTransport {
  send(to: MemberAddress, message: Message): void;
}

/** Hooks for logs and metrics; all optional. */
export interface ProtocolObserver {
  memberChanged?(name: string, previous: MemberState | undefined, next: MemberView): void;
  /** We refuted a suspicion or death of ourselves (new incarnation). */
  refuted?(incarnation: number, accusation: Update["kind"]): void;
  /** A probe round ended without an ack (before the suspicion). */
  probeFailed?(target: string): void;
  localHealthChanged?(score: number): void;
}

export interface ProtocolOptions {
  /** This member's name (the node name). */
  readonly name: string;
  /** The address others reach us at. */
  readonly addr: MemberAddress;
  readonly seeds?: readonly MemberAddress[];
  readonly config?: Partial<MembershipConfig>;
  /** Starting incarnation; default 0 (refutation lifts it past anything older). */
  readonly incarnation?: number;
  readonly transport: ProtocolTransport;
  readonly clock?: Clock;
  /** Uniform in [0, 1). */
  readonly random?: () => number;
  readonly observer?: ProtocolObserver;
}

interface Member {
  readonly name: string;
  addr: MemberAddress;
  incarnation: number;
  state: MemberState;
  /** Clock time of the last state change. */
  since: number;
  /** Clock time we last received anything from it (-Infinity: never). */
  lastHeard: number;
  suspicion?: Suspicion | undefined;
}

interface Suspicion {
  readonly incarnation: number;
  readonly startedAt: number;
  /** Members who independently suspect it; the first is the accuser, the rest confirmations. */
  readonly suspecters: Set<string>;
  timer?: TimerHandle | undefined;
}

interface ProbeRound {
  readonly target: string;
  readonly seq: number;
  acked: boolean;
  /** A timer of this round fired late: our own loop stalled, so no verdict this round. */
  late: boolean;
  expectedNacks: number;
  nacks: number;
}

interface Relay {
  readonly requester: MemberAddress;
  readonly seq: number;
  readonly timer: TimerHandle;
}

const MAX_SEQ = 0xffffffff;
const MAX_INCARNATION = 0xffffffff;
/** How many reconnect ticks between anti-entropy exchanges with a random live member. */
const ANTI_ENTROPY_EVERY = 30;
/** Unknown senders remembered for rate limiting before old entries are swept. */
const MAX_STRANGERS = 1024;

export class SwimProtocol {
  readonly name: string;
  private readonly config: MembershipConfig;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly transport: ProtocolTransport;
  private readonly observer: ProtocolObserver;
  private readonly messageBudget: number;

  private addr: MemberAddress;
  private incarnation: number;
  private seeds: MemberAddress[];
  private readonly table = new Map<string, Member>();
  private readonly broadcasts = new BroadcastQueue();
  private readonly health: LocalHealth;
  private readonly relays = new Map<number, Relay>();
  /** When we last exchanged tables with a sender we did not know, by name. */
  private readonly strangerSyncs = new Map<string, number>();
  private readonly listeners = new Set<(live: ReadonlySet<string>) => void>();
  private live: ReadonlySet<string>;

  private readonly priorityProbes: string[] = [];
  private round: ProbeRound | undefined;
  private seq = 0;
  private reconnectTicks = 0;

  private probeTimer: TimerHandle | undefined;
  private directTimer: TimerHandle | undefined;
  private gossipTimer: TimerHandle | undefined;
  private reconnectTimer: TimerHandle | undefined;
  private started = false;
  private leaving = false;
  private stopped = false;

  constructor(options: ProtocolOptions) {
    this.name = options.name;
    this.addr = options.addr;
    this.config = membershipConfig(options.config);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.transport = options.transport;
    this.observer = options.observer ?? {};
    this.incarnation = options.incarnation ?? 0;
    this.seeds = [...(options.seeds ?? [])];
    this.health = new LocalHealth(this.config.maxLocalHealth);
    this.messageBudget = this.config.maxPacketBytes - sealedSize(this.name, 0);
    this.live = new Set([this.name]);
  }

  // ---------------------------------------------------------------------------------------------
  // Public surface

  /** Joins through the seeds and starts probing. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.broadcasts.add({ kind: "alive", name: this.name, incarnation: this.incarnation, addr: this.addr });
    this.syncWithSeeds();
    this.startRound();
    this.scheduleGossip();
    this.scheduleReconnect();
  }

  /** Tells every member we are leaving (repeated), then stops. Resolves once stopped. */
  leave(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.leaving) return new Promise((resolve) => this.clock.setTimeout(resolve, this.leaveDurationMs()));
    this.leaving = true;
    this.stopTimers();
    this.broadcasts.clear();
    const notice: Update = { kind: "left", name: this.name, incarnation: this.incarnation };
    const targets = [...this.table.values()].filter((m) => m.name !== this.name && isLive(m.state));
    return new Promise((resolve) => {
      let sent = 0;
      const sendOnce = (): void => {
        for (const member of targets) this.transport.send(member.addr, { type: "gossip", updates: [notice] });
        sent++;
        if (sent < this.config.leaveRepeats) {
          this.clock.setTimeout(sendOnce, this.config.leaveSpacingMs);
        } else {
          this.stop();
          resolve();
        }
      };
      sendOnce();
      this.recomputeLive();
    });
  }

  /** Stops at once, saying nothing (a crash, or after leave()). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopTimers();
    for (const member of this.table.values()) this.clearSuspicion(member);
    for (const relay of this.relays.values()) this.clock.clearTimeout(relay.timer);
    this.relays.clear();
  }

  /** Every known member, ourselves included, with state, incarnation and address. */
  members(): Map<string, MemberView> {
    const views = new Map<string, MemberView>();
    views.set(this.name, {
      state: this.leaving ? "left" : "alive",
      incarnation: this.incarnation,
      addr: this.addr,
    });
    for (const member of this.table.values()) {
      views.set(member.name, { state: member.state, incarnation: member.incarnation, addr: member.addr });
    }
    return views;
  }

  /** Members that are alive or suspect (suspicion is not death), ourselves included unless leaving. */
  alive(): ReadonlySet<string> {
    return this.live;
  }

  /** Called after every change of alive(); returns an unsubscribe function. */
  onChange(callback: (live: ReadonlySet<string>) => void): () => void {
    this.listeners.add(callback);
    return () => this.listeners.delete(callback);
  }

  get localHealth(): number {
    return this.health.score;
  }

  get currentIncarnation(): number {
    return this.incarnation;
  }

  /** Replaces the seed list (e.g. when speaker pods or Nodes change). */
  setSeeds(seeds: readonly MemberAddress[]): void {
    const known = new Set(this.seeds.map(formatMemberAddress));
    this.seeds = [...seeds];
    if (!this.started || this.stopped || this.leaving) return;
    for (const seed of this.unansweredSeeds()) {
      if (!known.has(formatMemberAddress(seed))) this.sendSync(seed, true);
    }
  }

  /** A message arrived from member `sender` at `from` (already authenticated and decoded). */
  receive(sender: string, from: MemberAddress, message: Message): void {
    if (this.stopped || this.leaving || sender === this.name) return;
    const replyTo = from;
    const known = this.table.get(sender);
    if (known !== undefined) known.lastHeard = this.clock.now();
    if (message.type !== "sync") this.syncWithStranger(sender, from);
    const urgent: boolean[] = [];
    for (const update of message.updates) {
      if (message.type === "sync") urgent.push(this.applySynced(update, replyTo));
      else urgent.push(this.apply(update, replyTo));
    }
    switch (message.type) {
      case "ping":
        if (message.target === this.name) this.send(from, { type: "ack", seq: message.seq, updates: [] });
        break;
      case "ack":
        this.onAck(message.seq);
        break;
      case "nack":
        if (this.round?.seq === message.seq) this.round.nacks++;
        break;
      case "ping-req":
        this.relayProbe(from, message.seq, message.target, message.addr);
        break;
      case "sync":
        if (message.wantReply) this.sendSync(from, false);
        break;
      case "gossip":
        break;
    }
    if (urgent.includes(true)) this.gossipNow();
    this.recomputeLive();
  }

  // ---------------------------------------------------------------------------------------------
  // Probing

  private startRound(): void {
    if (this.stopped || this.leaving) return;
    const multiplier = this.health.multiplier;
    const target = this.nextProbeTarget();
    this.round = undefined;
    if (target !== undefined) {
      const seq = this.nextSeq();
      this.round = { target: target.name, seq, acked: false, late: false, expectedNacks: 0, nacks: 0 };
      this.send(target.addr, { type: "ping", seq, target: target.name, updates: [] });
      this.directTimer = this.lateAwareTimer(this.config.probeTimeoutMs * multiplier, (late) => {
        this.directTimer = undefined;
        this.onDirectTimeout(seq, late);
      });
    }
    this.probeTimer = this.lateAwareTimer(this.config.probeIntervalMs * multiplier, (late) => {
      this.probeTimer = undefined;
      this.finishRound(late);
      this.startRound();
    });
  }

  private onDirectTimeout(seq: number, late: boolean): void {
    const round = this.round;
    if (round?.seq !== seq || round.acked) return;
    if (late) {
      round.late = true;
      return;
    }
    const target = this.table.get(round.target);
    if (target === undefined) return;
    const helpers = this.pickRandom(
      [...this.table.values()].filter((m) => m.state === "alive" && m.name !== round.target),
      this.config.indirectChecks,
    );
    round.expectedNacks = helpers.length;
    for (const helper of helpers) {
      this.send(helper.addr, { type: "ping-req", seq, target: target.name, addr: target.addr, updates: [] });
    }
  }

  private finishRound(late: boolean): void {
    const round = this.round;
    this.round = undefined;
    if (this.directTimer !== undefined) this.clock.clearTimeout(this.directTimer);
    this.directTimer = undefined;
    if (round === undefined) return;
    if (round.acked) {
      this.adjustHealth(-1);
      return;
    }
    if (late || round.late) {
      // Our own loop stalled during the round: the silence may be ours. Refrain from judging.
      this.adjustHealth(1);
      return;
    }
    // Lifeguard: nacks prove our path to the helpers works, so a failure they confirm is the
    // target's; every missing nack counts against our own health. With no helpers, the failure
    // itself does.
    this.adjustHealth(round.expectedNacks > 0 ? round.expectedNacks - round.nacks : 1);
    const target = this.table.get(round.target);
    if (target === undefined || !isLive(target.state)) return;
    this.observer.probeFailed?.(target.name);
    if (this.suspect(target, target.incarnation, this.name)) this.gossipNow();
    this.recomputeLive();
  }

  private onAck(seq: number): void {
    const round = this.round;
    if (round?.seq === seq) {
      if (round.acked) return;
      round.acked = true;
      const target = this.table.get(round.target);
      if (target?.state === "suspect") {
        // It answers, yet we still suspect it: its refutation missed us. Accuse it directly;
        // it answers with its current alive record.
        const update: Update = {
          kind: "suspect",
          name: target.name,
          incarnation: target.incarnation,
          from: this.name,
        };
        this.transport.send(target.addr, { type: "gossip", updates: [update] });
      }
      return;
    }
    const relay = this.relays.get(seq);
    if (relay === undefined) return;
    this.relays.delete(seq);
    this.clock.clearTimeout(relay.timer);
    this.send(relay.requester, { type: "ack", seq: relay.seq, updates: [] });
  }

  /** Ping `target` for `requester`; forward the ack, or send a nack if none comes in time. */
  private relayProbe(
    requester: MemberAddress,
    requesterSeq: number,
    target: string,
    addr: MemberAddress,
  ): void {
    if (target === this.name) return;
    const seq = this.nextSeq();
    const timer = this.clock.setTimeout(
      () => {
        this.relays.delete(seq);
        this.send(requester, { type: "nack", seq: requesterSeq, updates: [] });
      },
      Math.floor(this.config.probeTimeoutMs * 0.8),
    );
    this.relays.set(seq, { requester, seq: requesterSeq, timer });
    this.send(addr, { type: "ping", seq, target, updates: [] });
  }

  /**
   * Suspects first (they need confirming); otherwise the live member we have heard from least
   * recently (ties at random). Every member is still probed by us at least once per n - 1
   * rounds, as with round-robin, but a member that stops talking becomes everyone's most silent
   * member at once, so a crash is probed by all survivors within about one round instead of
   * waiting for each one's turn to come round.
   */
  private nextProbeTarget(): Member | undefined {
    while (this.priorityProbes.length > 0) {
      const name = this.priorityProbes.shift() ?? "";
      const member = this.table.get(name);
      if (member !== undefined && member.state === "suspect") return member;
    }
    // Suspects are left to their suspicion (and to the priority probes above), so that while
    // one silent member is under suspicion the next silent one is probed, not the same again.
    const anyAlive = [...this.table.values()].some((m) => m.state === "alive");
    let best: Member | undefined;
    let bestHeard = Infinity;
    let ties = 0;
    for (const member of this.table.values()) {
      if (anyAlive ? member.state !== "alive" : member.state !== "suspect") continue;
      const heard = member.lastHeard;
      if (heard < bestHeard) {
        best = member;
        bestHeard = heard;
        ties = 1;
      } else if (heard === bestHeard && this.random() * ++ties < 1) {
        best = member; // reservoir sampling among equals
      }
    }
    return best;
  }

  private adjustHealth(delta: number): void {
    if (this.health.apply(delta)) this.observer.localHealthChanged?.(this.health.score);
  }

  // ---------------------------------------------------------------------------------------------
  // Applying what others say

  /** Applies one gossiped update; returns whether it is news worth gossiping at once. */
  private apply(update: Update, replyTo: MemberAddress): boolean {
    switch (update.kind) {
      case "alive":
        return this.applyAlive(update.name, update.incarnation, update.addr, replyTo);
      case "suspect":
        return this.applySuspect(update.name, update.incarnation, update.from, replyTo);
      case "dead":
        return this.applyGone(update.name, update.incarnation, update.from, "dead", replyTo);
      case "left":
        return this.applyGone(update.name, update.incarnation, update.name, "left", replyTo);
    }
  }

  /**
   * Applies one entry of another member's table. A death there becomes a suspicion here: the
   * views may come from two sides of a healed partition, and the accused deserves the chance to
   * refute before we drop it.
   */
  private applySynced(update: Update, replyTo: MemberAddress): boolean {
    if (update.kind === "dead") {
      return this.applySuspect(update.name, update.incarnation, update.from, replyTo);
    }
    return this.apply(update, replyTo);
  }

  private applyAlive(
    name: string,
    incarnation: number,
    addr: MemberAddress,
    replyTo: MemberAddress,
  ): boolean {
    if (name === this.name) {
      // Someone holds an alive record of ours that is newer, or names another address (an older
      // life of this node): outbid it.
      if (
        incarnation > this.incarnation ||
        (incarnation === this.incarnation && !sameAddress(addr, this.addr))
      ) {
        this.refute(incarnation, "alive", replyTo);
        return true;
      }
      return false;
    }
    const member = this.table.get(name);
    if (member === undefined) {
      const added: Member = {
        name,
        addr,
        incarnation,
        state: "alive",
        since: this.clock.now(),
        lastHeard: -Infinity,
      };
      this.table.set(name, added);
      this.broadcasts.add({ kind: "alive", name, incarnation, addr });
      this.observer.memberChanged?.(name, undefined, this.view(added));
      return false;
    }
    if (incarnation <= member.incarnation) return false;
    const previous = member.state;
    member.incarnation = incarnation;
    member.addr = addr;
    this.clearSuspicion(member);
    this.broadcasts.add({ kind: "alive", name, incarnation, addr });
    if (previous !== "alive") {
      member.state = "alive";
      member.since = this.clock.now();
      this.observer.memberChanged?.(name, previous, this.view(member));
      return true; // a refutation or a return: spread it fast
    }
    return false;
  }

  private applySuspect(name: string, incarnation: number, from: string, replyTo: MemberAddress): boolean {
    if (name === this.name) {
      if (incarnation < this.incarnation) {
        this.remind(replyTo);
        return false;
      }
      this.refute(incarnation, "suspect", replyTo);
      return true;
    }
    const member = this.table.get(name);
    if (member === undefined || incarnation < member.incarnation || !isLive(member.state)) return false;
    if (from !== this.name && !this.priorityProbes.includes(name) && this.round?.target !== name) {
      this.priorityProbes.push(name);
    }
    return this.suspect(member, incarnation, from);
  }

  /** Records a suspicion of `member` by `from`; returns whether it is news. */
  private suspect(member: Member, incarnation: number, from: string): boolean {
    const current = member.suspicion;
    if (member.state === "suspect" && current !== undefined && current.incarnation === incarnation) {
      if (current.suspecters.has(from)) return false;
      current.suspecters.add(from);
      this.broadcasts.add({ kind: "suspect", name: member.name, incarnation, from });
      this.armSuspicion(member);
      return false; // a confirmation: ordinary gossip pace
    }
    const previous = member.state;
    this.clearSuspicion(member);
    member.state = "suspect";
    member.incarnation = incarnation;
    member.since = this.clock.now();
    member.suspicion = { incarnation, startedAt: this.clock.now(), suspecters: new Set([from]) };
    const update: Update = { kind: "suspect", name: member.name, incarnation, from };
    this.broadcasts.add(update);
    // Tell the accused directly so it can refute within a round trip (Lifeguard's buddy system).
    if (from === this.name) this.send(member.addr, { type: "gossip", updates: [update] });
    this.armSuspicion(member);
    if (previous !== "suspect") this.observer.memberChanged?.(member.name, previous, this.view(member));
    return true;
  }

  /** (Re)schedules the suspicion timeout for the confirmations counted so far. */
  private armSuspicion(member: Member): void {
    const suspicion = member.suspicion;
    if (suspicion === undefined) return;
    if (suspicion.timer !== undefined) this.clock.clearTimeout(suspicion.timer);
    const members = this.liveCount();
    const timeout = suspicionTimeout(
      suspicionBounds(this.config, members),
      suspicion.suspecters.size - 1,
      expectedConfirmations(this.config, members),
    );
    const remaining = suspicion.startedAt + timeout - this.clock.now();
    const expire = (late: boolean): void => {
      suspicion.timer = undefined;
      if (member.suspicion !== suspicion || member.state !== "suspect") return;
      if (late) {
        // Our loop stalled: a refutation may be waiting unread. Look again after pending I/O.
        suspicion.timer = this.clock.setTimeout(() => {
          expire(false);
        }, 1);
        return;
      }
      this.declareDead(member, suspicion.incarnation);
    };
    if (remaining <= 0) {
      this.declareDead(member, suspicion.incarnation);
      return;
    }
    suspicion.timer = this.lateAwareTimer(remaining, expire);
  }

  private declareDead(member: Member, incarnation: number): void {
    this.markGone(member, incarnation, "dead");
    this.broadcasts.add({ kind: "dead", name: member.name, incarnation, from: this.name });
    this.gossipNow();
    this.recomputeLive();
  }

  private applyGone(
    name: string,
    incarnation: number,
    from: string,
    state: "dead" | "left",
    replyTo: MemberAddress,
  ): boolean {
    if (name === this.name) {
      if (incarnation < this.incarnation) {
        this.remind(replyTo);
        return false;
      }
      this.refute(incarnation, state, replyTo);
      return true;
    }
    const member = this.table.get(name);
    if (member === undefined || incarnation < member.incarnation) return false;
    if (member.state === state || member.state === "left") return false;
    if (member.state === "dead") {
      // Already dead here; learning that it left on purpose stops our reconnect attempts.
      member.state = "left";
      member.incarnation = incarnation;
      return false;
    }
    this.markGone(member, incarnation, state);
    this.broadcasts.add(
      state === "left" ? { kind: "left", name, incarnation } : { kind: "dead", name, incarnation, from },
    );
    return true;
  }

  private markGone(member: Member, incarnation: number, state: "dead" | "left"): void {
    const previous = member.state;
    this.clearSuspicion(member);
    member.state = state;
    member.incarnation = incarnation;
    member.since = this.clock.now();
    this.observer.memberChanged?.(member.name, previous, this.view(member));
  }

  /** Outbids an accusation against ourselves with a higher incarnation. */
  private refute(accusedIncarnation: number, accusation: Update["kind"], replyTo: MemberAddress): void {
    this.incarnation = Math.min(MAX_INCARNATION, Math.max(this.incarnation, accusedIncarnation) + 1);
    const update: Update = { kind: "alive", name: this.name, incarnation: this.incarnation, addr: this.addr };
    this.broadcasts.add(update);
    // The accuser may not be among our gossip targets (a healed partition): answer it directly.
    this.send(replyTo, { type: "gossip", updates: [update] });
    if (accusation !== "alive") this.adjustHealth(1);
    this.observer.refuted?.(this.incarnation, accusation);
  }

  /** Someone accuses an older incarnation of ours: our refutation missed it, so repeat it there. */
  private remind(replyTo: MemberAddress): void {
    const update: Update = { kind: "alive", name: this.name, incarnation: this.incarnation, addr: this.addr };
    this.transport.send(replyTo, { type: "gossip", updates: [update] });
  }

  private clearSuspicion(member: Member): void {
    if (member.suspicion?.timer !== undefined) this.clock.clearTimeout(member.suspicion.timer);
    member.suspicion = undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Gossip, sync and reconnects

  private scheduleGossip(): void {
    this.gossipTimer = this.clock.setTimeout(() => {
      this.gossipTimer = undefined;
      if (this.stopped || this.leaving) return;
      if (this.broadcasts.size > 0) this.gossipNow();
      this.scheduleGossip();
    }, this.config.gossipIntervalMs);
  }

  /**
   * One gossip burst to `gossipFanout` random members. The recently dead are included, so that
   * one declared dead by mistake learns it and refutes.
   */
  private gossipNow(): void {
    if (this.stopped || this.leaving || this.broadcasts.size === 0) return;
    const now = this.clock.now();
    const candidates = [...this.table.values()].filter(
      (m) => isLive(m.state) || (m.state === "dead" && now - m.since <= this.config.gossipToDeadMs),
    );
    for (const member of this.pickRandom(candidates, this.config.gossipFanout)) {
      const updates = this.takeUpdates(messageBaseSize({ type: "gossip", updates: [] }));
      if (updates.length === 0) return;
      this.transport.send(member.addr, { type: "gossip", updates });
    }
  }

  private scheduleReconnect(): void {
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.stopped || this.leaving) return;
      this.reconnect();
      this.scheduleReconnect();
    }, this.config.reconnectIntervalMs);
  }

  /**
   * One state exchange with a dead member or a seed nobody answers for (join retries, merges
   * after a partition); now and then, with a live member instead (anti-entropy). Also forgets
   * members dead for longer than the retention.
   */
  private reconnect(): void {
    const now = this.clock.now();
    for (const member of [...this.table.values()]) {
      if (!isLive(member.state) && now - member.since > this.config.deadRetentionMs) {
        this.table.delete(member.name);
      }
    }
    this.reconnectTicks++;
    const dead = [...this.table.values()].filter((m) => m.state === "dead").map((m) => m.addr);
    const candidates = [...dead, ...this.unansweredSeeds()];
    if (candidates.length > 0) {
      const [pick] = this.pickRandom(candidates, 1);
      if (pick !== undefined) this.sendSync(pick, true);
    } else if (this.reconnectTicks % ANTI_ENTROPY_EVERY === 0) {
      const [pick] = this.pickRandom(
        [...this.table.values()].filter((m) => m.state === "alive"),
        1,
      );
      if (pick !== undefined) this.sendSync(pick.addr, true);
    }
  }

  /**
   * A member we do not count as live talks to us: its news did not reach us (or we declared it
   * dead on the other side of a partition). Exchange tables with it, at most once per reconnect
   * interval per sender.
   */
  private syncWithStranger(sender: string, from: MemberAddress): void {
    const member = this.table.get(sender);
    if (member !== undefined && isLive(member.state)) return;
    const now = this.clock.now();
    const last = this.strangerSyncs.get(sender);
    if (last !== undefined && now - last < this.config.reconnectIntervalMs) return;
    this.strangerSyncs.set(sender, now);
    if (this.strangerSyncs.size > MAX_STRANGERS) {
      for (const [name, at] of this.strangerSyncs) {
        if (now - at >= this.config.reconnectIntervalMs) this.strangerSyncs.delete(name);
      }
    }
    this.sendSync(from, true);
  }

  private syncWithSeeds(): void {
    for (const seed of this.unansweredSeeds()) this.sendSync(seed, true);
  }

  /** Seeds that are not us and not the address of a live member. */
  private unansweredSeeds(): MemberAddress[] {
    const answered = new Set(
      [...this.table.values()].filter((m) => isLive(m.state)).map((m) => formatMemberAddress(m.addr)),
    );
    answered.add(formatMemberAddress(this.addr));
    return this.seeds.filter((seed) => !answered.has(formatMemberAddress(seed)));
  }

  /** Our whole table (ourselves first), split over as many sync messages as it takes. */
  private sendSync(to: MemberAddress, wantReply: boolean): void {
    const entries: Update[] = [
      { kind: "alive", name: this.name, incarnation: this.incarnation, addr: this.addr },
    ];
    for (const member of this.table.values()) entries.push(this.recordOf(member));
    const base = messageBaseSize({ type: "sync", wantReply, updates: [] });
    let chunk: Update[] = [];
    let size = base;
    const flush = (): void => {
      this.transport.send(to, { type: "sync", wantReply, updates: chunk });
      chunk = [];
      size = base;
    };
    for (const entry of entries) {
      const entrySize = updateSize(entry);
      if (size + entrySize > this.messageBudget && chunk.length > 0) flush();
      chunk.push(entry);
      size += entrySize;
    }
    flush();
  }

  private recordOf(member: Member): Update {
    const { name, incarnation } = member;
    switch (member.state) {
      case "alive":
        return { kind: "alive", name, incarnation, addr: member.addr };
      case "suspect":
        return {
          kind: "suspect",
          name,
          incarnation,
          from: firstOf(member.suspicion?.suspecters) ?? this.name,
        };
      case "dead":
        return { kind: "dead", name, incarnation, from: this.name };
      case "left":
        return { kind: "left", name, incarnation };
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  /** Sends `message` with as many queued updates as fit. */
  private send(to: MemberAddress, message: Message): void {
    const updates = [...message.updates, ...this.takeUpdates(messageSize(message))];
    this.transport.send(to, { ...message, updates });
  }

  private takeUpdates(used: number): Update[] {
    return this.broadcasts.take(
      this.messageBudget - used,
      retransmitLimit(this.config, this.liveCount()),
      updateSize,
    );
  }

  /** Members alive or suspect, ourselves included: the n of the timing formulas. */
  private liveCount(): number {
    let count = 1;
    for (const member of this.table.values()) if (isLive(member.state)) count++;
    return count;
  }

  private recomputeLive(): void {
    const next = new Set<string>();
    if (!this.leaving) next.add(this.name);
    for (const member of this.table.values()) if (isLive(member.state)) next.add(member.name);
    if (next.size === this.live.size && [...next].every((name) => this.live.has(name))) return;
    this.live = next;
    for (const listener of [...this.listeners]) {
      try {
        listener(next);
      } catch {
        // a listener's failure is its own
      }
    }
  }

  private view(member: Member): MemberView {
    return { state: member.state, incarnation: member.incarnation, addr: member.addr };
  }

  private lateAwareTimer(delayMs: number, callback: (late: boolean) => void): TimerHandle {
    const dueAt = this.clock.now() + delayMs;
    return this.clock.setTimeout(() => {
      callback(this.clock.now() - dueAt > this.config.lateTimerMs);
    }, delayMs);
  }

  private nextSeq(): number {
    this.seq = this.seq >= MAX_SEQ ? 1 : this.seq + 1;
    return this.seq;
  }

  private shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      const a = items[i] as T;
      items[i] = items[j] as T;
      items[j] = a;
    }
    return items;
  }

  private pickRandom<T>(items: readonly T[], count: number): T[] {
    return this.shuffle([...items]).slice(0, count);
  }

  private leaveDurationMs(): number {
    return this.config.leaveRepeats * this.config.leaveSpacingMs;
  }

  private stopTimers(): void {
    for (const timer of [this.probeTimer, this.directTimer, this.gossipTimer, this.reconnectTimer]) {
      if (timer !== undefined) this.clock.clearTimeout(timer);
    }
    this.probeTimer = this.directTimer = this.gossipTimer = this.reconnectTimer = undefined;
    this.round = undefined;
  }
}

export function isLive(state: MemberState): boolean {
  return state === "alive" || state === "suspect";
}

function firstOf<T>(set: ReadonlySet<T> | undefined): T | undefined {
  if (set === undefined) return undefined;
  for (const item of set) return item;
  return undefined;
}
