/**
 * The Layer 2 announcer: owns the responder sockets (one ARP and one NDP socket per interface
 * that has something to announce), answers requests with the pure responders, and tells the
 * LAN about addresses that just became ours (gratuitous ARP, unsolicited NA, repeated on the
 * takeover schedule until done or the address is no longer ours). When another host claims one
 * of our addresses (its gratuitous ARP, ARP reply or Neighbor Advertisement), the address is
 * announced again (claimDefence.ts), so a late claim by a node that has just lost it does not
 * leave the clients pointing there.
 *
 * apply() takes the desired announcements; the difference from what is active comes from
 * planAnnouncer(). Sockets and time are injected (AnnouncerIO, Clock), so everything but the
 * bytes on the wire is unit tested. A bad packet or a failing send is counted and logged,
 * never thrown out of a receive callback.
 */
import type { IPAddr } from "../net/ip.js";
import { Backoff } from "../runtime/backoff.js";
import { systemClock, type Clock, type TimerHandle } from "../runtime/clock.js";
import type { Logger } from "../runtime/logger.js";
import { solicitedNodeAddress } from "./codec/ipv6.js";
import {
  ipKey,
  isEmptyPlan,
  planAnnouncer,
  type ActiveInterface,
  type AnnouncerLink,
  type AnnouncerPlan,
  type InterfaceAnnouncements,
  type PlacedIP,
  type PortFamily,
} from "./announcerPlan.js";
import {
  AnnouncementSet,
  respondToArp,
  respondToNeighborSolicitation,
  type ArpDecision,
  type NdpDecision,
} from "./responder.js";
import {
  DEFAULT_TAKEOVER_OFFSETS_MS,
  gratuitousArp,
  TakeoverSchedule,
  unsolicitedAdvertisement,
} from "./responderTakeover.js";
import { arpClaim, ClaimDefence, DEFAULT_DEFENCE_HOLD_OFF_MS, ndpClaim } from "./claimDefence.js";

// ---------------------------------------------------------------------------------------------
// Injected edges

/** A received Ethernet frame (the native PacketSocket's ReceivedFrame satisfies this). */
export interface AnnouncerFrame {
  readonly data: Uint8Array;
}

/** A received ICMPv6 message with its addressing (the native ReceivedIcmp6 satisfies this). */
export interface AnnouncerIcmp6 {
  readonly data: Uint8Array;
  readonly source: IPAddr;
  readonly destination: IPAddr;
  readonly hopLimit: number;
}

export interface ArpPort {
  send(frame: Uint8Array): void;
  close(): void;
}

export interface NdpPort {
  send(message: Uint8Array, destination: IPAddr, source: IPAddr): void;
  joinGroup(group: IPAddr): void;
  leaveGroup(group: IPAddr): void;
  close(): void;
}

export interface PortCallbacks<M> {
  readonly onReceive: (batch: readonly M[]) => void;
  /** A receive error on the socket (e.g. ENETDOWN); the socket stays open. */
  readonly onError: (error: Error) => void;
}

/** Opens sockets bound to a link; throws when it cannot (link gone, no CAP_NET_RAW…). */
export interface AnnouncerIO {
  openArp(link: AnnouncerLink, callbacks: PortCallbacks<AnnouncerFrame>): ArpPort;
  openNdp(link: AnnouncerLink, callbacks: PortCallbacks<AnnouncerIcmp6>): NdpPort;
}

/** What the announcer counts; announcerMetrics.ts maps it to Prometheus. */
export interface AnnouncerMetrics {
  /** A request for an announced address arrived (ARP request or Neighbor Solicitation). */
  requestReceived(ip: string, ifname: string): void;
  responseSent(ip: string, ifname: string): void;
  /** One takeover packet (gratuitous ARP of either form, or unsolicited NA) sent. */
  gratuitousSent(ip: string): void;
  /** A received packet not answered, by reason (decode reasons, "not-announced", "handler-error"…). */
  dropped(protocol: PortFamily, reason: string): void;
  sendFailed(ifname: string, kind: "response" | "gratuitous"): void;
  /** Another host claimed an address we announce (answered by announcing it again). */
  claimSeen?(ip: string, ifname: string): void;
}

