import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { CIDR } from "../../../src/net/ip.js";
import {
  adjRibOutForPeer,
  applyRibDiff,
  attributesKey,
  buildAdjRibOut,
  diffAdjRibOut,
  EMPTY_RIB,
  prefixKey,
  routeForPeer,
  type AdjRibOut,
  type Route,
  type RouteAttributes,
} from "../../../src/bgp/adjRibOut.js";
import { buildUpdates, encodeUpdates } from "../../../src/bgp/updateBuilder.js";
import { decodeMessage, MAX_MESSAGE_LENGTH, type UpdateMessage } from "../../../src/bgp/codec/index.js";
import { arbPrefix, cidr, ip } from "./helpers.js";

const attrs = (over: Partial<RouteAttributes> = {}): RouteAttributes => ({
  origin: 0,
  asPath: [65001],
  nextHop: ip("192.0.2.10"),
  communities: [],
  largeCommunities: [],
  ...over,
});
const route = (prefix: string, over: Partial<RouteAttributes> = {}): Route => ({
  prefix: cidr(prefix),
  attributes: attrs(over),
});
const keys = (prefixes: readonly CIDR[]): string[] => prefixes.map(prefixKey).sort();

describe("diffAdjRibOut", () => {
  const cases: {
    description: string;
    prev: Route[];
    next: Route[];
    announce: string[];
    withdraw: string[];
  }[] = [
    { description: "empty to empty is no change", prev: [], next: [], announce: [], withdraw: [] },
    {
      description: "a new prefix is announced",
      prev: [],
      next: [route("198.51.100.1/32")],
      announce: ["198.51.100.1/32"],
      withdraw: [],
    },
    {
      description: "a removed prefix is withdrawn",
      prev: [route("198.51.100.1/32")],
      next: [],
      announce: [],
      withdraw: ["198.51.100.1/32"],
    },
    {
      description: "an unchanged prefix is not re-sent while another one is added",
      prev: [route("198.51.100.1/32")],
      next: [route("198.51.100.1/32"), route("198.51.100.2/32")],
      announce: ["198.51.100.2/32"],
      withdraw: [],
    },
    {
      description: "changed communities re-announce (implicit replace, no withdraw)",
      prev: [route("198.51.100.1/32", { communities: [1] })],
      next: [route("198.51.100.1/32", { communities: [2] })],
      announce: ["198.51.100.1/32"],
      withdraw: [],
    },
    {
      description: "the same communities in another order are no change",
      prev: [route("198.51.100.1/32", { communities: [2, 1, 1] })],
      next: [route("198.51.100.1/32", { communities: [1, 2] })],
      announce: [],
      withdraw: [],
    },
    {
      description: "a changed LOCAL_PREF re-announces",
      prev: [route("2001:db8:100::1/128", { nextHop: ip("2001:db8:1::10"), localPref: 100, asPath: [] })],
      next: [route("2001:db8:100::1/128", { nextHop: ip("2001:db8:1::10"), localPref: 200, asPath: [] })],
      announce: ["2001:db8:100::1/128"],
      withdraw: [],
    },
  ];
  for (const c of cases) {
    it(c.description, () => {
      const diff = diffAdjRibOut(buildAdjRibOut(c.prev), buildAdjRibOut(c.next));
      expect(keys(diff.announce.map((r) => r.prefix))).toEqual([...c.announce].sort());
      expect(keys(diff.withdraw)).toEqual([...c.withdraw].sort());
    });
  }
});

const arbAttributes = (family: "IPv4" | "IPv6"): fc.Arbitrary<RouteAttributes> =>
  fc.record({
    origin: fc.constant(0 as const),
    asPath: fc.constantFrom([], [65001], [4200000001]),
    nextHop:
      family === "IPv4"
        ? fc.constantFrom(ip("192.0.2.10"), ip("192.0.2.11"))
        : fc.constantFrom(ip("2001:db8:1::10")),
    communities: fc.array(fc.constantFrom(1, 2, 0xfde90064), { maxLength: 3 }),
    largeCommunities: fc.array(fc.constantFrom({ globalAdmin: 64512, localData1: 1, localData2: 2 }), {
      maxLength: 1,
    }),
  });

const arbRoute: fc.Arbitrary<Route> = fc.oneof(
  fc.record({ prefix: arbPrefix("IPv4"), attributes: arbAttributes("IPv4") }),
  fc.record({ prefix: arbPrefix("IPv6"), attributes: arbAttributes("IPv6") }),
);
const arbRib: fc.Arbitrary<AdjRibOut> = fc.array(arbRoute, { maxLength: 60 }).map(buildAdjRibOut);

function ribSummary(rib: AdjRibOut): [string, string][] {
  return [...rib.entries()].map(([k, r]): [string, string] => [k, attributesKey(r.attributes)]).sort();
}

