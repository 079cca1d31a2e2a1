/**
 * One BFD session's state machine (RFC 5880 §6.8), asynchronous mode, pure apart from an
 * injected clock, random source and `transmit` callback: no sockets. The caller hands it packets
 * already decoded, validated and matched to this session (packet.ts, demux.ts).
 *
 * - Three-way handshake Down → Init → Up; Up → Down on detection-time expiry (diag 1), on the
 *   peer's Down (diag 3) or AdminDown (diag 3; clients should not react, RFC 5882 §3.2).
 * - Intervals: we send every max(our Desired Min TX, their Required Min RX), jittered to 75–100 %
 *   (75–90 % with detect mult 1, §6.8.7); Desired Min TX is at least 1 s while not Up (§6.8.3).
 *   Detection time = their detect mult × max(our Required Min RX, their Desired Min TX).
 * - A change of our intervals while Up runs a Poll Sequence; an increase of our TX (or decrease of
 *   our RX) takes effect only when the peer's Final arrives (§6.8.3). A Poll from the peer is
 *   answered at once with Final.
 * - Passive role (§6.1): silent until the peer's first packet.
 * - `adminDown()` sends AdminDown with diag 7 (a graceful stop), `stop()` just goes quiet.
 */
import type { Clock, TimerHandle } from "../bgp/transport.js";
import { BFD_STATE_NAMES, BfdDiag, BfdState, type BfdStateName, type ControlPacket } from "./packet.js";

/** Our timer settings (milliseconds, as in BFDProfile). */
export interface BfdTimers {
  readonly desiredMinTxMs: number;
  readonly requiredMinRxMs: number;
  readonly detectMult: number;
}

export interface BfdSessionConfig extends BfdTimers {
  /** Our discriminator: non-zero and unique among our sessions. */
  readonly localDiscriminator: number;
  readonly passive: boolean;
}

export interface BfdStateChange {
  readonly from: BfdStateName;
  readonly to: BfdStateName;
  /** Our diagnostic at the change (why we went down). */
  readonly diag: number;
  /** The peer went AdminDown: a client protocol takes no action (RFC 5882 §3.2). */
  readonly peerAdminDown: boolean;
}

export interface BfdSessionOptions {
  readonly config: BfdSessionConfig;
  readonly clock: Clock;
  /** Uniform in [0, 1); Math.random by default. */
  readonly random?: () => number;
  readonly transmit: (packet: ControlPacket) => void;
  readonly onStateChange?: (change: BfdStateChange) => void;
}

/** While not Up, Desired Min TX is at least this (§6.8.3). */
export const SLOW_TX_US = 1_000_000;

export interface BfdSessionStatus {
  readonly state: BfdStateName;
  readonly localDiag: number;
  readonly remoteState: BfdStateName;
  readonly localDiscriminator: number;
  readonly remoteDiscriminator: number;
  /** Current interval between our periodic packets before jitter (ms), or undefined when not sending. */
  readonly transmitIntervalMs: number | undefined;
  /** Current detection time (ms), or undefined before the peer's first packet. */
  readonly detectionTimeMs: number | undefined;
  readonly pollInProgress: boolean;
}

const ms = (us: number): number => us / 1000;

export class BfdSession {
  private readonly clock: Clock;
  private readonly random: () => number;
  private timers: BfdTimers;
  private sessionState: BfdState = BfdState.Down;
  private localDiag: number = BfdDiag.None;
  private remoteDiscr = 0;
  private remoteState: BfdState = BfdState.Down;
  private remoteMinRxUs = 1;
  private remoteDesiredMinTxUs = 0;
  private remoteDetectMult = 0;
  private pollActive = false;
  /** Intervals used for our own timing; they may lag what we advertise during a Poll Sequence. */
  private txInUseUs: number;
  private rxInUseUs: number;
  private txTimer: TimerHandle | undefined;
  private detectTimer: TimerHandle | undefined;
  private running = false;

  constructor(private readonly opts: BfdSessionOptions) {
    this.clock = opts.clock;
    this.random = opts.random ?? Math.random;
    this.timers = opts.config;
    this.txInUseUs = this.advertisedTxUs();
    this.rxInUseUs = this.advertisedRxUs();
  }

