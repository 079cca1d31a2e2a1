/**
 * The Adj-RIB-Out: what IronLB advertises to one peer, keyed by prefix. Changes are computed as a
 * diff between the last table sent and the wanted one, so a Service change costs UPDATEs for the
 * prefixes it touches only, never a full re-announcement.
 */
import { formatCIDR, type CIDR, type IPAddr } from "../net/ip.js";
import type { LargeCommunity } from "./codec/attributes.js";
import { Origin, type OriginCode } from "./codec/constants.js";

/** The attributes IronLB sets on a route it originates. */
export interface RouteAttributes {
  readonly origin: OriginCode;
  /** A single AS_SEQUENCE: empty towards iBGP peers, [local AS] towards eBGP peers. */
  readonly asPath: readonly number[];
  /** Of the prefix's family. */
  readonly nextHop: IPAddr;
  /** IPv6 only: a link-local next hop sent after the global one (RFC 2545). */
  readonly nextHopLinkLocal?: IPAddr;
  readonly med?: number;
  /** iBGP only. */
  readonly localPref?: number;
  /** RFC 1997 values, sorted and without duplicates (see canonicalAttributes). */
  readonly communities: readonly number[];
  readonly largeCommunities: readonly LargeCommunity[];
}

export interface Route {
  readonly prefix: CIDR;
  readonly attributes: RouteAttributes;
}

export type AdjRibOut = ReadonlyMap<string, Route>;

export interface RibDiff {
  /** Routes that are new or whose attributes changed. */
  readonly announce: readonly Route[];
  /** Prefixes no longer advertised. */
  readonly withdraw: readonly CIDR[];
}

export const EMPTY_RIB: AdjRibOut = new Map();

export function prefixKey(prefix: CIDR): string {
  return formatCIDR(prefix);
}

function compareLarge(a: LargeCommunity, b: LargeCommunity): number {
  return a.globalAdmin - b.globalAdmin || a.localData1 - b.localData1 || a.localData2 - b.localData2;
}

/** Communities are sets: sorted and de-duplicated, so equal sets compare and encode equal. */
export function canonicalAttributes(a: RouteAttributes): RouteAttributes {
  const communities = [...new Set(a.communities.map((c) => c >>> 0))].sort((x, y) => x - y);
  const large: LargeCommunity[] = [];
  for (const c of [...a.largeCommunities].sort(compareLarge)) {
    const last = large.at(-1);
    if (last === undefined || compareLarge(last, c) !== 0) large.push(c);
  }
  return { ...a, communities, largeCommunities: large };
}

const keyCache = new WeakMap<RouteAttributes, string>();

/** A string equal for two attribute sets exactly when they encode the same (cached per object). */
export function attributesKey(a: RouteAttributes): string {
  const cached = keyCache.get(a);
  if (cached !== undefined) return cached;
  const key = computeAttributesKey(a);
  keyCache.set(a, key);
  return key;
}

function computeAttributesKey(a: RouteAttributes): string {
  const c = canonicalAttributes(a);
  return [
    c.origin,
    c.asPath.join(" "),
    `${c.nextHop.family}:${c.nextHop.value}`,
    c.nextHopLinkLocal === undefined ? "" : String(c.nextHopLinkLocal.value),
    c.med ?? "",
    c.localPref ?? "",
    c.communities.join(","),
    c.largeCommunities.map((l) => `${l.globalAdmin}:${l.localData1}:${l.localData2}`).join(","),
  ].join("|");
}

/** Builds a table from routes; a later route for the same prefix replaces an earlier one. */
export function buildAdjRibOut(routes: Iterable<Route>): AdjRibOut {
  const rib = new Map<string, Route>();
  for (const r of routes)
    rib.set(prefixKey(r.prefix), { prefix: r.prefix, attributes: canonicalAttributes(r.attributes) });
  return rib;
}

export function diffAdjRibOut(prev: AdjRibOut, next: AdjRibOut): RibDiff {
  const announce: Route[] = [];
  const withdraw: CIDR[] = [];
  for (const [key, route] of next) {
    const old = prev.get(key);
    if (old === undefined || attributesKey(old.attributes) !== attributesKey(route.attributes))
      announce.push(route);
  }
  for (const [key, route] of prev) if (!next.has(key)) withdraw.push(route.prefix);
  return { announce, withdraw };
}

