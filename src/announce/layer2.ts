/**
 * Layer 2: which one node answers ARP/NDP for each Service address, and on which interfaces.
 *
 * For each address the candidates are the nodes that an L2Advertisement covering the address's
 * pool selects, that are not excluded and whose speaker is alive, narrowed by the Service's
 * endpoints (see nodesWithEndpoints). The winner is chosen by rendezvous hashing of (node, the
 * Service's first address): Services sharing an address land together, a dual-stack Service's
 * two addresses land on one node, Services spread evenly, and losing a node moves only what it
 * announced. The answer depends on the snapshot's content only, never on its order, so every
 * speaker reaches the same one.
 */
import type { L2AdvertisementConfig } from "../api/configTypes.js";
import { matchesAnySelector } from "../api/labelSelector.js";
import { poolsOf } from "../api/selection.js";
import type { IPFamily } from "../net/ip.js";
import {
  compareAddresses,
  compareText,
  finalNodes,
  nodesWithEndpoints,
  noEligibleNodeReason,
  resolveService,
  serviceHashKey,
  stageNodes,
  unionStages,
  type ServiceAddress,
  type StagedNodes,
} from "./eligibility.js";
import { rendezvousWinner } from "./hash.js";
import { poolIndexFor } from "./poolIndex.js";
import type { IPNotAnnouncedReason, ServiceSkipReason } from "./reasons.js";
import { nodeExclusion, type AnnouncementSnapshot, type NodeSnapshot } from "./snapshot.js";

export interface L2Announcement {
  /** Canonical text. */
  readonly ip: string;
  readonly family: IPFamily;
  readonly node: string;
  /** Interfaces to answer on, sorted; empty: every eligible interface (the speaker decides). */
  readonly interfaces: readonly string[];
  readonly pool: string;
  /** L2Advertisements covering the pool that select the node, sorted by name. */
  readonly advertisements: readonly string[];
  /** Keys of the Services reached through this address, sorted. */
  readonly services: readonly string[];
  /** The nodes the winner was chosen among, sorted. */
  readonly candidates: readonly string[];
}

export type L2AddressOutcome =
  | {
      readonly kind: "announced";
      readonly ip: string;
      readonly node: string;
      readonly interfaces: readonly string[];
      /**
       * False when the announcing node is not one this Service would have picked: the address is
       * shared with Services that disagree on eligible nodes (e.g. Local policy, endpoints elsewhere).
       */
      readonly nodeEligibleForService: boolean;
    }
  | { readonly kind: "notAnnounced"; readonly ip: string; readonly reason: IPNotAnnouncedReason };

export type L2ServiceResult =
  | { readonly key: string; readonly considered: false; readonly reason: ServiceSkipReason }
  | { readonly key: string; readonly considered: true; readonly addresses: readonly L2AddressOutcome[] };

export interface Layer2Decision {
  /** One per announced address, sorted by family then address. */
  readonly announcements: readonly L2Announcement[];
  /** What each node announces (nodes announcing nothing are absent). */
  readonly byNode: ReadonlyMap<string, readonly L2Announcement[]>;
  /** Every Service of the snapshot, by key, in key order. */
  readonly services: ReadonlyMap<string, L2ServiceResult>;
}

/** What one Service contributes to one address before holders of the address are reconciled. */
interface Holder {
  readonly service: string;
  readonly hashKey: string;
  readonly address: ServiceAddress;
  readonly eligible: readonly string[];
  readonly reason: IPNotAnnouncedReason | undefined;
  /** The pool's advertisements whose serviceSelectors accept this Service. */
  readonly ads: readonly L2AdvertisementConfig[];
}

function sortedNodes(nodes: readonly NodeSnapshot[]): NodeSnapshot[] {
  return [...nodes].sort((a, b) => compareText(a.name, b.name));
}

/** Per pool: the L2Advertisements covering it and the nodes each filter leaves. */
class PoolCoverage {
  private readonly adsByPool = new Map<string, L2AdvertisementConfig[]>();
  private readonly stagedByPool = new Map<string, StagedNodes>();
  private readonly stagedByAd = new Map<L2AdvertisementConfig, StagedNodes>();