export const noAnnouncerMetrics: AnnouncerMetrics = {
  requestReceived: () => undefined,
  responseSent: () => undefined,
  gratuitousSent: () => undefined,
  dropped: () => undefined,
  sendFailed: () => undefined,
};

export interface AnnouncerOptions {
  readonly io: AnnouncerIO;
  readonly clock?: Clock;
  readonly metrics?: AnnouncerMetrics;
  readonly logger?: Logger;
  /** Takeover send times after an address becomes ours; default DEFAULT_TAKEOVER_OFFSETS_MS. */
  readonly takeoverOffsetsMs?: readonly number[];
  /** Minimum time between two re-announcements of a claimed address; default 1 s. */
  readonly defenceHoldOffMs?: number;
  /** Called when a socket reports a receive error (the caller may rescan links). */
  readonly onPortError?: (ifname: string, family: PortFamily, error: Error) => void;
  /** Retry delays after a socket failed to open; default 1 s doubling to 30 s. */
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
}

// ---------------------------------------------------------------------------------------------

interface LiveInterface {
  link: AnnouncerLink;
  arp?: ArpPort | undefined;
  ndp?: NdpPort | undefined;
  readonly ips: Map<string, IPAddr>;
}

const takeoverKey = (ifname: string, key: string): string => `${ifname}|${key}`;

export class Announcer {
  private readonly interfaces = new Map<string, LiveInterface>();
  private announced = new AnnouncementSet([]);
  private readonly schedule: TakeoverSchedule;
  private readonly defence: ClaimDefence;
  private readonly clock: Clock;
  private readonly metrics: AnnouncerMetrics;
  private takeoverTimer: TimerHandle | undefined;
  private retryTimer: TimerHandle | undefined;
  private readonly retryBackoff: Backoff;
  private desired: readonly InterfaceAnnouncements[] = [];
  private closed = false;

  constructor(private readonly options: AnnouncerOptions) {
    this.clock = options.clock ?? systemClock;
    this.metrics = options.metrics ?? noAnnouncerMetrics;
    this.schedule = new TakeoverSchedule(options.takeoverOffsetsMs ?? DEFAULT_TAKEOVER_OFFSETS_MS);
    this.defence = new ClaimDefence(options.defenceHoldOffMs ?? DEFAULT_DEFENCE_HOLD_OFF_MS);
    const initialMs = options.retryInitialMs ?? 1000;
    this.retryBackoff = new Backoff(
      { initialMs, maxMs: Math.max(initialMs, options.retryMaxMs ?? 30_000) },
      { clock: this.clock },
    );
  }

  /**
   * Make the announcements `desired` (addresses per interface) the active ones. Returns the plan
   * that was applied. Sockets that fail to open are retried with backoff; the addresses on them
   * stay inactive until then.
   */
  apply(desired: readonly InterfaceAnnouncements[]): AnnouncerPlan {
    if (this.closed) throw new AnnouncerClosedError("apply() after close()");
    this.desired = desired;
    const plan = planAnnouncer(this.activeView(), desired);
    for (const { ifname, ip } of plan.unservable) {
      this.options.logger?.warn(
        { interface: ifname, ip: ipKey(ip) },
        "interface has no IPv6 link-local address: not answering NDP for this address there",
      );
    }
    if (isEmptyPlan(plan)) return plan;
    for (const placed of plan.remove) this.removeIP(placed);
    for (const { ifname, family } of plan.close) this.closePort(ifname, family);
    let failures = 0;
    for (const { link, family } of plan.open) if (!this.openPort(link, family)) failures++;
    for (const placed of plan.add) this.addIP(placed);
    for (const [name, entry] of this.interfaces) {
      if (entry.arp === undefined && entry.ndp === undefined && entry.ips.size === 0) {
        this.interfaces.delete(name);
      }
    }
    this.rebuildAnnouncementSet();
    this.armTakeoverTimer();
    this.armRetry(failures > 0);
    return plan;
  }

  /** Interfaces on which `ip` is answered for now (sockets open), sorted. */
  interfacesFor(ip: IPAddr): string[] {
    const key = ipKey(ip);
    return [...this.interfaces.values()]
      .filter((entry) => entry.ips.has(key))
      .map((entry) => entry.link.name)
      .sort();
  }

