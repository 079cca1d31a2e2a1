/**
 * Layer 2 figures measured in a lab (as root; `npm run bench -- l2`), all from the client
 * namespace with the raw probe (src/lab/l2Probe.ts), which bypasses the client's neighbour cache:
 *
 * - ARP reply latency of the speaker against the kernel: the same probe alternately asks for a VIP
 *   the speaker answers and for the announcing node's own address, which the node's kernel answers
 *   on the very same veth. Median and p99 of each, their ratio, the latency the speaker adds, and
 *   the share of requests answered. Targets: all answered; added ≤ 50 µs median; speaker p99 ≤ 1 ms.
 * - ARP requests answered per second on one core: a closed-loop flood (32 outstanding) against
 *   the VIP, divided by the CPU time the speaker used meanwhile (`value`), and by the wall clock.
 * - Time from Service creation to the first ARP answer seen by the client (p50 of several runs).
 * - Speaker RSS with 1,000 announced Services (the other speakers stopped, so one node announces
 *   them all), next to the same speaker's RSS before.
 * `loadavg` accompanies every figure: the lab shares its cores with whatever else runs.
 */
import { mkdtempSync, readFileSync, readdirSync, statSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { l2AdvertisementObject, poolObject } from "../src/lab/cluster.js";
import { PACKAGE_ROOT, type ProgramSource } from "../src/lab/entries.js";
import { Lab } from "../src/lab/lab.js";
import { waitFor } from "../src/lab/processes.js";
import type { Emit } from "./run.js";

const BENCH = "l2";
const LATENCY_ROUNDS = 2000;
const FLOOD_MS = 5000;
const FIRST_ANSWER_RUNS = 10;
const RSS_SERVICES = 1000;
/** A second pool inside the LAN for the 1,000 Services (the lab pool holds 51 IPv4 addresses). */
const BENCH_POOL = { name: "bench", addresses: ["2001:db8:1::1000-2001:db8:1::1fff"] };
const FIXED_IP = "192.0.2.240";

const load = (): number => Number((loadavg()[0] ?? 0).toFixed(2));

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

/** utime + stime of `pid` in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 (utime, stime) are fields[11] and fields[12] after the command name; ticks
  // are USER_HZ, 100 on Linux.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
  return round(kib / 1024);
}

async function inBatches<T>(
  items: readonly T[],
  size: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

async function latency(lab: Lab, emit: Emit): Promise<void> {
  const [vip4 = ""] = (await lab.waitForServiceIPs("demo", "default", { count: 2 })).filter(
    (ip) => !ip.includes(":"),
  );
  const announcer = lab.node(await lab.waitForAnnouncer("demo"));
  const probe = await lab.probe("latency", [
    "--targets",
    `${vip4},${announcer.ipv4}`,
    "--rounds",
    String(LATENCY_ROUNDS),
    "--timeout-ms",
    "200",
    "--gap-ms",
    "1",
  ]);
  const line = await probe.next((l) => l.event === "latency", 600_000);
  await probe.stop();
  const samples = line["samples"] as { target: string; latencyNs?: number }[];
  const stats = (target: string) => {
    const of = samples.filter((s) => s.target === target);
    const answered = of
      .flatMap((s) => (s.latencyNs === undefined ? [] : [s.latencyNs / 1000]))
      .sort((a, b) => a - b);
    return {
      sent: of.length,
      answered: answered.length,
      median: percentile(answered, 50),
      p99: percentile(answered, 99),
    };
  };
  const speaker = stats(vip4);
  const kernel = stats(announcer.ipv4);
  const extra = {
    speakerTarget: vip4,
    kernelTarget: announcer.ipv4,
    node: announcer.nodeName,
    loadavg: load(),
  };
  emit({
    bench: BENCH,
    figure: "arp_reply_latency_speaker_median",
    value: round(speaker.median),
    unit: "µs",
    ...extra,
  });
  emit({
    bench: BENCH,
    figure: "arp_reply_latency_speaker_p99",
    value: round(speaker.p99),
    unit: "µs",
    target: 1000,
    ...extra,
  });
  emit({
    bench: BENCH,
    figure: "arp_reply_latency_kernel_median",
    value: round(kernel.median),
    unit: "µs",
    ...extra,
  });
  emit({
    bench: BENCH,
    figure: "arp_reply_latency_kernel_p99",
    value: round(kernel.p99),
    unit: "µs",
    ...extra,
  });
  emit({
    bench: BENCH,
    figure: "arp_reply_latency_ratio_median",
    value: round(speaker.median / kernel.median, 2),
    unit: "x",
    ...extra,
  });
  emit({
    bench: BENCH,
    figure: "arp_reply_latency_added_median",
    value: round(speaker.median - kernel.median),
    unit: "µs",
    target: 50,
    ...extra,
  });
  emit({
    bench: BENCH,
    figure: "arp_reply_latency_added_p99",
    value: round(speaker.p99 - kernel.p99),
    unit: "µs",
    ...extra,
  });
  emit({
    bench: BENCH,
    figure: "arp_requests_answered_speaker",
    value: round((100 * speaker.answered) / speaker.sent, 2),
    unit: "%",
    sent: speaker.sent,
    answered: speaker.answered,
    target: 100,
    ...extra,
  });
  emit({
    bench: BENCH,
    figure: "arp_requests_answered_kernel",
    value: round((100 * kernel.answered) / kernel.sent, 2),
    unit: "%",
    sent: kernel.sent,
    answered: kernel.answered,
    ...extra,
  });
}

async function throughput(lab: Lab, emit: Emit): Promise<void> {
  const [vip4 = ""] = (await lab.waitForServiceIPs("demo", "default", { count: 2 })).filter(
    (ip) => !ip.includes(":"),
  );
  const announcer = await lab.waitForAnnouncer("demo");
  const pid = lab.speakerPid(announcer);
  if (pid === undefined) throw new Error(`no speaker on ${announcer}`);
  const probe = await lab.probe("flood", [
    "--target",
    vip4,
    "--window",
    "32",
    "--duration-ms",
    String(FLOOD_MS),
  ]);
  const before = cpuSeconds(pid);
  const line = await probe.next((l) => l.event === "flood", FLOOD_MS + 60_000);
  const cpu = cpuSeconds(pid) - before;
  await probe.stop();
  const answered = Number(line["answered"]);
  const seconds = Number(line["durationMs"]) / 1000;
  emit({
    bench: BENCH,
    figure: "arp_requests_answered_per_cpu_second",
    value: Math.round(answered / cpu),
    unit: "requests/s",
    wallRate: Math.round(answered / seconds),
    sent: Number(line["sent"]),
    answered,
    speakerCpuSeconds: round(cpu, 2),
    loadavg: load(),
  });
}

async function firstAnswer(lab: Lab, emit: Emit): Promise<void> {
  const delays: number[] = [];
  for (let run = 0; run < FIRST_ANSWER_RUNS; run++) {
    const name = `first-${run}`;
    const probe = await lab.probe("solicit", ["--target", FIXED_IP, "--count", "6000", "--interval-ms", "5"]);
    try {
      const createdAt = Date.now();
      await lab.createService({
        name,
        families: ["IPv4"],
        annotations: { "ironlb.io/loadBalancerIPs": FIXED_IP },
      });
      const answer = await probe.next((l) => l.event === "answer" && l["ip"] === FIXED_IP, 30_000);
      delays.push(Number(answer["atMs"]) - createdAt);
    } finally {
      await probe.stop();
      await lab.deleteService(name);
    }
    await waitFor(
      "the Service's announcement to go",
      async () => ((await lab.announcers(name)).length === 0 ? true : undefined),
      {
        timeoutMs: 30_000,
      },
    );
  }
  delays.sort((a, b) => a - b);
  emit({
    bench: BENCH,
    figure: "service_created_to_first_arp_answer_p50",
    value: Math.round(percentile(delays, 50)),
    unit: "ms",
    max: Math.round(delays.at(-1) ?? Number.NaN),
    runs: delays.length,
    loadavg: load(),
  });
}

async function rssWithManyServices(lab: Lab, emit: Emit): Promise<void> {
  const [keep, ...others] = lab.layout.nodes.map((n) => n.nodeName);
  if (keep === undefined) throw new Error("no nodes");
  for (const node of others) await lab.stopSpeaker(node, "SIGTERM");
  const pid = lab.speakerPid(keep);
  if (pid === undefined) throw new Error(`no speaker on ${keep}`);
  await lab.apply(poolObject(BENCH_POOL.name, BENCH_POOL.addresses));
  await lab.apply(l2AdvertisementObject({ name: BENCH_POOL.name, pools: [BENCH_POOL.name] }));
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const before = rssMiB(pid);
  const names = Array.from({ length: RSS_SERVICES }, (_, i) => `many-${i}`);
  const started = performance.now();
  await inBatches(names, 16, (name) =>
    lab.createService({
      name,
      families: ["IPv6"],
      annotations: { "ironlb.io/address-pool": BENCH_POOL.name },
    }),
  );
  const announced = async (): Promise<number> =>
    (await lab.speakerMetrics(keep))
      .split("\n")
      .filter((l) => l.startsWith("ironlb_speaker_announced{") && l.includes('service="default/many-'))
      .length;
  const count = await waitFor(
    `${RSS_SERVICES} announced Services`,
    async () => {
      const n = await announced();
      return n >= RSS_SERVICES ? n : undefined;
    },
    { timeoutMs: 600_000, intervalMs: 1000 },
  );
  const allAnnouncedSeconds = (performance.now() - started) / 1000;
  // Let the status writes and takeover announcements finish before reading the steady-state RSS.
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  emit({
    bench: BENCH,
    figure: "speaker_rss_1000_services",
    value: rssMiB(pid),
    unit: "MiB",
    rssBeforeMiB: before,
    announced: count,
    createToAllAnnouncedSeconds: round(allAnnouncedSeconds),
    loadavg: load(),
  });
}

/** The newest modification time (ms) of the files under `dir`. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * The build in dist/ when it is newer than every source file (memory and latency without tsx's
 * loader thread and transpiled sources), else the sources under tsx, said in every figure.
 */
function programSource(): ProgramSource {
  try {
    if (statSync(join(PACKAGE_ROOT, "dist/cli/main.js")).mtimeMs > newestMtime(join(PACKAGE_ROOT, "src"))) {
      return "built";
    }
  } catch {
    // No build.
  }
  process.stderr.write(
    "l2 bench: dist/ is missing or older than src/, running the sources under tsx (npm run build first for figures without it)\n",
  );
  return "sources";
}

export default async function l2Bench(emitFigure: Emit): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stderr.write("l2 bench: skipped, it builds a network-namespace lab and needs root\n");
    return;
  }
  const programs = programSource();
  const emit: Emit = (figure) => {
    emitFigure({ ...figure, programs });
  };
  const lab = await Lab.start({
    programs,
    prefix: `ilb-b${process.pid}-`,
    stateDir: mkdtempSync(join(tmpdir(), "ironlb-lab-bench-")),
    nodes: 3,
    logLevel: "warn",
  });
  try {
    await latency(lab, emit);
    await throughput(lab, emit);
    await firstAnswer(lab, emit);
    await rssWithManyServices(lab, emit);
  } finally {
    await lab.stop();
  }
}