  get state(): BfdStateName {
    return BFD_STATE_NAMES[this.sessionState];
  }

  get localDiscriminator(): number {
    return this.opts.config.localDiscriminator;
  }

  /** Begins sending (unless passive) and waiting for the peer. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.scheduleTx(true);
  }

  /** Goes quiet: no more packets, no more timers, no state change reported. */
  stop(): void {
    this.running = false;
    this.txTimer?.cancel();
    this.txTimer = undefined;
    this.detectTimer?.cancel();
    this.detectTimer = undefined;
  }

  /** Graceful stop: AdminDown with diag 7, one packet now, then quiet. */
  adminDown(): void {
    if (this.sessionState !== BfdState.AdminDown) {
      this.localDiag = BfdDiag.AdministrativelyDown;
      this.changeState(BfdState.AdminDown, false);
    }
    if (this.running && this.maySend()) this.send(false);
    this.stop();
  }

  /** New timer settings (a shared session's profile changed): a Poll Sequence when Up. */
  setTimers(timers: BfdTimers): void {
    const old = this.timers;
    const oldTx = this.advertisedTxUs();
    const oldRx = this.advertisedRxUs();
    this.timers = { ...timers };
    const tx = this.advertisedTxUs();
    const rx = this.advertisedRxUs();
    if (tx === oldTx && rx === oldRx && timers.detectMult === old.detectMult) return;
    if (this.sessionState === BfdState.Up) {
      // Faster sending and slower receiving are safe at once; the others wait for the Final.
      if (tx < this.txInUseUs) this.txInUseUs = tx;
      if (rx > this.rxInUseUs) this.rxInUseUs = rx;
      this.startPoll();
    } else {
      this.txInUseUs = tx;
      this.rxInUseUs = rx;
    }
  }

  /** A valid packet from the peer for this session (§6.8.6, after the discriminator checks). */
  receive(p: ControlPacket): void {
    if (!this.running) return;
    const wasSending = this.maySend();
    this.remoteDiscr = p.myDiscriminator;
    this.remoteState = p.state;
    this.remoteMinRxUs = p.requiredMinRxUs;
    this.remoteDesiredMinTxUs = p.desiredMinTxUs;
    this.remoteDetectMult = p.detectMult;
    if (p.final && this.pollActive) {
      this.pollActive = false;
      this.txInUseUs = this.advertisedTxUs();
      this.rxInUseUs = this.advertisedRxUs();
    }
    if (this.sessionState === BfdState.AdminDown) return;
    this.armDetection();

    if (p.state === BfdState.AdminDown) {
      if (this.sessionState !== BfdState.Down) {
        this.localDiag = BfdDiag.NeighborSignaledSessionDown;
        this.changeState(BfdState.Down, true);
      }
    } else if (this.sessionState === BfdState.Down) {
      if (p.state === BfdState.Down) this.changeState(BfdState.Init, false);
      else if (p.state === BfdState.Init) this.changeState(BfdState.Up, false);
    } else if (this.sessionState === BfdState.Init) {
      if (p.state === BfdState.Init || p.state === BfdState.Up) this.changeState(BfdState.Up, false);
    } else if (p.state === BfdState.Down) {
      this.localDiag = BfdDiag.NeighborSignaledSessionDown;
      this.changeState(BfdState.Down, false);
    }

    // A Poll is answered at once, outside the periodic schedule (§6.8.7).
    if (p.poll) this.send(true);
    // A passive session starts sending with the first packet; otherwise keep the schedule.
    if (!wasSending || this.txTimer === undefined) this.scheduleTx(false);
  }

  status(): BfdSessionStatus {
    const sending = this.running && this.maySend() && this.remoteMinRxUs > 0;
    return {
      state: this.state,
      localDiag: this.localDiag,
      remoteState: BFD_STATE_NAMES[this.remoteState],
      localDiscriminator: this.localDiscriminator,
      remoteDiscriminator: this.remoteDiscr,
      transmitIntervalMs: sending ? ms(this.transmitIntervalUs()) : undefined,
      detectionTimeMs: this.remoteDetectMult === 0 ? undefined : ms(this.detectionTimeUs()),
      pollInProgress: this.pollActive,
    };
  }

