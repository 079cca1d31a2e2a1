/**
 * Membership among speakers: the SWIM protocol (protocol.ts) on a UDP socket (udp.ts), every
 * datagram sealed with AES-256-GCM (wire.ts). Implements the speaker's LiveSpeakers: current()
 * is the set of members alive or suspect (a suspicion is not a death), ourselves included.
 *
 *   const membership = new Membership({ name: node, advertise, seeds, keyring, logger });
 *   await membership.start(signal);   // binds, joins through the seeds; on abort: leave()
 *   membership.onChange((live) => ...);
 *   await membership.leave();         // graceful: everyone hears at once, then the socket closes
 */
import type { Clock } from "../runtime/clock.js";
import type { Logger } from "../runtime/logger.js";
import type { LiveSpeakers } from "../speaker/liveSpeakers.js";
import { formatMemberAddress, type MemberAddress } from "./address.js";
import type { MembershipConfig } from "./config.js";
import type { Keyring } from "./keyring.js";
import type { MembershipMetrics } from "./metrics.js";
import { SwimProtocol, type MemberState, type MemberView } from "./protocol.js";
import type { ReplayOptions } from "./replay.js";
import { UdpEndpoint } from "./udp.js";
import { SecureWire } from "./wire.js";

export interface MembershipOptions {
  /** This member's name: the node name. */
  readonly name: string;
  /** The address the others reach us at (the node's address and the membership port). */
  readonly advertise: MemberAddress;
  /** Listen address; default "::" (dual stack). */
  readonly bindAddress?: string;
  /** Listen port; default the advertised port (0 in tests: any free port, advertised as bound). */
  readonly bindPort?: number;
  /** Where to find the others (speaker pod or Node addresses); our own address is skipped. */
  readonly seeds?: readonly MemberAddress[];
  readonly keyring: Keyring;
  readonly config?: Partial<MembershipConfig>;
  readonly replay?: ReplayOptions;
  readonly logger?: Logger;
  readonly metrics?: MembershipMetrics;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Wall clock for packet stamps, ms since the epoch. */
  readonly wallNow?: () => number;
}

export class MembershipStateError extends Error {
  override readonly name = "MembershipStateError";
  readonly code = "ERR_MEMBERSHIP_STATE";
}

export class Membership implements LiveSpeakers {
  private endpoint: UdpEndpoint | undefined;
  private protocol: SwimProtocol | undefined;
  private wire: SecureWire;
  private seeds: MemberAddress[];
  private readonly listeners = new Set<(live: ReadonlySet<string>) => void>();
  private readonly refutationListeners = new Set<(accusation: string) => void>();
  private leaving: Promise<void> | undefined;
  private closed = false;
  private readonly logger: Logger | undefined;

  constructor(private readonly options: MembershipOptions) {
    this.seeds = [...(options.seeds ?? [])];
    this.logger = options.logger?.child({ component: "membership" });
    this.wire = this.makeWire(options.keyring);
  }

  /** Binds the socket and joins. Resolves once listening; `signal` aborting starts a graceful leave. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.protocol !== undefined || this.closed)
      throw new MembershipStateError("membership already started");
    const { options } = this;
    const endpoint = await UdpEndpoint.open({
      ...(options.bindAddress === undefined ? {} : { address: options.bindAddress }),
      port: options.bindPort ?? options.advertise.port,
      onDatagram: (datagram, from) => {
        this.onDatagram(datagram, from);
      },
      onError: (error) => {
        this.logger?.debug({ err: error }, "membership socket error");
      },
    });
    this.endpoint = endpoint;
    const advertise =
      options.advertise.port === 0 ? { ...options.advertise, port: endpoint.port } : options.advertise;
    const protocol = new SwimProtocol({
      name: options.name,
      addr: advertise,
      seeds: this.seeds,
      ...(options.config === undefined ? {} : { config: options.config }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.random === undefined ? {} : { random: options.random }),
      transport: {
        send: (to, message) => {
          this.sendDatagram(to, this.wire.encode(message));
        },
      },
      observer: {
        memberChanged: (member, previous, next) => {
          this.onMemberChanged(member, previous, next);
        },
        refuted: (incarnation, accusation) => {
          options.metrics?.refuted();
          this.logger?.info({ incarnation, accusation }, "refuted a suspicion of this speaker");
          for (const listener of this.refutationListeners) listener(accusation);
        },
        probeFailed: (target) => {
          options.metrics?.probeFailed();
          this.logger?.debug({ member: target }, "probe failed");
        },
        localHealthChanged: (score) => {
          options.metrics?.localHealth(score);
          if (score >= 2)
            this.logger?.warn({ localHealth: score }, "this speaker is slow to answer; probing less");
        },
      },
    });
    this.protocol = protocol;
    protocol.onChange((live) => {
      for (const listener of [...this.listeners]) {
        try {
          listener(live);
        } catch (error) {
          this.logger?.error({ err: error }, "live speakers listener failed");
        }
      }
    });
    protocol.start();
    this.updateMemberMetrics();
    this.logger?.info(
      {
        member: options.name,
        addr: formatMemberAddress(advertise),
        seeds: this.seeds.map(formatMemberAddress),
        keyIds: options.keyring.ids(),
      },
      "membership started",
    );
    if (signal !== undefined) {
      const onAbort = (): void => {
        void this.leave();
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    }
  }

  /** Graceful: every member hears that we leave (repeated), then the socket closes. Idempotent. */
  leave(): Promise<void> {
    this.leaving ??= (async () => {
      const protocol = this.protocol;
      if (protocol !== undefined) {
        await protocol.leave();
        this.logger?.info({ member: this.options.name }, "left the membership");
      }
      await this.close();
    })();
    return this.leaving;
  }

