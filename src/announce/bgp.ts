/**
 * BGP: which prefixes each node advertises to each of its peers, with which attributes.
 *
 * Every BGPAdvertisement covering an address's pool contributes, on the nodes it selects that are
 * not excluded, have a session with one of its peers and pass the endpoint rule (Local: a ready,
 * else serving, local endpoint; Cluster: any usable endpoint anywhere). A contribution is the
 * address masked to the advertisement's aggregation length, sent to the advertisement's peers
 * (empty: all) among the node's sessions. Contributions to one prefix and peer merge: communities
 * are united, the highest LOCAL_PREF wins, and LOCAL_PREF is dropped towards eBGP peers. A prefix
 * therefore stays while any Service address behind it is announced and goes with the last one.
 *
 * The per-peer lists are `Advertisement`s of src/bgp/adjRibOut: feed them to adjRibOutForPeer
 * and diff against the table last sent (diffAdjRibOut) for minimal UPDATEs.
 */
import type { BGPAdvertisementConfig, BGPPeerConfig, IronLBConfig } from "../api/configTypes.js";
import type { BGPCommunity } from "../api/community.js";
import { matchesAnySelector, type Labels } from "../api/labelSelector.js";
import { poolsOf } from "../api/selection.js";
import type { Advertisement } from "../bgp/adjRibOut.js";
import type { LargeCommunity } from "../bgp/codec/attributes.js";
import { FAMILY_BITS, formatCIDR, formatIP, type CIDR, type IPAddr } from "../net/ip.js";
import {
  compareAddresses,
  compareText,
  finalNodes,
  nodeHasEndpoints,
  nodesWithEndpoints,
  noEligibleNodeReason,
  resolveService,
  stageNodes,
  unionStages,
  type ServiceAddress,
  type StagedNodes,
} from "./eligibility.js";
import { poolIndexFor } from "./poolIndex.js";
import type { IPNotAnnouncedReason, ServiceSkipReason } from "./reasons.js";
import {
  nodeExclusion,
  type AnnouncementSnapshot,
  type NodeSnapshot,
  type ServiceSnapshot,
} from "./snapshot.js";

/** One prefix to one peer: an adj-rib-out Advertisement plus where it came from. */
export interface BGPPrefixAdvertisement extends Advertisement {
  readonly prefix: CIDR;
  /** Only towards iBGP peers, and only when an advertisement sets it. */
  readonly localPref?: number;
  /** RFC 1997 values, sorted, without duplicates. */
  readonly communities: readonly number[];
  /** Sorted, without duplicates. */
  readonly largeCommunities: readonly LargeCommunity[];
  /** Service addresses behind the prefix (canonical, sorted numerically). */
  readonly ips: readonly string[];
  /** Keys of the Services behind the prefix, sorted. */
  readonly services: readonly string[];
  /** BGPAdvertisements contributing, sorted by name. */
  readonly bgpAdvertisements: readonly string[];
}

export interface BGPPeerPlan {
  /** BGPPeer name. */
  readonly peer: string;
  readonly sessionType: BGPPeerConfig["sessionType"];
  /** Sorted by family, address, length; empty: withdraw everything from this peer. */
  readonly advertisements: readonly BGPPrefixAdvertisement[];
}

export interface BGPNodePlan {
  readonly node: string;
  /** One per session the node opens (BGPPeer.nodeSelectors), sorted by peer name. */
  readonly peers: readonly BGPPeerPlan[];
}

export type BGPAddressOutcome =
  | {
      readonly kind: "announced";
      readonly ip: string;
      /** Nodes advertising it to at least one peer, sorted. */
      readonly nodes: readonly string[];
      /** The prefixes it is advertised in ("198.51.100.0/24"), sorted. */
      readonly prefixes: readonly string[];
    }
  | { readonly kind: "notAnnounced"; readonly ip: string; readonly reason: IPNotAnnouncedReason };

export type BGPServiceResult =
  | { readonly key: string; readonly considered: false; readonly reason: ServiceSkipReason }
  | { readonly key: string; readonly considered: true; readonly addresses: readonly BGPAddressOutcome[] };

