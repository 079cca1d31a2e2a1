/**
 * Membership as the speaker uses it (`ironlb speaker --membership`):
 *
 * - mode: "swim" needs the key (the mounted ironlb-memberlist Secret) and fails without it;
 *   "lease" keeps the Lease heartbeat only; "auto" (the default) is swim when the key files
 *   are there and lease otherwise.
 * - addresses: speakers run in the host network, so a member is reached at its Node's
 *   InternalIP (or --membership-advertise) on the membership port; the seeds are the other
 *   Nodes' InternalIPs of the same family, refreshed as Nodes come and go.
 * - start-up: membership starts once the Node cache has synced and waits (up to 2 s) to hear
 *   from another member, so the first announcement decision does not see this node alone.
 *   A speaker whose Node object is deleted leaves.
 * - live speakers during a change of mode (some speakers on swim, others still on Leases):
 *   membership decides for every node it knows (alive or suspect: live; dead or left: not),
 *   Leases for the nodes it has never seen. Swim speakers keep renewing their Lease, so
 *   Lease-only speakers see them too. A crash is thus noticed at membership speed between swim
 *   speakers, at Lease speed otherwise.
 */
import { sleep, systemClock, type Clock } from "../runtime/clock.js";
import type { Logger } from "../runtime/logger.js";
import { sameNodeSet, type LiveSpeakers } from "../speaker/liveSpeakers.js";
import { DEFAULT_MEMBERSHIP_PORT, memberAddress, type MemberAddress } from "./address.js";
import type { MembershipConfig } from "./config.js";
import type { Keyring } from "./keyring.js";
import { Membership } from "./membership.js";
import type { MembershipMetrics } from "./metrics.js";
import { isLive, type MemberView } from "./protocol.js";
import { DEFAULT_MEMBERSHIP_KEY_DIR, KeyringWatcher, readKeyringFromDirectory } from "./secret.js";

export const MEMBERSHIP_MODES = ["auto", "swim", "lease"] as const;
export type MembershipMode = (typeof MEMBERSHIP_MODES)[number];

export class SpeakerMembershipError extends Error {
  override readonly name = "SpeakerMembershipError";
  readonly code = "ERR_SPEAKER_MEMBERSHIP";
}

/** The parts of a Node the addresses come from (client-node's V1Node fits). */
export interface NodeAddressesView {
  readonly metadata?: { readonly name?: string | undefined } | undefined;
  readonly status?:
    | { readonly addresses?: readonly { readonly type: string; readonly address: string }[] | undefined }
    | undefined;
}

const familyOf = (ip: string): 4 | 6 => (ip.includes(":") ? 6 : 4);

/** A Node's first InternalIP of `family` (any family when undefined). */
export function nodeInternalIP(node: NodeAddressesView, family?: 4 | 6): string | undefined {
  for (const address of node.status?.addresses ?? []) {
    if (address.type !== "InternalIP") continue;
    if (family === undefined || familyOf(address.address) === family) return address.address;
  }
  return undefined;
}

/** Seeds: every other Node's InternalIP of the family of `self`, at `port`. */
export function seedsFromNodes(
  nodes: readonly NodeAddressesView[],
  selfName: string,
  self: MemberAddress,
): MemberAddress[] {
  const seeds: MemberAddress[] = [];
  for (const node of nodes) {
    if (node.metadata?.name === selfName) continue;
    const ip = nodeInternalIP(node, familyOf(self.ip));
    if (ip === undefined) continue;
    try {
      seeds.push(memberAddress(ip, self.port));
    } catch {
      // a malformed address on some Node: not a seed
    }
  }
  return seeds;
}

/**
 * Live speakers from membership for the nodes it knows, from Leases for the others (see the
 * file comment). Pure apart from the subscriptions.
 */
export function combinedLiveSet(
  members: ReadonlyMap<string, MemberView>,
  leaseLive: ReadonlySet<string>,
): Set<string> {
  const live = new Set<string>();
  for (const [name, view] of members) if (isLive(view.state)) live.add(name);
  for (const name of leaseLive) if (!members.has(name)) live.add(name);
  return live;
}

