/**
 * Layer 2 failover measured in a 3-node lab from the client's side (issue 6, section 3; as root:
 * `npm run bench:failover`). ROUNDS of each failure of the node announcing the demo Service:
 *
 * - hard: its switch port goes down (neither its speaker nor its backend answers any more);
 * - kill: SIGKILL of its speaker (the node and its backend stay up: clients must keep working);
 * - term: SIGTERM of its speaker (graceful leave).
 *
 * The demo Service has an IPv4 and an IPv6 VIP, announced by the same node. Two probers in the
 * client namespace each open a new TCP connection to one VIP every 20 ms (plain net.connect, so
 * the kernel's own neighbour cache resolves the VIP; nothing is ever flushed) and read which
 * node's backend answered. A figure is the time from the failure to the first successful
 * connection, started after the failure, through another node: p50, p99 and max per (failure,
 * family), with the connections that failed meanwhile. Between rounds the lab is restored (port
 * up, speaker restarted), and the next round waits, bounded, until one node announces, the
 * client's neighbour entries name it and both probers reach it.
 *
 * Then the quiet run: QUIET_S seconds with no failure while another process (started and
 * stopped here by PID) keeps every core busy, counting changes of the announcements (expected 0).
 *
 * A round whose start does not settle within SETTLE_TIMEOUT_MS counts as stuck; a "stuck_detail"
 * line then says which condition failed (announcers, each speaker's own view, the client's
 * neighbour entries and what the probers reached), before the client's entries are flushed.
 *
 * Environment: IRONLB_BENCH_ROUNDS (default 20), IRONLB_BENCH_QUIET_S (default 600; 0 skips the
 * quiet run), IRONLB_BENCH_KINDS (comma list of hard, kill, term; default all). The load
 * average at start and end is part of the output: the machine may be shared.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_TAKEOVER_OFFSETS_MS } from "../src/l2/responderTakeover.js";
import { Lab, processNames } from "../src/lab/lab.js";
import {
  CpuHog,
  envChoices,
  envInteger,
  percentile,
  pollFor,
  Prober,
  sleep,
  sumMetric,
} from "./failoverSupport.js";
import type { Emit } from "./run.js";

const BENCH = "failover";
const DEMO = "demo";
const PROBE_INTERVAL_MS = 20;
const FAILOVER_TIMEOUT_MS = 15_000;
/** How long the settled state must hold before a round starts. */
const STABLE_MS = 1_000;
/** Bound on settling after a recovery before the client's entries are counted as stuck. */
const SETTLE_TIMEOUT_MS = 20_000;
/** The window of the probers' attempts described in a stuck_detail line. */
const STUCK_WINDOW_MS = 1_000;
const QUIET_POLL_MS = 250;
const KINDS = ["hard", "kill", "term"] as const;
type FailureKind = (typeof KINDS)[number];
const FAMILIES = ["IPv4", "IPv6"] as const;
type Family = (typeof FAMILIES)[number];
/** Issue 6's p99 targets (a speaker crash: "within the same bound" as a hard failure). */
const P99_TARGET_MS: Record<FailureKind, number> = { hard: 1000, kill: 1000, term: 200 };

const load = (): number[] => loadavg().map((v) => Number(v.toFixed(2)));

interface Settled {
  readonly node: string;
  /** The client's entries did not follow the announcer within SETTLE_TIMEOUT_MS (then flushed). */
  readonly stuck: boolean;
}

/** Whether one node announces, the client's entries name it and both probers' last attempts reach it. */
async function settledOn(lab: Lab, probers: Record<Family, Prober>): Promise<string | undefined> {
  const announcers = await lab.announcers(DEMO);
  const [node] = announcers;
  if (announcers.length !== 1 || node === undefined) return undefined;
  const mac = lab.node(node).mac;
  for (const prober of Object.values(probers)) {
    const entry = (await lab.clientNeighbours(prober.ip))[0];
    if (entry?.lladdr !== mac) return undefined;
    const recent = prober.since(Date.now() - 300);
    if (recent.length === 0 || !recent.every((a) => a.ok && a.node === node)) return undefined;
  }
  return node;
}