describe("Adj-RIB-Out diff properties", () => {
  it("applying diff(prev, next) to prev gives next", () => {
    fc.assert(
      fc.property(arbRib, arbRib, (prev, next) => {
        expect(ribSummary(applyRibDiff(prev, diffAdjRibOut(prev, next)))).toEqual(ribSummary(next));
      }),
    );
  });

  it("the diff is minimal: it names exactly the prefixes that differ", () => {
    fc.assert(
      fc.property(arbRib, arbRib, (prev, next) => {
        const diff = diffAdjRibOut(prev, next);
        const changed = [...new Set([...prev.keys(), ...next.keys()])].filter((k) => {
          const a = prev.get(k);
          const b = next.get(k);
          return (
            a === undefined || b === undefined || attributesKey(a.attributes) !== attributesKey(b.attributes)
          );
        });
        expect(
          [...diff.announce.map((r) => prefixKey(r.prefix)), ...diff.withdraw.map(prefixKey)].sort(),
        ).toEqual(changed.sort());
      }),
    );
  });
});

/** Rebuilds route attributes from a decoded UPDATE, the receiving router's view. */
function receivedRoutes(u: UpdateMessage): { announced: Route[]; withdrawn: CIDR[] } {
  const a = u.attributes;
  const common = {
    origin: a.origin ?? 0,
    asPath: (a.asPath ?? []).flatMap((s) => s.asns),
    communities: a.communities ?? [],
    largeCommunities: a.largeCommunities ?? [],
    ...(a.localPref === undefined ? {} : { localPref: a.localPref }),
    ...(a.med === undefined ? {} : { med: a.med }),
  };
  const announced: Route[] = [];
  for (const p of u.nlri) {
    if (a.nextHop === undefined) throw new Error("IPv4 NLRI without NEXT_HOP");
    announced.push({ prefix: p, attributes: { ...common, nextHop: a.nextHop } });
  }
  for (const p of a.mpReach?.nlri ?? []) {
    const [nh, ll] = a.mpReach?.nextHops ?? [];
    if (nh === undefined) throw new Error("MP_REACH without next hop");
    announced.push({
      prefix: p,
      attributes: { ...common, nextHop: nh, ...(ll === undefined ? {} : { nextHopLinkLocal: ll }) },
    });
  }
  return { announced, withdrawn: [...u.withdrawn, ...(a.mpUnreach?.withdrawn ?? [])] };
}

function replay(rib: AdjRibOut, messages: Buffer[], fourOctetAs: boolean): AdjRibOut {
  let out = rib;
  for (const m of messages) {
    const r = decodeMessage(m, { fourOctetAs });
    if (!r.ok) throw r.error;
    if (r.message.type !== "update") throw new Error("expected an UPDATE");
    const { announced, withdrawn } = receivedRoutes(r.message);
    out = applyRibDiff(out, { announce: [...buildAdjRibOut(announced).values()], withdraw: withdrawn });
  }
  return out;
}

describe("buildUpdates / encodeUpdates", () => {
  it("sends what the diff says: a peer replaying the UPDATEs on prev ends with next", () => {
    fc.assert(
      fc.property(arbRib, arbRib, fc.boolean(), (prev, next, fourOctetAs) => {
        const messages = encodeUpdates(diffAdjRibOut(prev, next), { fourOctetAs });
        for (const m of messages) expect(m.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
        expect(ribSummary(replay(prev, messages, fourOctetAs))).toEqual(ribSummary(next));
      }),
      { numRuns: 150 },
    );
  });

  it("respects a smaller maximum message length by splitting", () => {
    fc.assert(
      fc.property(arbRib, (next) => {
        const messages = encodeUpdates(diffAdjRibOut(EMPTY_RIB, next), {
          fourOctetAs: true,
          maxMessageLength: 256,
        });
        for (const m of messages) expect(m.length).toBeLessThanOrEqual(256);
        expect(ribSummary(replay(EMPTY_RIB, messages, true))).toEqual(ribSummary(next));
      }),
      { numRuns: 100 },
    );
  });

  it("groups prefixes with identical attributes into one UPDATE", () => {
    const next = buildAdjRibOut([
      route("198.51.100.1/32"),
      route("198.51.100.2/32"),
      route("198.51.100.3/32", { communities: [7] }),
      route("2001:db8:100::1/128", { nextHop: ip("2001:db8:1::10") }),
      route("2001:db8:100::2/128", { nextHop: ip("2001:db8:1::10") }),
    ]);
    const updates = buildUpdates(diffAdjRibOut(EMPTY_RIB, next), { fourOctetAs: true });
    const shape = updates.map((u) => [u.nlri.length, u.attributes.mpReach?.nlri.length ?? 0]).sort();
    expect(shape).toEqual([
      [0, 2],
      [1, 0],
      [2, 0],
    ]);
  });

  it("splits 10,000 /32 prefixes into as few 4096-byte UPDATEs as fit", () => {
    const routes = Array.from({ length: 10_000 }, (_, i) =>
      route(`198.51.${100 + (i >> 8)}.${i & 0xff}/32`, { communities: [0xfde90064] }),
    );
    const messages = encodeUpdates(diffAdjRibOut(EMPTY_RIB, buildAdjRibOut(routes)), { fourOctetAs: true });
    // ORIGIN 4 + AS_PATH 3+6 + NEXT_HOP 7 + COMMUNITIES 7 bytes of attributes; 5 bytes per /32.
    const perMessage = Math.floor((MAX_MESSAGE_LENGTH - 23 - 27) / 5);
    expect(messages.length).toBe(Math.ceil(10_000 / perMessage));
    expect(messages.every((m) => m.length <= MAX_MESSAGE_LENGTH)).toBe(true);
    expect(replay(EMPTY_RIB, messages, true).size).toBe(10_000);
  });

  it("puts IPv4 withdrawals in the withdrawn field and IPv6 ones in MP_UNREACH_NLRI", () => {
    const updates = buildUpdates(
      { announce: [], withdraw: [cidr("198.51.100.1/32"), cidr("2001:db8:100::1/128")] },
      { fourOctetAs: true },
    );
    expect(updates).toEqual([
      { type: "update", withdrawn: [cidr("198.51.100.1/32")], attributes: {}, nlri: [] },
      {
        type: "update",
        withdrawn: [],
        attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [cidr("2001:db8:100::1/128")] } },
        nlri: [],
      },
    ]);
  });

  it("sends nothing for an empty diff", () => {
    expect(buildUpdates({ announce: [], withdraw: [] }, { fourOctetAs: true })).toEqual([]);
  });
});