  /** Every active address with the interfaces it is answered on (text form, sorted). */
  snapshot(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const entry of [...this.interfaces.values()].sort((a, b) => (a.link.name < b.link.name ? -1 : 1))) {
      for (const key of entry.ips.keys()) out.set(key, [...(out.get(key) ?? []), entry.link.name]);
    }
    return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** Whether a takeover announcement (or a defence of a claimed address) for `ip` on `ifname` is still scheduled. */
  takeoverPending(ifname: string, ip: IPAddr): boolean {
    const key = takeoverKey(ifname, ipKey(ip));
    return this.schedule.isActive(key) || this.defence.isPending(key);
  }

  /**
   * Announce every active address again, as if each had been claimed (same hold-off): for when
   * others may have taken our addresses without our hearing it, e.g. they declared this speaker
   * dead while its link was down for too short a time for the link monitor to notice, and their
   * announcements never reached us.
   */
  reassertAll(): void {
    if (this.closed) return;
    const now = this.clock.now();
    for (const entry of this.interfaces.values()) {
      for (const key of entry.ips.keys()) this.defence.claimed(takeoverKey(entry.link.name, key), now);
    }
    this.armTakeoverTimer();
  }

  /** Stop answering: every socket closed, every timer cancelled. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const entry of this.interfaces.values()) {
      for (const key of entry.ips.keys()) {
        this.schedule.stop(takeoverKey(entry.link.name, key));
        this.defence.stop(takeoverKey(entry.link.name, key));
      }
      this.safeClose(entry.arp, entry.link.name, "arp");
      this.safeClose(entry.ndp, entry.link.name, "ndp");
    }
    this.interfaces.clear();
    this.announced = new AnnouncementSet([]);
    if (this.takeoverTimer !== undefined) this.clock.clearTimeout(this.takeoverTimer);
    if (this.retryTimer !== undefined) this.clock.clearTimeout(this.retryTimer);
    this.takeoverTimer = undefined;
    this.retryTimer = undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Applying a plan

  private activeView(): Map<string, ActiveInterface> {
    const view = new Map<string, ActiveInterface>();
    for (const [name, entry] of this.interfaces) {
      const ports = new Set<PortFamily>();
      if (entry.arp !== undefined) ports.add("arp");
      if (entry.ndp !== undefined) ports.add("ndp");
      view.set(name, { link: entry.link, ports, ips: entry.ips });
    }
    return view;
  }

  private entryFor(link: AnnouncerLink): LiveInterface {
    let entry = this.interfaces.get(link.name);
    if (entry === undefined) {
      entry = { link, ips: new Map() };
      this.interfaces.set(link.name, entry);
    }
    entry.link = link;
    return entry;
  }

  private openPort(link: AnnouncerLink, family: PortFamily): boolean {
    const entry = this.entryFor(link);
    const onError = (error: Error): void => {
      this.options.logger?.debug({ interface: link.name, family, err: error }, "responder socket error");
      try {
        this.options.onPortError?.(link.name, family, error);
      } catch {
        // the hook is the caller's; a throw must not reach the native callback
      }
    };
    try {
      if (family === "arp") {
        entry.arp = this.options.io.openArp(link, {
          onReceive: (frames) => {
            this.receiveArp(link.name, frames);
          },
          onError,
        });
      } else {
        entry.ndp = this.options.io.openNdp(link, {
          onReceive: (messages) => {
            this.receiveNdp(link.name, messages);
          },
          onError,
        });
      }
      this.options.logger?.debug({ interface: link.name, family }, "responder socket open");
      return true;
    } catch (error) {
      this.options.logger?.warn(
        { interface: link.name, family, err: error },
        "cannot open responder socket; will retry",
      );
      return false;
    }
  }

  private closePort(ifname: string, family: PortFamily): void {
    const entry = this.interfaces.get(ifname);
    if (entry === undefined) return;
    if (family === "arp") {
      this.safeClose(entry.arp, ifname, family);
      entry.arp = undefined;
    } else {
      this.safeClose(entry.ndp, ifname, family);
      entry.ndp = undefined;
    }
  }

  private safeClose(port: ArpPort | NdpPort | undefined, ifname: string, family: PortFamily): void {
    try {
      port?.close();
    } catch (error) {
      this.options.logger?.warn({ interface: ifname, family, err: error }, "closing responder socket failed");
    }
  }

  private addIP({ ifname, ip }: PlacedIP): void {
    const entry = this.interfaces.get(ifname);
    if (entry === undefined) return;
    const key = ipKey(ip);
    if (ip.family === "IPv4") {
      if (entry.arp === undefined) return;
    } else {
      if (entry.ndp === undefined) return;
      try {
        entry.ndp.joinGroup(solicitedNodeAddress(ip));
      } catch (error) {
        // Without the group, multicast solicitations are not delivered, but unicast probes
        // and the takeover announcements still work: keep the address, say so.
        this.options.logger?.warn(
          { interface: ifname, ip: key, err: error },
          "cannot join the solicited-node group",
        );
      }
    }
    entry.ips.set(key, ip);
    this.schedule.start(takeoverKey(ifname, key), this.clock.now());
    this.options.logger?.info({ interface: ifname, ip: key }, "announcing address");
  }

  private removeIP({ ifname, ip }: PlacedIP): void {
    const entry = this.interfaces.get(ifname);
    if (entry === undefined) return;
    const key = ipKey(ip);
    if (!entry.ips.delete(key)) return;
    // Nothing more is said about an address the moment it stops being ours.
    this.schedule.stop(takeoverKey(ifname, key));
    this.defence.stop(takeoverKey(ifname, key));
    if (ip.family === "IPv6" && entry.ndp !== undefined) {
      try {
        entry.ndp.leaveGroup(solicitedNodeAddress(ip));
      } catch (error) {
        this.options.logger?.debug({ interface: ifname, ip: key, err: error }, "leaving group failed");
      }
    }
    this.options.logger?.info({ interface: ifname, ip: key }, "no longer announcing address");
  }

  private rebuildAnnouncementSet(): void {
    const announcements: { ip: IPAddr; interfaces: string[] }[] = [];
    for (const entry of this.interfaces.values()) {
      for (const ip of entry.ips.values()) announcements.push({ ip, interfaces: [entry.link.name] });
    }
    this.announced = new AnnouncementSet(announcements);
  }

  private armRetry(failed: boolean): void {
    if (!failed) {
      this.retryBackoff.reset();
      if (this.retryTimer !== undefined) this.clock.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      return;
    }
    if (this.retryTimer !== undefined) return;
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed) this.apply(this.desired);
    }, this.retryBackoff.nextDelay());
  }

  // -------------------------------------------------------------------------------------------
  // Takeover announcements

  private armTakeoverTimer(): void {
    if (this.takeoverTimer !== undefined) this.clock.clearTimeout(this.takeoverTimer);
    this.takeoverTimer = undefined;
    const takeover = this.schedule.nextDueAt();
    const defence = this.defence.nextDueAt();
    const next =
      takeover === undefined ? defence : defence === undefined ? takeover : Math.min(takeover, defence);
    if (next === undefined || this.closed) return;
    this.takeoverTimer = this.clock.setTimeout(
      () => {
        this.takeoverTimer = undefined;
        this.sendDueTakeovers();
      },
      Math.max(0, next - this.clock.now()),
    );
  }

  private sendDueTakeovers(): void {
    const now = this.clock.now();
    for (const key of new Set([...this.schedule.due(now), ...this.defence.due(now)])) {
      // Checked against what is ours right now, whatever was scheduled.
      const separator = key.indexOf("|");
      const entry = this.interfaces.get(key.slice(0, separator));
      const ip = entry?.ips.get(key.slice(separator + 1));
      if (entry === undefined || ip === undefined) continue;
      this.sendTakeover(entry, ip);
    }
    this.armTakeoverTimer();
  }

  /** Another host claimed `ip` on `ifname`: announce it again (at once, or after the hold-off). */
  private claimSeen(ifname: string, ip: IPAddr): void {
    const text = ipKey(ip);
    this.metrics.claimSeen?.(text, ifname);
    this.options.logger?.debug({ interface: ifname, ip: text }, "another host claims an announced address");
    this.defence.claimed(takeoverKey(ifname, text), this.clock.now());
  }