/** Waits (bounded) until settledOn() names the same node for STABLE_MS. */
async function waitSettled(
  lab: Lab,
  probers: Record<Family, Prober>,
  timeoutMs: number,
): Promise<string | undefined> {
  let candidate: string | undefined;
  let since = 0;
  return pollFor(
    async () => {
      const node = await settledOn(lab, probers);
      if (node === undefined || node !== candidate) {
        candidate = node;
        since = Date.now();
        return undefined;
      }
      return Date.now() - since >= STABLE_MS ? node : undefined;
    },
    timeoutMs,
    100,
  );
}

/** What the prober's attempts of the last STUCK_WINDOW_MS reached: attempts per node ("" = failed). */
function reached(prober: Prober, now: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of prober.since(now - STUCK_WINDOW_MS)) {
    const key = a.ok ? a.node : "";
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/**
 * Why settledOn() does not hold, each of its conditions as seen now: the announcers in the
 * ServiceL2Status objects, each speaker's own view (its ironlb_speaker_announced samples for
 * the VIPs, its live-speaker count), and per VIP the client's neighbour entry (MAC -> node) and
 * which nodes the prober's last attempts reached.
 */
async function stuckSnapshot(lab: Lab, probers: Record<Family, Prober>): Promise<Record<string, unknown>> {
  const now = Date.now();
  const vips = FAMILIES.map((family) => probers[family].ip);
  const speakers: Record<string, { announces: string[]; liveSpeakers: number | null }> = {};
  for (const node of lab.layout.nodes) {
    const text = await lab.speakerMetrics(node.nodeName).catch(() => undefined);
    speakers[node.nodeName] = {
      announces: text === undefined ? ["(no answer)"] : vips.filter((ip) => announcesIp(text, ip)),
      liveSpeakers: text === undefined ? null : sumMetric(text, "ironlb_speaker_live_speakers"),
    };
  }
  const clients: Record<string, unknown> = {};
  for (const family of FAMILIES) {
    const prober = probers[family];
    const entries = await lab.clientNeighbours(prober.ip).catch(() => []);
    const last = prober.since(now - STUCK_WINDOW_MS).at(-1);
    clients[family] = {
      vip: prober.ip,
      neighbour: entries.map((e) => ({
        mac: e.lladdr ?? null,
        node: e.lladdr === undefined ? null : (lab.nodeByMac(e.lladdr)?.nodeName ?? "?"),
        state: e.state ?? [],
      })),
      reachedLastMs: reached(prober, now),
      lastAttempt: last === undefined ? null : { ok: last.ok, node: last.node, agoMs: Date.now() - last.end },
    };
  }
  const announcers = await lab.announcers(DEMO).catch((error: unknown) => [`(error: ${String(error)})`]);
  return { announcers, speakers, clients };
}

/** Whether a speaker's metrics text has an ironlb_speaker_announced sample of 1 for `ip`. */
function announcesIp(text: string, ip: string): boolean {
  return text
    .split("\n")
    .some(
      (line) =>
        line.startsWith("ironlb_speaker_announced{") &&
        line.includes(`ip="${ip}"`) &&
        Number(line.trim().split(/\s+/).at(-1)) === 1,
    );
}

async function settle(
  lab: Lab,
  probers: Record<Family, Prober>,
  emit: Emit,
  context: Record<string, unknown>,
): Promise<Settled> {
  const node = await waitSettled(lab, probers, SETTLE_TIMEOUT_MS);
  if (node !== undefined) return { node, stuck: false };
  // Counted, described, then repaired so the remaining rounds still measure something.
  const detail = await stuckSnapshot(lab, probers);
  await lab.flushClientNeighbours();
  const flushedAt = Date.now();
  const repaired = await waitSettled(lab, probers, SETTLE_TIMEOUT_MS);
  emit({
    bench: BENCH,
    figure: "stuck_detail",
    value: 1,
    unit: "count",
    ...context,
    settleTimeoutMs: SETTLE_TIMEOUT_MS,
    ...detail,
    // After the flush: settled (stable for STABLE_MS) after this long, on this node; null if not.
    repairedOn: repaired ?? null,
    repairedAfterMs: repaired === undefined ? null : Date.now() - flushedAt,
    ...(repaired === undefined ? { afterRepair: await stuckSnapshot(lab, probers) } : {}),
  });
  if (repaired === undefined) {
    throw new Error(
      `the lab does not settle: announcers ${(await lab.announcers(DEMO)).join(", ") || "none"}`,
    );
  }
  return { node: repaired, stuck: true };
}

async function fail(lab: Lab, kind: FailureKind, node: string): Promise<void> {
  if (kind === "hard") await lab.cutNode(node);
  else await lab.stopSpeaker(node, kind === "kill" ? "SIGKILL" : "SIGTERM");
}

/** Restores the node; `restored` is called as soon as its port is up or its speaker started. */
async function recover(lab: Lab, kind: FailureKind, node: string, restored: () => void): Promise<void> {
  if (kind === "hard") await lab.restoreNode(node);
  else lab.startSpeaker(node);
  restored();
  await lab.waitForLiveSpeakers([node], 60_000);
}

interface Tally {
  readonly times: number[];
  missed: number;
  failedConnections: number;
}

async function measureKind(
  lab: Lab,
  probers: Record<Family, Prober>,
  kind: FailureKind,
  rounds: number,
  emit: Emit,
): Promise<{ tallies: Record<Family, Tally>; stuckRounds: number }> {
  const tallies: Record<Family, Tally> = {
    IPv4: { times: [], missed: 0, failedConnections: 0 },
    IPv6: { times: [], missed: 0, failedConnections: 0 },
  };
  let stuckRounds = 0;
  let previous: { node: string; outageMs: number } | undefined;
  for (let round = 0; round < rounds; round++) {
    // `previous` failed in the round before, for outageMs (port down or speaker stopped, to restored).
    const { node: old, stuck } = await settle(lab, probers, emit, {
      failure: kind,
      round,
      previouslyFailed: previous?.node ?? null,
      previousOutageMs: previous?.outageMs ?? null,
    });
    if (stuck) stuckRounds++;
    const failedAt = Date.now();
    await fail(lab, kind, old);
    const through = await Promise.all(
      FAMILIES.map((family) =>
        probers[family].first(failedAt, (a) => a.ok && a.node !== old, FAILOVER_TIMEOUT_MS),
      ),
    );
    await recover(lab, kind, old, () => {
      previous = { node: old, outageMs: Date.now() - failedAt };
    });
    // Every attempt started before the switch has ended (1 s time-out) before counting failures.
    await sleep(1_100);
    FAMILIES.forEach((family, i) => {
      const tally = tallies[family];
      const hit = through[i];
      if (hit === undefined) {
        tally.missed++;
        return;
      }
      tally.times.push(hit.end - failedAt);
      tally.failedConnections += probers[family]
        .since(failedAt)
        .filter((a) => !a.ok && a.start <= hit.end).length;
    });
    for (const prober of Object.values(probers)) prober.prune(Date.now() - 60_000);
  }
  return { tallies, stuckRounds };
}

/** Sum of a counter over every node's speaker (0 for a speaker that does not answer). */
async function speakersTotal(lab: Lab, metrics: readonly string[]): Promise<Record<string, number>> {
  const totals: Record<string, number> = Object.fromEntries(metrics.map((m) => [m, 0]));
  for (const node of lab.layout.nodes) {
    const text = await lab.speakerMetrics(node.nodeName).catch(() => "");
    for (const metric of metrics) totals[metric] = (totals[metric] ?? 0) + sumMetric(text, metric);
  }
  return totals;
}

const QUIET_COUNTERS = [
  "ironlb_layer2_gratuitous_sent",
  "ironlb_membership_refutations_total",
  "ironlb_membership_probe_failures_total",
] as const;

/**
 * "member declared dead" lines the speakers logged since `sinceMs` (they log at warn, the lab's
 * level): a death during the quiet run is a false one. The first few, for the output.
 */
function deathsLogged(
  lab: Lab,
  sinceMs: number,
): { count: number; first: { atS: number; by: string; member: string }[] } {
  const first: { atS: number; by: string; member: string }[] = [];
  let count = 0;
  for (const node of lab.layout.nodes) {
    let text = "";
    try {
      text = readFileSync(lab.logFile(processNames.speaker(node.nodeName)), "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n")) {
      if (!line.includes("member declared dead")) continue;
      try {
        const entry = JSON.parse(line) as { time?: string; member?: string };
        const at = Date.parse(entry.time ?? "");
        if (!(at >= sinceMs)) continue;
        count++;
        if (first.length < 10)
          first.push({
            atS: Math.round((at - sinceMs) / 100) / 10,
            by: node.nodeName,
            member: entry.member ?? "?",
          });
      } catch {
        // not a JSON line
      }
    }
  }
  return { count, first };
}

/** No failure for `seconds` while every core is busy: count what changes anyway. */
async function quietRun(lab: Lab, prober: Prober, seconds: number, emit: Emit): Promise<void> {
  await settle(lab, { IPv4: prober, IPv6: prober }, emit, { failure: "quiet" });
  // The last hand-back's takeover repeats end before counting starts.
  await sleep((DEFAULT_TAKEOVER_OFFSETS_MS.at(-1) ?? 0) + 1_000);
  const key = async (): Promise<string> =>
    JSON.stringify(
      (await lab.announcements()).map((a) => `${a.serviceNamespace}/${a.serviceName}@${a.node}`).sort(),
    );
  let last = await key();
  const before = await speakersTotal(lab, QUIET_COUNTERS);
  const threads = availableParallelism();
  const hog = new CpuHog(threads);
  const started = Date.now();
  const loadAtStart = load();
  let changes = 0;
  /** When each change was seen (s into the run) and what was announced then (the first 20). */
  const seen: { atS: number; announcements: string }[] = [];
  let pollErrors = 0;
  let loadAtEnd = loadAtStart;
  try {
    while (Date.now() - started < seconds * 1000) {
      await sleep(QUIET_POLL_MS);
      try {
        const now = await key();
        if (now !== last) {
          changes++;
          if (seen.length < 20)
            seen.push({ atS: Math.round((Date.now() - started) / 100) / 10, announcements: now });
        }
        last = now;
      } catch {
        pollErrors++;
      }
      prober.prune(started);
    }
    loadAtEnd = load();
  } finally {
    await hog.stop();
  }
  const after = await speakersTotal(lab, QUIET_COUNTERS);
  const deaths = deathsLogged(lab, started);
  const attempts = prober.since(started).filter((a) => a.start <= started + seconds * 1000);
  const extra = {
    seconds,
    busyThreads: threads,
    hogPid: hog.pid,
    loadavgStart: loadAtStart,
    loadavgEnd: loadAtEnd,
    pollErrors,
  };
  emit({
    bench: BENCH,
    figure: "quiet_announcement_changes",
    value: changes,
    unit: "count",
    target: 0,
    changes: seen,
    ...extra,
  });
  emit({
    bench: BENCH,
    figure: "quiet_false_deaths",
    value: deaths.count,
    unit: "count",
    target: 0,
    deaths: deaths.first,
    ...extra,
  });
  emit({
    bench: BENCH,
    figure: "quiet_gratuitous_sent",
    value: (after["ironlb_layer2_gratuitous_sent"] ?? 0) - (before["ironlb_layer2_gratuitous_sent"] ?? 0),
    unit: "count",
    ...extra,
  });
  emit({
    bench: BENCH,
    figure: "quiet_membership_refutations",
    value:
      (after["ironlb_membership_refutations_total"] ?? 0) -
      (before["ironlb_membership_refutations_total"] ?? 0),
    unit: "count",
    probeFailures:
      (after["ironlb_membership_probe_failures_total"] ?? 0) -
      (before["ironlb_membership_probe_failures_total"] ?? 0),
    ...extra,
  });
  emit({
    bench: BENCH,
    figure: "quiet_failed_connections",
    value: attempts.filter((a) => !a.ok).length,
    unit: "count",
    failedAtS: attempts
      .filter((a) => !a.ok)
      .slice(0, 20)
      .map((a) => Math.round((a.start - started) / 100) / 10),
    connections: attempts.length,
    family: "IPv4",
    ...extra,
  });
}

export default async function failoverBench(emit: Emit): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stderr.write("failover bench: skipped, it builds a network-namespace lab and needs root\n");
    return;
  }
  const rounds = envInteger("IRONLB_BENCH_ROUNDS", 20);
  const quietSeconds = envInteger("IRONLB_BENCH_QUIET_S", 600, 0);
  const kinds = envChoices("IRONLB_BENCH_KINDS", KINDS);
  const benchStarted = Date.now();
  emit({
    bench: BENCH,
    figure: "loadavg_start",
    value: load()[0] ?? 0,
    unit: "load",
    loadavg: load(),
    rounds,
    quietSeconds,
    kinds,
  });
  const lab = await Lab.start({
    prefix: `ilb-f${process.pid}-`,
    stateDir: mkdtempSync(join(tmpdir(), "ironlb-lab-failover-")),
    nodes: 3,
    logLevel: "warn",
  });
  const probers: Partial<Record<Family, Prober>> = {};
  try {
    const ips = await lab.waitForServiceIPs(DEMO, "default", { count: 2 });
    const vip4 = ips.find((ip) => !ip.includes(":"));
    const vip6 = ips.find((ip) => ip.includes(":"));
    if (vip4 === undefined || vip6 === undefined)
      throw new Error(`expected one VIP per family: ${ips.join(", ")}`);
    probers.IPv4 = new Prober(lab.layout.clientNetns, vip4, PROBE_INTERVAL_MS);
    probers.IPv6 = new Prober(lab.layout.clientNetns, vip6, PROBE_INTERVAL_MS);
    const both = { IPv4: probers.IPv4, IPv6: probers.IPv6 };
    for (const kind of kinds) {
      const loadBefore = load();
      const { tallies, stuckRounds } = await measureKind(lab, both, kind, rounds, emit);
      for (const family of FAMILIES) {
        const { times, missed, failedConnections } = tallies[family];
        times.sort((a, b) => a - b);
        const extra = {
          failure: kind,
          family,
          vip: both[family].ip,
          rounds,
          missed,
          failedConnections,
          // Rounds whose start found the client's entries not following the announcer (flushed then).
          stuckRounds,
          loadavgBefore: loadBefore,
          loadavgAfter: load(),
        };
        emit({ bench: BENCH, figure: `${kind}_p50`, value: percentile(times, 50), unit: "ms", ...extra });
        emit({
          bench: BENCH,
          figure: `${kind}_p99`,
          value: percentile(times, 99),
          unit: "ms",
          target: P99_TARGET_MS[kind],
          ...extra,
        });
        emit({
          bench: BENCH,
          figure: `${kind}_max`,
          value: times.at(-1) ?? Number.NaN,
          unit: "ms",
          ...extra,
        });
        if (kind === "kill") {
          // The node's data path stays up: clients must keep working throughout.
          emit({
            bench: BENCH,
            figure: "kill_clients_kept_working",
            value: failedConnections === 0 ? 1 : 0,
            unit: "bool",
            ...extra,
          });
        }
      }
    }
    probers.IPv6.stop();
    if (quietSeconds > 0) await quietRun(lab, probers.IPv4, quietSeconds, emit);
  } finally {
    for (const prober of Object.values(probers)) prober.stop();
    await lab.stop();
    emit({
      bench: BENCH,
      figure: "loadavg_end",
      value: load()[0] ?? 0,
      unit: "load",
      loadavg: load(),
      elapsedS: Math.round((Date.now() - benchStarted) / 1000),
    });
  }
}