export interface BGPDecision {
  /** Every node of the snapshot, in name order. */
  readonly nodes: ReadonlyMap<string, BGPNodePlan>;
  /** Every Service of the snapshot, in key order. */
  readonly services: ReadonlyMap<string, BGPServiceResult>;
}

/** The BGPPeers a node opens sessions with (its labels match the peer's nodeSelectors), by name. */
export function sessionsForNode(
  config: Pick<IronLBConfig, "bgpPeers">,
  node: { readonly labels: Labels },
): BGPPeerConfig[] {
  return config.bgpPeers
    .filter((p) => matchesAnySelector(p.nodeSelectors, node.labels))
    .sort((a, b) => compareText(a.name, b.name));
}

/** The prefix an advertisement announces for an address: the address masked to its aggregation length. */
export function aggregatedPrefix(
  addr: IPAddr,
  ad: Pick<BGPAdvertisementConfig, "aggregationLength" | "aggregationLengthV6">,
): CIDR {
  const bits = FAMILY_BITS[addr.family];
  const length = addr.family === "IPv4" ? ad.aggregationLength : ad.aggregationLengthV6;
  const prefixLength = Math.max(0, Math.min(bits, length));
  const hostMask = (1n << BigInt(bits - prefixLength)) - 1n;
  return { family: addr.family, address: addr.value & ~hostMask, prefixLength };
}

export function standardCommunityValue(c: Extract<BGPCommunity, { kind: "standard" }>): number {
  return c.asn16 * 0x10000 + c.value16;
}

// ---------------------------------------------------------------------------------------------
// Shared precomputation

class BGPContext {
  readonly nodes: readonly NodeSnapshot[];
  readonly sessions: ReadonlyMap<string, readonly BGPPeerConfig[]>;
  private readonly adsByPool = new Map<string, BGPAdvertisementConfig[]>();
  private readonly stagedByAd = new Map<BGPAdvertisementConfig, StagedNodes>();

  constructor(readonly snapshot: AnnouncementSnapshot) {
    this.nodes = [...snapshot.nodes].sort((a, b) => compareText(a.name, b.name));
    this.sessions = new Map(this.nodes.map((n) => [n.name, sessionsForNode(snapshot.config, n)]));
    for (const ad of snapshot.config.bgpAdvertisements) {
      for (const pool of poolsOf(ad, snapshot.config)) {
        let list = this.adsByPool.get(pool.name);
        if (list === undefined) this.adsByPool.set(pool.name, (list = []));
        list.push(ad);
      }
    }
  }

  advertisements(pool: string): readonly BGPAdvertisementConfig[] {
    return this.adsByPool.get(pool) ?? [];
  }

  /** The peers of `ad` that `node` has sessions with. */
  targetPeers(ad: BGPAdvertisementConfig, node: string): readonly BGPPeerConfig[] {
    const sessions = this.sessions.get(node) ?? [];
    return ad.peers.length === 0 ? sessions : sessions.filter((p) => ad.peers.includes(p.name));
  }

  staged(ad: BGPAdvertisementConfig): StagedNodes {
    let staged = this.stagedByAd.get(ad);
    if (staged === undefined) {
      staged = stageNodes(this.nodes, [
        { stage: "nodeSelectors", keep: (n) => matchesAnySelector(ad.nodeSelectors, n.labels) },
        { stage: "exclusion", keep: (n) => nodeExclusion(n) === undefined },
        { stage: "peerSession", keep: (n) => this.targetPeers(ad, n.name).length > 0 },
      ]);
      this.stagedByAd.set(ad, staged);
    }
    return staged;
  }
}

/** One BGPAdvertisement's share in announcing one Service address: the same on every node. */
interface Contribution {
  readonly prefix: CIDR;
  /** formatCIDR(prefix). */
  readonly key: string;
  readonly service: ServiceSnapshot;
  readonly address: ServiceAddress;
  readonly ad: BGPAdvertisementConfig;
}