  private sendTakeover(entry: LiveInterface, ip: IPAddr): void {
    const { link } = entry;
    const text = ipKey(ip);
    try {
      if (ip.family === "IPv4") {
        if (entry.arp === undefined) return;
        entry.arp.send(gratuitousArp(link.mac, ip, "request"));
        this.metrics.gratuitousSent(text);
        entry.arp.send(gratuitousArp(link.mac, ip, "reply"));
        this.metrics.gratuitousSent(text);
      } else {
        if (entry.ndp === undefined || link.linkLocal === undefined) return;
        const na = unsolicitedAdvertisement(link.mac, ip, link.linkLocal);
        entry.ndp.send(na.message, na.destination, na.source);
        this.metrics.gratuitousSent(text);
      }
    } catch (error) {
      this.metrics.sendFailed(link.name, "gratuitous");
      this.options.logger?.debug({ interface: link.name, ip: text, err: error }, "takeover send failed");
    }
  }

  // -------------------------------------------------------------------------------------------
  // Answering

  private receiveArp(ifname: string, frames: readonly AnnouncerFrame[]): void {
    const entry = this.interfaces.get(ifname);
    const port = entry?.arp;
    if (entry === undefined || port === undefined) return;
    let claims = 0;
    for (const frame of frames) {
      let decision: ArpDecision;
      try {
        const iface = { name: ifname, mac: entry.link.mac };
        const claimed = arpClaim(frame.data, iface, this.announced);
        if (claimed !== undefined) {
          this.claimSeen(ifname, claimed);
          claims++;
        }
        decision = respondToArp(frame.data, iface, this.announced);
      } catch (error) {
        this.handlerError("arp", ifname, error);
        continue;
      }
      if (decision.action === "ignore") {
        this.metrics.dropped("arp", decision.reason);
        continue;
      }
      const text = ipKey(decision.ip);
      this.metrics.requestReceived(text, ifname);
      try {
        port.send(decision.frame);
        this.metrics.responseSent(text, ifname);
      } catch (error) {
        this.metrics.sendFailed(ifname, "response");
        this.options.logger?.debug({ interface: ifname, ip: text, err: error }, "ARP reply send failed");
      }
    }
    if (claims > 0) this.armTakeoverTimer();
  }

