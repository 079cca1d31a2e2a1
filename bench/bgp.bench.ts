/**
 * BGP encoding throughput. A 10,000-prefix Adj-RIB-Out of /32s (and of /128s) with a community
 * and a large community, as an eBGP speaker sends it: UPDATE messages encoded per second, the
 * time for a whole table, decoding speed, and the cost of a 1% change (diff + minimal UPDATEs).
 * Addresses are documentation ranges; nothing touches a network.
 */
import {
  buildAdjRibOut,
  diffAdjRibOut,
  fullAnnouncement,
  type AdjRibOut,
  type Route,
} from "../src/bgp/adjRibOut.js";
import { decodeMessage } from "../src/bgp/codec/index.js";
import { encodeUpdates } from "../src/bgp/updateBuilder.js";
import { parseIP, type CIDR } from "../src/net/ip.js";
import type { Emit } from "./run.js";

const PREFIXES = 10_000;
const MEASURE_MS = 1_000;

function table(family: "IPv4" | "IPv6", count: number, salt = 0): AdjRibOut {
  const nextHop = parseIP(family === "IPv4" ? "192.0.2.10" : "2001:db8:1::10");
  const base = family === "IPv4" ? parseIP("198.51.0.0").value : parseIP("2001:db8:100::").value;
  const routes: Route[] = Array.from({ length: count }, (_, i) => {
    const prefix: CIDR = {
      family,
      address: base + BigInt(i + salt),
      prefixLength: family === "IPv4" ? 32 : 128,
    };
    return {
      prefix,
      attributes: {
        origin: 0,
        asPath: [64512],
        nextHop,
        communities: [(64512 * 65536 + 100) >>> 0],
        largeCommunities: [{ globalAdmin: 64512, localData1: 1, localData2: 2 }],
      },
    };
  });
  return buildAdjRibOut(routes);
}

/**
 * Runs `fn` repeatedly for about MEASURE_MS (after a warm-up) and returns the median run time:
 * the median rather than the mean, because the CI machine is shared and a few runs stall.
 */
function medianMs(fn: () => void): { ms: number; runs: number } {
  for (let i = 0; i < 5; i++) fn();
  const times: number[] = [];
  const end = performance.now() + MEASURE_MS;
  while (performance.now() < end || times.length < 5) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)] ?? Number.NaN, runs: times.length };
}

export default function bgpBench(emit: Emit): Promise<void> {
  for (const family of ["IPv4", "IPv6"] as const) {
    const rib = table(family, PREFIXES);
    const full = fullAnnouncement(rib);
    let messages: Buffer[] = [];
    const encode = medianMs(() => {
      messages = encodeUpdates(full, { fourOctetAs: true });
    });
    const perSecond = 1000 / encode.ms;
    const bytes = messages.reduce((n, m) => n + m.length, 0);
    const extra = { family, prefixes: PREFIXES, messagesPerTable: messages.length, bytesPerTable: bytes };
    emit({
      bench: "bgp",
      figure: "update_messages_encoded_per_second",
      value: Math.round(perSecond * messages.length),
      unit: "messages/s",
      ...extra,
    });
    emit({
      bench: "bgp",
      figure: "prefixes_encoded_per_second",
      value: Math.round(perSecond * PREFIXES),
      unit: "prefixes/s",
      ...extra,
    });
    emit({
      bench: "bgp",
      figure: "full_table_encode_time",
      value: Number(encode.ms.toFixed(2)),
      unit: "ms",
      ...extra,
    });

    const decode = medianMs(() => {
      for (const m of messages) {
        const r = decodeMessage(m);
        if (!r.ok) throw r.error;
      }
    });
    emit({
      bench: "bgp",
      figure: "update_messages_decoded_per_second",
      value: Math.round((1000 / decode.ms) * messages.length),
      unit: "messages/s",
      ...extra,
    });

    // One Service appearing: a diff of one route, i.e. one small UPDATE.
    const one = fullAnnouncement(table(family, 1, PREFIXES * 2));
    const single = medianMs(() => {
      for (let i = 0; i < 1000; i++) encodeUpdates(one, { fourOctetAs: true });
    });
    emit({
      bench: "bgp",
      figure: "single_prefix_update_messages_encoded_per_second",
      value: Math.round(1_000_000 / single.ms),
      unit: "messages/s",
      family,
    });

    // 1% churn: 100 prefixes leave, 100 new ones arrive.
    const next = new Map(rib);
    const keys = [...rib.keys()];
    for (let i = 0; i < PREFIXES / 100; i++) next.delete(keys[i * 100] ?? "");
    for (const [k, r] of table(family, PREFIXES / 100, PREFIXES)) next.set(k, r);
    let changeMessages = 0;
    const change = medianMs(() => {
      changeMessages = encodeUpdates(diffAdjRibOut(rib, next), { fourOctetAs: true }).length;
    });
    emit({
      bench: "bgp",
      figure: "one_percent_change_diff_and_encode_time",
      value: Number(change.ms.toFixed(3)),
      unit: "ms",
      family,
      prefixes: PREFIXES,
      changedPrefixes: 2 * (PREFIXES / 100),
      messages: changeMessages,
    });
  }
  return Promise.resolve();
}