function contribution(
  service: ServiceSnapshot,
  address: ServiceAddress,
  ad: BGPAdvertisementConfig,
): Contribution {
  const prefix = aggregatedPrefix(address.addr, ad);
  return { prefix, key: formatCIDR(prefix), service, address, ad };
}

/** Builds one node's per-peer tables from contributions. */
class NodePlanBuilder {
  /** Per peer, the contributions to each prefix (merged only when the plan is built). */
  private readonly byPeer = new Map<string, Map<string, Contribution[]>>();
  private readonly peersOfAd = new Map<BGPAdvertisementConfig, readonly BGPPeerConfig[]>();

  constructor(
    private readonly ctx: BGPContext,
    readonly node: string,
  ) {}

  add(c: Contribution): void {
    let peers = this.peersOfAd.get(c.ad);
    if (peers === undefined) this.peersOfAd.set(c.ad, (peers = this.ctx.targetPeers(c.ad, this.node)));
    for (const peer of peers) {
      let table = this.byPeer.get(peer.name);
      if (table === undefined) this.byPeer.set(peer.name, (table = new Map<string, Contribution[]>()));
      const list = table.get(c.key);
      if (list === undefined) table.set(c.key, [c]);
      else list.push(c);
    }
  }

  build(): BGPNodePlan {
    const peers = (this.ctx.sessions.get(this.node) ?? []).map((peer) => ({
      peer: peer.name,
      sessionType: peer.sessionType,
      advertisements: [...(this.byPeer.get(peer.name)?.values() ?? [])]
        .map((list) => merge(list, peer.sessionType === "ibgp"))
        .sort((a, b) => comparePrefixes(a.prefix, b.prefix)),
    }));
    return { node: this.node, peers };
  }
}

/** The common case, one contribution: the same result as merge without building sets. */
function single({ prefix, ad, address, service }: Contribution, internal: boolean): BGPPrefixAdvertisement {
  const standard = ad.communities.flatMap((c) => (c.kind === "standard" ? [standardCommunityValue(c)] : []));
  const large = ad.communities.flatMap((c) =>
    c.kind === "large" ? [{ globalAdmin: c.global, localData1: c.local1, localData2: c.local2 }] : [],
  );
  return {
    prefix,
    ...(internal && ad.localPref !== undefined ? { localPref: ad.localPref } : {}),
    // Validation removes duplicate communities, so sorting is all that is left to do.
    communities: standard.sort((a, b) => a - b),
    largeCommunities: large.sort(compareLarge),
    ips: [address.ip],
    services: [service.key],
    bgpAdvertisements: [ad.name],
  };
}

const compareLarge = (a: LargeCommunity, b: LargeCommunity): number =>
  a.globalAdmin - b.globalAdmin || a.localData1 - b.localData1 || a.localData2 - b.localData2;

/** The advertisement of one prefix to one peer from every contribution to it (at least one). */
function merge(list: readonly Contribution[], internal: boolean): BGPPrefixAdvertisement {
  const [first, ...rest] = list;
  if (first === undefined) throw new RangeError("merge needs at least one contribution");
  if (rest.length === 0) return single(first, internal);
  let localPref: number | undefined;
  const communities = new Set<number>();
  const large = new Map<string, LargeCommunity>();
  const ips = new Map<string, IPAddr>();
  const services = new Set<string>();
  const ads = new Set<string>();
  for (const { ad, address, service } of list) {
    if (internal && ad.localPref !== undefined) localPref = Math.max(localPref ?? 0, ad.localPref);
    for (const c of ad.communities) {
      if (c.kind === "standard") communities.add(standardCommunityValue(c));
      else
        large.set(`${String(c.global)}:${String(c.local1)}:${String(c.local2)}`, {
          globalAdmin: c.global,
          localData1: c.local1,
          localData2: c.local2,
        });
    }
    ips.set(address.ip, address.addr);
    services.add(service.key);
    ads.add(ad.name);
  }
  return {
    prefix: first.prefix,
    ...(localPref === undefined ? {} : { localPref }),
    communities: [...communities].sort((a, b) => a - b),
    largeCommunities: [...large.values()].sort(compareLarge),
    ips: [...ips.values()].sort(compareAddresses).map(formatIP),
    services: [...services].sort(compareText),
    bgpAdvertisements: [...ads].sort(compareText),
  };
}