  private receiveNdp(ifname: string, messages: readonly AnnouncerIcmp6[]): void {
    const entry = this.interfaces.get(ifname);
    const port = entry?.ndp;
    const linkLocal = entry?.link.linkLocal;
    if (entry === undefined || port === undefined || linkLocal === undefined) return;
    let claims = 0;
    for (const message of messages) {
      let decision: NdpDecision;
      try {
        const iface = { name: ifname, mac: entry.link.mac, sourceAddress: linkLocal };
        // Advertisements are listened to for claims only; they are never answered.
        const claim = ndpClaim(message, iface, this.announced);
        if (claim.kind === "claim") {
          this.claimSeen(ifname, claim.ip);
          claims++;
        }
        if (claim.kind !== "not-advertisement") continue;
        decision = respondToNeighborSolicitation(message, iface, this.announced);
      } catch (error) {
        this.handlerError("ndp", ifname, error);
        continue;
      }
      if (decision.action === "ignore") {
        this.metrics.dropped("ndp", decision.reason);
        continue;
      }
      const text = ipKey(decision.ip);
      this.metrics.requestReceived(text, ifname);
      try {
        port.send(decision.message, decision.destination, decision.source);
        this.metrics.responseSent(text, ifname);
      } catch (error) {
        this.metrics.sendFailed(ifname, "response");
        this.options.logger?.debug({ interface: ifname, ip: text, err: error }, "NA send failed");
      }
    }
    if (claims > 0) this.armTakeoverTimer();
  }

  private handlerError(protocol: PortFamily, ifname: string, error: unknown): void {
    this.metrics.dropped(protocol, "handler-error");
    this.options.logger?.error({ interface: ifname, protocol, err: error }, "responder failed on a packet");
  }
}

export class AnnouncerClosedError extends Error {
  override readonly name = "AnnouncerClosedError";
  readonly code = "ERR_ANNOUNCER_CLOSED";
}