export function applyRibDiff(rib: AdjRibOut, diff: RibDiff): AdjRibOut {
  const out = new Map(rib);
  for (const p of diff.withdraw) out.delete(prefixKey(p));
  for (const r of diff.announce) out.set(prefixKey(r.prefix), r);
  return out;
}

/** A full announcement of a table (the initial one after Established, or a ROUTE-REFRESH answer). */
export function fullAnnouncement(rib: AdjRibOut): RibDiff {
  return { announce: [...rib.values()], withdraw: [] };
}

// ---------------------------------------------------------------------------------------------
// From what to advertise to what to send one peer

/** What the announcement logic wants advertised for one prefix, before peer-specific rules. */
export interface Advertisement {
  readonly prefix: CIDR;
  readonly localPref?: number;
  readonly communities?: readonly number[];
  readonly largeCommunities?: readonly LargeCommunity[];
}

export interface PeerRouteContext {
  readonly localAs: number;
  readonly peerAs: number;
  /** Our address on the session's family, or configured next hops per family. */
  readonly nextHopIPv4?: IPAddr;
  readonly nextHopIPv6?: IPAddr;
  readonly nextHopIPv6LinkLocal?: IPAddr;
}

/** RFC 4271 5.1.5: LOCAL_PREF is always sent to internal peers; this is the common default. */
export const DEFAULT_LOCAL_PREF = 100;

/**
 * The route one peer receives for an advertisement: iBGP gets an empty AS_PATH and LOCAL_PREF,
 * eBGP gets [local AS] and no LOCAL_PREF. Undefined when there is no next hop for the family.
 */
export function routeForPeer(adv: Advertisement, peer: PeerRouteContext): Route | undefined {
  const internal = peer.localAs === peer.peerAs;
  const nextHop = adv.prefix.family === "IPv4" ? peer.nextHopIPv4 : peer.nextHopIPv6;
  if (nextHop?.family !== adv.prefix.family) return undefined;
  const linkLocal = adv.prefix.family === "IPv6" ? peer.nextHopIPv6LinkLocal : undefined;
  const attributes: RouteAttributes = {
    origin: Origin.Igp,
    asPath: internal ? [] : [peer.localAs],
    nextHop,
    ...(linkLocal === undefined ? {} : { nextHopLinkLocal: linkLocal }),
    ...(internal ? { localPref: adv.localPref ?? DEFAULT_LOCAL_PREF } : {}),
    communities: adv.communities ?? [],
    largeCommunities: adv.largeCommunities ?? [],
  };
  return { prefix: adv.prefix, attributes: canonicalAttributes(attributes) };
}

export interface PeerRib {
  readonly rib: AdjRibOut;
  /** Prefixes left out because the session has no next hop of their family. */
  readonly skipped: readonly CIDR[];
}

/**
 * The Adj-RIB-Out for one peer. Several advertisements of one prefix (from several
 * BGPAdvertisements) merge: communities are united and the highest LOCAL_PREF wins.
 */
export function adjRibOutForPeer(ads: Iterable<Advertisement>, peer: PeerRouteContext): PeerRib {
  const merged = new Map<string, Advertisement>();
  for (const ad of ads) {
    const key = prefixKey(ad.prefix);
    const prev = merged.get(key);
    if (prev === undefined) {
      merged.set(key, ad);
      continue;
    }
    const localPref =
      prev.localPref === undefined
        ? ad.localPref
        : ad.localPref === undefined
          ? prev.localPref
          : Math.max(prev.localPref, ad.localPref);
    merged.set(key, {
      prefix: ad.prefix,
      ...(localPref === undefined ? {} : { localPref }),
      communities: [...(prev.communities ?? []), ...(ad.communities ?? [])],
      largeCommunities: [...(prev.largeCommunities ?? []), ...(ad.largeCommunities ?? [])],
    });
  }
  const rib = new Map<string, Route>();
  const skipped: CIDR[] = [];
  for (const [key, ad] of merged) {
    const route = routeForPeer(ad, peer);
    if (route === undefined) skipped.push(ad.prefix);
    else rib.set(key, route);
  }
  return { rib, skipped };
}