  /** What the peer sees as our Desired Min TX. */
  private advertisedTxUs(): number {
    const configured = this.timers.desiredMinTxMs * 1000;
    return this.sessionState === BfdState.Up ? configured : Math.max(configured, SLOW_TX_US);
  }

  private advertisedRxUs(): number {
    return this.timers.requiredMinRxMs * 1000;
  }

  private transmitIntervalUs(): number {
    return Math.max(this.txInUseUs, this.remoteMinRxUs);
  }

  private detectionTimeUs(): number {
    return this.remoteDetectMult * Math.max(this.rxInUseUs, this.remoteDesiredMinTxUs);
  }

  private maySend(): boolean {
    // §6.8.7: a passive system stays silent until it knows the peer.
    return !(this.opts.config.passive && this.remoteDiscr === 0);
  }

  private changeState(to: BfdState, peerAdminDown: boolean): void {
    const from = this.sessionState;
    if (from === to) return;
    const oldTx = this.advertisedTxUs();
    this.sessionState = to;
    if (to === BfdState.Up) this.localDiag = BfdDiag.None;
    const tx = this.advertisedTxUs();
    if (to === BfdState.Up) {
      // Leaving the 1 s slow rate (usually faster, so at once) is a timer change: poll (§6.8.3).
      this.txInUseUs = Math.min(this.txInUseUs, tx);
      // The packet sent below carries the Poll.
      if (tx !== oldTx) this.pollActive = true;
      else this.txInUseUs = tx;
    } else {
      this.pollActive = false;
      this.txInUseUs = tx;
      this.rxInUseUs = this.advertisedRxUs();
    }
    if (to === BfdState.AdminDown) {
      this.detectTimer?.cancel();
      this.detectTimer = undefined;
    }
    this.opts.onStateChange?.({
      from: BFD_STATE_NAMES[from],
      to: BFD_STATE_NAMES[to],
      diag: this.localDiag,
      peerAdminDown,
    });
    // Tell the peer at once rather than at the next periodic packet, and restart the schedule
    // from here (the interval may have just shrunk from the 1 s slow rate).
    if (this.running && to !== BfdState.AdminDown) this.scheduleTx(true);
  }

  private startPoll(): void {
    this.pollActive = true;
    if (this.running) this.scheduleTx(true);
  }

  private armDetection(): void {
    this.detectTimer?.cancel();
    const timeMs = ms(this.detectionTimeUs());
    this.detectTimer = this.clock.setTimer(timeMs, () => {
      this.detectTimer = undefined;
      this.detectionExpired();
    });
  }

  private detectionExpired(): void {
    if (!this.running) return;
    if (this.sessionState === BfdState.Init || this.sessionState === BfdState.Up) {
      this.localDiag = BfdDiag.ControlDetectionTimeExpired;
      this.changeState(BfdState.Down, false);
    }
    // §6.8.1: forget the peer; a passive session goes silent again.
    this.remoteDiscr = 0;
    this.remoteState = BfdState.Down;
    this.remoteMinRxUs = 1;
  }

  private scheduleTx(immediately: boolean): void {
    this.txTimer?.cancel();
    this.txTimer = undefined;
    if (!this.running || !this.maySend()) return;
    if (immediately) this.send(false);
    // §6.8.7: no periodic packets when the peer's Required Min RX is zero.
    if (this.remoteMinRxUs === 0) return;
    const max = this.timers.detectMult === 1 ? 0.9 : 1;
    const factor = 0.75 + (max - 0.75) * Math.min(Math.max(this.random(), 0), 0.999999);
    this.txTimer = this.clock.setTimer(ms(this.transmitIntervalUs()) * factor, () => {
      this.txTimer = undefined;
      this.scheduleTx(true);
    });
  }

  private send(final: boolean): void {
    this.opts.transmit({
      diag: this.localDiag,
      state: this.sessionState,
      poll: this.pollActive && !final,
      final,
      controlPlaneIndependent: false,
      authenticationPresent: false,
      demand: false,
      detectMult: this.timers.detectMult,
      myDiscriminator: this.opts.config.localDiscriminator,
      yourDiscriminator: this.remoteDiscr,
      desiredMinTxUs: this.advertisedTxUs(),
      requiredMinRxUs: this.advertisedRxUs(),
      requiredMinEchoRxUs: 0,
    });
  }
}
