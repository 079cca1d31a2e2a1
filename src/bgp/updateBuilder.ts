/**
 * Turns an Adj-RIB-Out diff into UPDATE messages: prefixes with identical attributes share one
 * UPDATE, each message stays within the 4096-byte limit (split when needed), IPv4 rides in the
 * classic NLRI/withdrawn fields and IPv6 in MP_REACH_NLRI/MP_UNREACH_NLRI.
 */
import type { CIDR } from "../net/ip.js";
import { attributesKey, type RibDiff, type Route, type RouteAttributes } from "./adjRibOut.js";
import { encodePathAttributes, type AttributeCodecOptions, type PathAttributes } from "./codec/attributes.js";
import { Afi, HEADER_LENGTH, MAX_MESSAGE_LENGTH, Safi } from "./codec/constants.js";
import { prefixWireLength } from "./codec/prefix.js";
import { encodeUpdate, type UpdateMessage } from "./codec/update.js";

export interface UpdateBuildOptions extends AttributeCodecOptions {
  readonly maxMessageLength?: number;
}

/** Withdrawn-length and attribute-length fields. */
const UPDATE_FIXED = HEADER_LENGTH + 4;
/** An MP attribute header counted with the extended (2-byte) length, the larger case. */
const MP_ATTR_HEADER = 4;

function comparePrefixes(a: CIDR, b: CIDR): number {
  if (a.family !== b.family) return a.family < b.family ? -1 : 1;
  if (a.address !== b.address) return a.address < b.address ? -1 : 1;
  return a.prefixLength - b.prefixLength;
}

/** Cuts prefixes into runs whose encoded size fits `capacity` bytes. */
function pack(prefixes: readonly CIDR[], capacity: number): CIDR[][] {
  if (capacity < prefixWireLength(128)) throw new RangeError(`no room for NLRI (${capacity} bytes left)`);
  const runs: CIDR[][] = [];
  let run: CIDR[] = [];
  let used = 0;
  for (const p of prefixes) {
    const size = prefixWireLength(p.prefixLength);
    if (used + size > capacity && run.length > 0) {
      runs.push(run);
      run = [];
      used = 0;
    }
    run.push(p);
    used += size;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/** The path attributes of a route, without its reachability (NEXT_HOP is IPv4 only). */
function basePathAttributes(a: RouteAttributes, family: "IPv4" | "IPv6"): PathAttributes {
  return {
    origin: a.origin,
    asPath: a.asPath.length === 0 ? [] : [{ kind: "sequence", asns: a.asPath }],
    ...(family === "IPv4" ? { nextHop: a.nextHop } : {}),
    ...(a.med === undefined ? {} : { med: a.med }),
    ...(a.localPref === undefined ? {} : { localPref: a.localPref }),
    ...(a.communities.length === 0 ? {} : { communities: a.communities }),
    ...(a.largeCommunities.length === 0 ? {} : { largeCommunities: a.largeCommunities }),
  };
}

function withdrawals(prefixes: readonly CIDR[], max: number): UpdateMessage[] {
  const sorted = [...prefixes].sort(comparePrefixes);
  const v4 = sorted.filter((p) => p.family === "IPv4");
  const v6 = sorted.filter((p) => p.family === "IPv6");
  const out: UpdateMessage[] = [];
  for (const run of v4.length > 0 ? pack(v4, max - UPDATE_FIXED) : []) {
    out.push({ type: "update", withdrawn: run, attributes: {}, nlri: [] });
  }
  for (const run of v6.length > 0 ? pack(v6, max - UPDATE_FIXED - MP_ATTR_HEADER - 3) : []) {
    out.push({
      type: "update",
      withdrawn: [],
      attributes: { mpUnreach: { afi: Afi.IPv6, safi: Safi.Unicast, withdrawn: run } },
      nlri: [],
    });
  }
  return out;
}

function announcements(routes: readonly Route[], opts: UpdateBuildOptions, max: number): UpdateMessage[] {
  const groups = new Map<
    string,
    { attributes: RouteAttributes; family: "IPv4" | "IPv6"; prefixes: CIDR[] }
  >();
  for (const r of routes) {
    const key = `${r.prefix.family}|${attributesKey(r.attributes)}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = { attributes: r.attributes, family: r.prefix.family, prefixes: [] };
      groups.set(key, g);
    }
    g.prefixes.push(r.prefix);
  }
  const out: UpdateMessage[] = [];
  for (const key of [...groups.keys()].sort()) {
    const g = groups.get(key);
    if (g === undefined) continue;
    const base = basePathAttributes(g.attributes, g.family);
    const baseSize = encodePathAttributes(base, opts).length;
    g.prefixes.sort(comparePrefixes);
    if (g.family === "IPv4") {
      for (const run of pack(g.prefixes, max - UPDATE_FIXED - baseSize)) {
        out.push({ type: "update", withdrawn: [], attributes: base, nlri: run });
      }
      continue;
    }
    const nextHops =
      g.attributes.nextHopLinkLocal === undefined
        ? [g.attributes.nextHop]
        : [g.attributes.nextHop, g.attributes.nextHopLinkLocal];
    const mpOverhead = MP_ATTR_HEADER + 5 + 16 * nextHops.length;
    for (const run of pack(g.prefixes, max - UPDATE_FIXED - baseSize - mpOverhead)) {
      out.push({
        type: "update",
        withdrawn: [],
        attributes: { mpReach: { afi: Afi.IPv6, safi: Safi.Unicast, nextHops, nlri: run }, ...base },
        nlri: [],
      });
    }
  }
  return out;
}

/** Withdrawals, then announcements grouped by attributes (a diff never names a prefix in both). */
export function buildUpdates(diff: RibDiff, opts: UpdateBuildOptions): UpdateMessage[] {
  const max = opts.maxMessageLength ?? MAX_MESSAGE_LENGTH;
  return [...withdrawals(diff.withdraw, max), ...announcements(diff.announce, opts, max)];
}

export function encodeUpdates(diff: RibDiff, opts: UpdateBuildOptions): Buffer[] {
  return buildUpdates(diff, opts).map((u) => encodeUpdate(u, opts));
}