  constructor(
    private readonly snapshot: AnnouncementSnapshot,
    private readonly nodes: readonly NodeSnapshot[],
  ) {
    for (const ad of snapshot.config.l2Advertisements) {
      for (const pool of poolsOf(ad, snapshot.config)) {
        let list = this.adsByPool.get(pool.name);
        if (list === undefined) this.adsByPool.set(pool.name, (list = []));
        list.push(ad);
      }
    }
  }

  advertisements(pool: string): readonly L2AdvertisementConfig[] {
    return this.adsByPool.get(pool) ?? [];
  }

  /** Nodes staged for a subset of a pool's advertisements (those a Service's labels select). */
  stagedForAds(pool: string, ads: readonly L2AdvertisementConfig[]): StagedNodes {
    if (ads.length === this.advertisements(pool).length) return this.staged(pool);
    return unionStages(ads.map((ad) => this.stagedFor(ad)));
  }

  staged(pool: string): StagedNodes {
    let staged = this.stagedByPool.get(pool);
    if (staged === undefined) {
      staged = unionStages(this.advertisements(pool).map((ad) => this.stagedFor(ad)));
      this.stagedByPool.set(pool, staged);
    }
    return staged;
  }

  private stagedFor(ad: L2AdvertisementConfig): StagedNodes {
    let staged = this.stagedByAd.get(ad);
    if (staged === undefined) {
      const live = this.snapshot.liveSpeakers;
      staged = stageNodes(this.nodes, [
        { stage: "nodeSelectors", keep: (n) => matchesAnySelector(ad.nodeSelectors, n.labels) },
        { stage: "exclusion", keep: (n) => nodeExclusion(n) === undefined },
        { stage: "liveSpeaker", keep: (n) => live.has(n.name) },
      ]);
      this.stagedByAd.set(ad, staged);
    }
    return staged;
  }
}

/** Interfaces the winner answers on: the union over advertisements selecting it; any unrestricted one means all. */
function interfacesFor(ads: readonly L2AdvertisementConfig[]): string[] {
  if (ads.some((ad) => ad.interfaces.length === 0)) return [];
  return [...new Set(ads.flatMap((ad) => ad.interfaces))].sort();
}

/** The nodes to pick among when several Services hold one address: those all of them accept, else any. */
function candidatesForAddress(holders: readonly Holder[]): readonly string[] {
  const [first, ...rest] = holders;
  if (first === undefined) return [];
  if (rest.length === 0) return first.eligible;
  const common = first.eligible.filter((n) => rest.every((h) => h.eligible.includes(n)));
  if (common.length > 0) return common;
  return [...new Set(holders.flatMap((h) => h.eligible))].sort();
}