export interface SpeakerMembershipOptions {
  readonly node: string;
  readonly mode: MembershipMode;
  readonly port?: number;
  /** Listen address; default "::". */
  readonly bindAddress?: string;
  /** Address announced to the others; default the Node's InternalIP. */
  readonly advertiseAddress?: string;
  readonly keyDir?: string;
  readonly config?: Partial<MembershipConfig>;
  /** How long start() waits to hear from another member; default 2 s. */
  readonly joinTimeoutMs?: number;
  readonly logger?: Logger;
  readonly metrics?: MembershipMetrics;
  readonly clock?: Clock;
}

/** What the speaker's command line sets. */
export type SpeakerMembershipSettings = Omit<
  SpeakerMembershipOptions,
  "node" | "logger" | "metrics" | "clock"
>;

/**
 * The speaker's membership when the mode asks for it (undefined for "lease", and for "auto"
 * without key files). Throws SpeakerMembershipError for "swim" without keys and for bad keys.
 */
export async function createSpeakerMembership(
  options: SpeakerMembershipOptions,
  leases: LiveSpeakers,
): Promise<SpeakerMembership | undefined> {
  if (options.mode === "lease") return undefined;
  const keyDir = options.keyDir ?? DEFAULT_MEMBERSHIP_KEY_DIR;
  let keyring: Keyring | undefined;
  try {
    keyring = await readKeyringFromDirectory(keyDir);
  } catch (error) {
    throw new SpeakerMembershipError(
      `cannot use the membership key in ${keyDir}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (keyring === undefined) {
    if (options.mode === "swim") {
      throw new SpeakerMembershipError(
        `--membership=swim needs the key: no ${keyDir}/secretkey (mount the ironlb-memberlist Secret there)`,
      );
    }
    options.logger?.info({ keyDir }, "no membership key: speakers' liveness comes from Leases");
    return undefined;
  }
  return new SpeakerMembership(options, keyring, leases);
}

export class SpeakerMembership implements LiveSpeakers {
  private membership: Membership | undefined;
  private watcher: KeyringWatcher | undefined;
  private live: ReadonlySet<string>;
  private readonly listeners = new Set<(live: ReadonlySet<string>) => void>();
  private readonly refutationListeners = new Set<(accusation: string) => void>();
  private readonly clock: Clock;
  private self: MemberAddress | undefined;
  private stopped = false;

  constructor(
    private readonly options: SpeakerMembershipOptions,
    private keyring: Keyring,
    private readonly leases: LiveSpeakers,
  ) {
    this.clock = options.clock ?? systemClock;
    this.live = this.compute();
    leases.onChange(() => {
      this.recompute();
    });
  }

  current(): ReadonlySet<string> {
    return this.live;
  }

  onChange(callback: (live: ReadonlySet<string>) => void): () => void {
    this.listeners.add(callback);
    return () => this.listeners.delete(callback);
  }

  /**
   * Called each time this speaker refutes a suspicion or a death of itself: the others may have
   * taken over its addresses meanwhile.
   */
  onRefuted(callback: (accusation: string) => void): () => void {
    this.refutationListeners.add(callback);
    return () => this.refutationListeners.delete(callback);
  }

  /** Members as membership sees them (empty before start). */
  members(): Map<string, MemberView> {
    return this.membership?.members() ?? new Map<string, MemberView>();
  }

  /** True once started and not leaving (for readiness). */
  running(): boolean {
    return this.membership !== undefined && !this.stopped;
  }

  /**
   * Binds, joins through the other Nodes' addresses and waits a little to hear from one of
   * them. `nodes` is the synced Node cache; `signal` aborting ends the wait (leaving is the
   * caller's move: leave(), once this node has stopped answering).
   */
  async start(nodes: readonly NodeAddressesView[], signal: AbortSignal): Promise<void> {
    const { options } = this;
    const port = options.port ?? DEFAULT_MEMBERSHIP_PORT;
    const ownNode = nodes.find((n) => n.metadata?.name === options.node);
    const ip = options.advertiseAddress ?? (ownNode === undefined ? undefined : nodeInternalIP(ownNode));
    if (ip === undefined) {
      throw new SpeakerMembershipError(
        `cannot tell this node's address: Node ${options.node} has no InternalIP (pass --membership-advertise)`,
      );
    }
    const self = memberAddress(ip, port);
    this.self = self;
    const seeds = seedsFromNodes(nodes, options.node, self);
    const membership = new Membership({
      name: options.node,
      advertise: self,
      ...(options.bindAddress === undefined ? {} : { bindAddress: options.bindAddress }),
      seeds,
      keyring: this.keyring,
      ...(options.config === undefined ? {} : { config: options.config }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    });
    this.membership = membership;
    membership.onChange(() => {
      this.recompute();
    });
    membership.onRefuted((accusation) => {
      for (const listener of this.refutationListeners) listener(accusation);
    });
    await membership.start();
    this.recompute();
    this.watcher = new KeyringWatcher(
      {
        dir: options.keyDir ?? DEFAULT_MEMBERSHIP_KEY_DIR,
        clock: this.clock,
        ...(options.logger === undefined ? {} : { logger: options.logger }),
        onChange: (keyring) => {
          this.keyring = keyring;
          membership.setKeyring(keyring);
        },
      },
      this.keyring,
    );
    this.watcher.start();
    if (seeds.length > 0) await this.waitForPeer(options.joinTimeoutMs ?? 2000, signal);
  }

  /**
   * Nodes changed: new seeds (an unknown one is contacted at once). When this node's own Node
   * object is gone, the speaker leaves: the others stop counting it at once.
   */
  updateNodes(nodes: readonly NodeAddressesView[]): void {
    if (this.membership === undefined || this.self === undefined || this.stopped) return;
    if (!nodes.some((n) => n.metadata?.name === this.options.node)) {
      this.options.logger?.warn(
        { node: this.options.node },
        "this node's Node object was deleted: leaving the membership",
      );
      void this.leave().then(() => {
        this.recompute();
      });
      return;
    }
    this.membership.setSeeds(seedsFromNodes(nodes, this.options.node, this.self));
  }

  /** Graceful leave (the others drop this node at once), then stop. */
  async leave(): Promise<void> {
    this.stopped = true;
    this.watcher?.stop();
    await this.membership?.leave();
  }

  private async waitForPeer(timeoutMs: number, signal: AbortSignal): Promise<void> {
    const membership = this.membership;
    if (membership === undefined || membership.alive().size > 1) return;
    // Ends the wait when a peer appears or the speaker stops (a linked signal, not
    // AbortSignal.any, which Node 20 keeps alive with the long-lived parent).
    const done = new AbortController();
    const onStop = (): void => {
      done.abort();
    };
    signal.addEventListener("abort", onStop, { once: true });
    const unsubscribe = membership.onChange((live) => {
      if (live.size > 1) done.abort();
    });
    const timedOut = await sleep(this.clock, timeoutMs, done.signal);
    unsubscribe();
    signal.removeEventListener("abort", onStop);
    if (timedOut) this.options.logger?.info({ timeoutMs }, "no other speaker answered yet; starting alone");
  }

  private compute(): Set<string> {
    const members = this.membership?.members() ?? new Map<string, MemberView>();
    const live = combinedLiveSet(members, this.leases.current());
    live.add(this.options.node);
    if (this.stopped) live.delete(this.options.node);
    return live;
  }

  private recompute(): void {
    const next = this.compute();
    if (sameNodeSet(next, this.live)) return;
    this.live = next;
    for (const listener of [...this.listeners]) {
      try {
        listener(next);
      } catch (error) {
        this.options.logger?.error({ err: error }, "live speakers listener failed");
      }
    }
  }
}