  /** Stops at once without a word (the others will detect it as a failure). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.protocol?.stop();
    await this.endpoint?.close();
  }

  current(): ReadonlySet<string> {
    return this.alive();
  }

  alive(): ReadonlySet<string> {
    return this.protocol?.alive() ?? new Set([this.options.name]);
  }

  members(): Map<string, MemberView> {
    return this.protocol?.members() ?? new Map<string, MemberView>();
  }

  onChange(callback: (live: ReadonlySet<string>) => void): () => void {
    this.listeners.add(callback);
    return () => this.listeners.delete(callback);
  }

  /** Called each time this member refutes a suspicion or a death of itself. */
  onRefuted(callback: (accusation: string) => void): () => void {
    this.refutationListeners.add(callback);
    return () => this.refutationListeners.delete(callback);
  }

  /** The port the socket is bound to (the advertised one unless bindPort 0 was asked for). */
  get port(): number | undefined {
    return this.endpoint?.port;
  }

  get localHealth(): number {
    return this.protocol?.localHealth ?? 0;
  }

  /** New seed addresses (speaker pods or Nodes changed); unknown ones are contacted at once. */
  setSeeds(seeds: readonly MemberAddress[]): void {
    this.seeds = [...seeds];
    this.protocol?.setSeeds(this.seeds);
  }

  /** New keys (rotation): the primary seals from now on; both are accepted. */
  setKeyring(keyring: Keyring): void {
    this.wire.setKeyring(keyring);
    this.logger?.info({ keyIds: keyring.ids() }, "membership keys changed");
  }

  private makeWire(keyring: Keyring): SecureWire {
    const { options } = this;
    return new SecureWire({
      name: options.name,
      keyring,
      ...(options.replay === undefined ? {} : { replay: options.replay }),
      ...(options.wallNow === undefined ? {} : { wallNow: options.wallNow }),
      onDrop: (reason) => {
        options.metrics?.dropped(reason);
        this.logger?.debug({ reason }, "membership packet dropped");
      },
    });
  }

  private onDatagram(datagram: Buffer, from: MemberAddress): void {
    const protocol = this.protocol;
    if (protocol === undefined || this.closed) return;
    const received = this.wire.decode(datagram);
    if (received === undefined) return;
    this.options.metrics?.received();
    protocol.receive(received.sender, from, received.message);
  }

  private sendDatagram(to: MemberAddress, datagram: Buffer): void {
    if (this.closed || this.endpoint === undefined) return;
    this.options.metrics?.sent();
    this.endpoint.send(to, datagram, (error) => {
      this.logger?.debug({ err: error, to: formatMemberAddress(to) }, "membership send failed");
    });
  }

  private onMemberChanged(member: string, previous: MemberState | undefined, next: MemberView): void {
    this.updateMemberMetrics();
    const fields = {
      member,
      from: previous ?? "unknown",
      to: next.state,
      incarnation: next.incarnation,
      addr: formatMemberAddress(next.addr),
    };
    if (next.state === "dead") this.logger?.warn(fields, "member declared dead");
    else this.logger?.info(fields, "member state changed");
  }

  private updateMemberMetrics(): void {
    const metrics = this.options.metrics;
    if (metrics === undefined || this.protocol === undefined) return;
    const counts: Record<MemberState, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
    for (const view of this.protocol.members().values()) counts[view.state]++;
    metrics.members(counts);
  }
}