export function decideLayer2(snapshot: AnnouncementSnapshot): Layer2Decision {
  const nodes = sortedNodes(snapshot.nodes);
  const nodesByName = new Map(nodes.map((n) => [n.name, n]));
  const coverage = new PoolCoverage(snapshot, nodes);
  const pools = poolIndexFor(snapshot.config);

  const resolutions = new Map<string, ReturnType<typeof resolveService>>();
  const holdersByIP = new Map<string, Holder[]>();
  const outcomes = new Map<string, Map<string, L2AddressOutcome>>();
  const setOutcome = (service: string, ip: string, o: L2AddressOutcome): void => {
    let m = outcomes.get(service);
    if (m === undefined) outcomes.set(service, (m = new Map<string, L2AddressOutcome>()));
    m.set(ip, o);
  };

  const ordered = [...snapshot.services].sort((a, b) => compareText(a.key, b.key));
  for (const service of ordered) {
    const resolution = resolveService(service, pools);
    resolutions.set(service.key, resolution);
    if (!resolution.considered) continue;
    const hashKey = serviceHashKey(service) ?? "";
    for (const r of resolution.addresses) {
      if (!r.ok) {
        setOutcome(service.key, r.ip, { kind: "notAnnounced", ip: r.ip, reason: r.reason });
        continue;
      }
      const { address } = r;
      const ads = coverage
        .advertisements(address.pool.name)
        .filter((ad) => matchesAnySelector(ad.serviceSelectors, service.labels));
      if (ads.length === 0) {
        const reason = { code: "noAdvertisement", pool: address.pool.name } as const;
        setOutcome(service.key, address.ip, { kind: "notAnnounced", ip: address.ip, reason });
        continue;
      }
      const staged = coverage.stagedForAds(address.pool.name, ads);
      const eligible = nodesWithEndpoints(service, finalNodes(staged));
      const reason =
        eligible.length > 0
          ? undefined
          : noEligibleNodeReason(
              service,
              address.pool.name,
              ads.map((a) => a.name),
              nodes.length,
              staged,
              eligible,
            );
      let holders = holdersByIP.get(address.ip);
      if (holders === undefined) holdersByIP.set(address.ip, (holders = []));
      holders.push({ service: service.key, hashKey, address, eligible, reason, ads });
    }
  }

  const announced: { announcement: L2Announcement; address: ServiceAddress }[] = [];
  for (const [ip, holders] of holdersByIP) {
    const withNodes = holders.filter((h) => h.eligible.length > 0);
    const candidates = candidatesForAddress(withNodes);
    // The smallest first-address among the holders: every holder's own key when they agree.
    const hashKey = withNodes.map((h) => h.hashKey).sort(compareText)[0] ?? ip;
    const node = rendezvousWinner(candidates, hashKey);
    const first = holders[0];
    if (node === undefined || first === undefined) {
      for (const h of holders) {
        if (h.reason !== undefined) setOutcome(h.service, ip, { kind: "notAnnounced", ip, reason: h.reason });
      }
      continue;
    }
    const labels = nodesByName.get(node)?.labels ?? {};
    const pool = first.address.pool.name;
    const selecting = [...new Set(holders.flatMap((h) => h.ads))].filter((ad) =>
      matchesAnySelector(ad.nodeSelectors, labels),
    );
    const interfaces = interfacesFor(selecting);
    announced.push({
      address: first.address,
      announcement: {
        ip,
        family: first.address.addr.family,
        node,
        interfaces,
        pool,
        advertisements: selecting.map((a) => a.name).sort(compareText),
        services: [...new Set(holders.map((h) => h.service))].sort(compareText),
        candidates,
      },
    });
    for (const h of holders) {
      const nodeEligibleForService = h.eligible.includes(node);
      setOutcome(h.service, ip, { kind: "announced", ip, node, interfaces, nodeEligibleForService });
    }
  }

  // Results in key order, each Service's outcomes in the order of its addresses.
  const services = new Map<string, L2ServiceResult>();
  for (const service of ordered) {
    const resolution = resolutions.get(service.key);
    if (resolution === undefined || services.has(service.key)) continue;
    if (!resolution.considered) {
      services.set(service.key, { key: service.key, considered: false, reason: resolution.reason });
      continue;
    }
    const mine = outcomes.get(service.key);
    const addresses = resolution.addresses.flatMap((r) => {
      const o = mine?.get(r.ok ? r.address.ip : r.ip);
      return o === undefined ? [] : [o];
    });
    services.set(service.key, { key: service.key, considered: true, addresses });
  }

  announced.sort((a, b) => compareAddresses(a.address.addr, b.address.addr));
  const announcements = announced.map((a) => a.announcement);
  const byNode = new Map<string, L2Announcement[]>();
  for (const a of announcements) {
    let list = byNode.get(a.node);
    if (list === undefined) byNode.set(a.node, (list = []));
    list.push(a);
  }
  return { announcements, byNode, services };
}

/** What `node` announces: the slice of the decision its speaker acts on. */
export function layer2ForNode(decision: Layer2Decision, node: string): readonly L2Announcement[] {
  return decision.byNode.get(node) ?? [];
}