export function comparePrefixes(a: CIDR, b: CIDR): number {
  if (a.family !== b.family) return a.family === "IPv4" ? -1 : 1;
  if (a.address !== b.address) return a.address < b.address ? -1 : 1;
  return a.prefixLength - b.prefixLength;
}

// ---------------------------------------------------------------------------------------------
// Decisions

function orderedServices(snapshot: AnnouncementSnapshot): ServiceSnapshot[] {
  return [...snapshot.services].sort((a, b) => compareText(a.key, b.key));
}

/** Every node's plan and every Service's outcome (what `ironlb doctor` and status objects show). */
export function decideBGP(snapshot: AnnouncementSnapshot): BGPDecision {
  const ctx = new BGPContext(snapshot);
  const pools = poolIndexFor(snapshot.config);
  const builders = new Map(ctx.nodes.map((n) => [n.name, new NodePlanBuilder(ctx, n.name)]));
  const services = new Map<string, BGPServiceResult>();

  for (const service of orderedServices(snapshot)) {
    const resolution = resolveService(service, pools);
    if (!resolution.considered) {
      services.set(service.key, { key: service.key, considered: false, reason: resolution.reason });
      continue;
    }
    const addresses = resolution.addresses.map((r): BGPAddressOutcome => {
      if (!r.ok) return { kind: "notAnnounced", ip: r.ip, reason: r.reason };
      const { address } = r;
      const ads = ctx.advertisements(address.pool.name);
      if (ads.length === 0) {
        return {
          kind: "notAnnounced",
          ip: address.ip,
          reason: { code: "noAdvertisement", pool: address.pool.name },
        };
      }
      const nodes = new Set<string>();
      const prefixes = new Map<string, CIDR>();
      for (const ad of ads) {
        const eligible = nodesWithEndpoints(service, finalNodes(ctx.staged(ad)));
        if (eligible.length === 0) continue;
        const c = contribution(service, address, ad);
        prefixes.set(c.key, c.prefix);
        for (const node of eligible) {
          builders.get(node)?.add(c);
          nodes.add(node);
        }
      }
      if (nodes.size === 0) {
        const staged = unionStages(ads.map((ad) => ctx.staged(ad)));
        const names = ads.map((a) => a.name);
        const reason = noEligibleNodeReason(service, address.pool.name, names, ctx.nodes.length, staged, []);
        return { kind: "notAnnounced", ip: address.ip, reason };
      }
      return {
        kind: "announced",
        ip: address.ip,
        nodes: [...nodes].sort(compareText),
        prefixes: [...prefixes.values()].sort(comparePrefixes).map(formatCIDR),
      };
    });
    services.set(service.key, { key: service.key, considered: true, addresses });
  }

  const nodes = new Map([...builders].map(([name, b]) => [name, b.build()]));
  return { nodes, services };
}

/**
 * One node's plan without deciding for every other node: what a speaker computes for itself.
 * Equal to decideBGP(snapshot).nodes.get(node); a node missing from the snapshot opens no session.
 */
export function bgpPlanForNode(snapshot: AnnouncementSnapshot, node: string): BGPNodePlan {
  const ctx = new BGPContext(snapshot);
  if (!ctx.sessions.has(node)) return { node, peers: [] };
  const pools = poolIndexFor(snapshot.config);
  const builder = new NodePlanBuilder(ctx, node);
  for (const service of orderedServices(snapshot)) {
    const resolution = resolveService(service, pools);
    if (!resolution.considered) continue;
    for (const r of resolution.addresses) {
      if (!r.ok) continue;
      for (const ad of ctx.advertisements(r.address.pool.name)) {
        if (nodeHasEndpoints(service, finalNodes(ctx.staged(ad)), node)) {
          builder.add(contribution(service, r.address, ad));
        }
      }
    }
  }
  return builder.build();
}