describe("routeForPeer", () => {
  const ibgp = {
    localAs: 64512,
    peerAs: 64512,
    nextHopIPv4: ip("192.0.2.10"),
    nextHopIPv6: ip("2001:db8:1::10"),
  };
  const ebgp = { ...ibgp, peerAs: 64513 };
  const cases: {
    description: string;
    prefix: string;
    peer: Parameters<typeof routeForPeer>[1];
    localPref?: number;
    expected: Partial<RouteAttributes> | undefined;
  }[] = [
    {
      description: "iBGP: empty AS_PATH, LOCAL_PREF defaults to 100",
      prefix: "198.51.100.1/32",
      peer: ibgp,
      expected: { asPath: [], localPref: 100 },
    },
    {
      description: "iBGP: configured LOCAL_PREF",
      prefix: "198.51.100.1/32",
      peer: ibgp,
      localPref: 250,
      expected: { asPath: [], localPref: 250 },
    },
    {
      description: "eBGP: AS_PATH [local AS], LOCAL_PREF never sent",
      prefix: "198.51.100.1/32",
      peer: ebgp,
      localPref: 250,
      expected: { asPath: [64512] },
    },
    {
      description: "IPv6 uses the IPv6 next hop",
      prefix: "2001:db8:100::1/128",
      peer: ebgp,
      expected: { asPath: [64512], nextHop: ip("2001:db8:1::10") },
    },
    {
      description: "IPv6 with a link-local next hop",
      prefix: "2001:db8:100::1/128",
      peer: { ...ebgp, nextHopIPv6LinkLocal: ip("fe80::1") },
      expected: { asPath: [64512], nextHop: ip("2001:db8:1::10"), nextHopLinkLocal: ip("fe80::1") },
    },
    {
      description: "no next hop of the family → not advertised",
      prefix: "2001:db8:100::1/128",
      peer: { localAs: 1, peerAs: 2, nextHopIPv4: ip("192.0.2.10") },
      expected: undefined,
    },
  ];
  for (const c of cases) {
    it(c.description, () => {
      const r = routeForPeer(
        { prefix: cidr(c.prefix), ...(c.localPref === undefined ? {} : { localPref: c.localPref }) },
        c.peer,
      );
      if (c.expected === undefined) {
        expect(r).toBeUndefined();
        return;
      }
      expect(r?.attributes).toMatchObject(c.expected);
      if (!("localPref" in c.expected)) expect(r?.attributes.localPref).toBeUndefined();
    });
  }

  it("adjRibOutForPeer merges advertisements of one prefix and reports prefixes it cannot send", () => {
    const { rib, skipped } = adjRibOutForPeer(
      [
        { prefix: cidr("198.51.100.1/32"), localPref: 100, communities: [2] },
        {
          prefix: cidr("198.51.100.1/32"),
          localPref: 300,
          communities: [1, 2],
          largeCommunities: [{ globalAdmin: 1, localData1: 2, localData2: 3 }],
        },
        { prefix: cidr("2001:db8:100::1/128") },
      ],
      { localAs: 64512, peerAs: 64512, nextHopIPv4: ip("192.0.2.10") },
    );
    expect([...rib.keys()]).toEqual(["198.51.100.1/32"]);
    expect(rib.get("198.51.100.1/32")?.attributes).toMatchObject({
      localPref: 300,
      communities: [1, 2],
      largeCommunities: [{ globalAdmin: 1, localData1: 2, localData2: 3 }],
    });
    expect(keys(skipped)).toEqual(["2001:db8:100::1/128"]);
  });
});
