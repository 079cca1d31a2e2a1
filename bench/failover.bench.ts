/**
 * Layer 2 failover measured in a 3-node lab from the client's side (as root; `npm run
 * bench:failover`), a reduced version of issue 6 section 3: IPv4 only, ITERATIONS of each of
 *
 * - hard: the announcing node's switch port goes down (neither its speaker nor its backend answers);
 * - kill: SIGKILL of the announcing speaker (the node and its backend stay up);
 * - term: SIGTERM of the announcing speaker (graceful leave).
 *
 * A prober in the client namespace opens a new TCP connection to the VIP every 20 ms (plain
 * `net.connect`, so the kernel's own neighbour cache resolves the VIP) and reads which node's
 * backend answered. Each figure is the time from the failure to the first successful connection
 * through another node; p50, p99 and max per kind, plus the connections started meanwhile that
 * failed (time-outs of 1 s, so some of them end after the switch).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Lab } from "../src/lab/lab.js";
import type { Emit } from "./run.js";

const BENCH = "failover";
const ITERATIONS = 5;
const PROBE_INTERVAL_MS = 20;
const FAILOVER_TIMEOUT_MS = 15_000;
const KINDS = ["hard", "kill", "term"] as const;
type FailureKind = (typeof KINDS)[number];
/** Targets of issue 6 for the p99 (none for a speaker crash: "within the same bound" as hard). */
const P99_TARGET_MS: Record<FailureKind, number> = { hard: 1000, kill: 1000, term: 200 };

/** Runs inside the client namespace: one connection attempt every interval, one JSON line each. */
const PROBER_SOURCE = `
const net = require("node:net");
const [ip, interval] = [process.argv[1], Number(process.argv[2])];
setInterval(() => {
  const start = Date.now();
  let body = "";
  const socket = net.connect({ host: ip, port: 80, timeout: 1000 });
  const done = (ok) => {
    socket.destroy();
    const node = ok ? (/\\r\\n\\r\\n([\\s\\S]*)$/.exec(body)?.[1] ?? "").trim() : "";
    process.stdout.write(JSON.stringify({ start, end: Date.now(), ok: ok && node !== "", node }) + "\\n");
  };
  socket.once("connect", () => socket.write("GET / HTTP/1.0\\r\\nHost: vip\\r\\n\\r\\n"));
  socket.on("data", (chunk) => { body += chunk; });
  socket.once("end", () => done(true));
  socket.once("timeout", () => done(false));
  socket.once("error", () => done(false));
}, interval);
`;

interface Attempt {
  readonly start: number;
  readonly end: number;
  readonly ok: boolean;
  readonly node: string;
}

class Prober {
  readonly attempts: Attempt[] = [];
  private readonly child: ChildProcess;

  constructor(netns: string, ip: string) {
    this.child = spawn(
      "ip",
      ["netns", "exec", netns, process.execPath, "-e", PROBER_SOURCE, ip, String(PROBE_INTERVAL_MS)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    if (this.child.stdout === null) throw new Error("the prober has no stdout");
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      this.attempts.push(JSON.parse(line) as Attempt);
    });
  }

  /** First attempt ending after `since` that satisfies `accept` (polled; undefined on timeout). */
  async first(
    since: number,
    accept: (a: Attempt) => boolean,
    timeoutMs: number,
  ): Promise<Attempt | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.attempts.find((a) => a.end >= since && accept(a));
      if (hit !== undefined || Date.now() > deadline) return hit;
      await sleep(PROBE_INTERVAL_MS);
    }
  }

  stop(): void {
    if (this.child.pid !== undefined && this.child.exitCode === null) this.child.kill("SIGTERM");
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** Waits until the announcer and the node serving the client agree; returns it. */
async function settled(lab: Lab, prober: Prober): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const announcer = await lab.waitForAnnouncer("demo", { timeoutMs: 30_000 });
    const served = await prober.first(Date.now(), (a) => a.ok, 5_000);
    if (served?.node === announcer) return announcer;
    // A hand-back can leave the client on the previous owner (see test/e2e/lab.test.ts primeClient).
    if (attempt >= 3) await lab.flushClientNeighbours();
    if (attempt >= 10) throw new Error(`the client stays on ${served?.node ?? "nothing"}, not ${announcer}`);
    await sleep(500);
  }
}

async function fail(lab: Lab, kind: FailureKind, node: string): Promise<void> {
  if (kind === "hard") await lab.cutNode(node);
  else await lab.stopSpeaker(node, kind === "kill" ? "SIGKILL" : "SIGTERM");
}

async function recover(lab: Lab, kind: FailureKind, node: string): Promise<void> {
  if (kind === "hard") await lab.restoreNode(node);
  else lab.startSpeaker(node);
  await lab.waitForLiveSpeakers([node]);
}

export default async function failoverBench(emit: Emit): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stderr.write("failover bench: skipped, it builds a network-namespace lab and needs root\n");
    return;
  }
  const lab = await Lab.start({
    prefix: `ilb-f${process.pid}-`,
    stateDir: mkdtempSync(join(tmpdir(), "ironlb-lab-failover-")),
    nodes: 3,
    logLevel: "warn",
  });
  let prober: Prober | undefined;
  try {
    const ips = await lab.waitForServiceIPs("demo", "default", { count: 2 });
    const vip4 = ips.find((ip) => !ip.includes(":"));
    if (vip4 === undefined) throw new Error(`no IPv4 address among ${ips.join(", ")}`);
    prober = new Prober(lab.layout.clientNetns, vip4);
    for (const kind of KINDS) {
      const times: number[] = [];
      let missed = 0;
      let failedConnections = 0;
      for (let i = 0; i < ITERATIONS; i++) {
        const old = await settled(lab, prober);
        const failedAt = Date.now();
        await fail(lab, kind, old);
        const through = await prober.first(failedAt, (a) => a.ok && a.node !== old, FAILOVER_TIMEOUT_MS);
        await recover(lab, kind, old);
        // Let the hand-back to the hash's owner finish before the next round. This also outlasts
        // the prober's 1 s time-out, so every attempt started before the switch has ended.
        await sleep(2_000);
        if (through === undefined) missed++;
        else {
          times.push(through.end - failedAt);
          failedConnections += prober.attempts.filter(
            (a) => !a.ok && a.start >= failedAt && a.start <= through.end,
          ).length;
        }
      }
      times.sort((a, b) => a - b);
      const extra = {
        family: "IPv4",
        iterations: ITERATIONS,
        missed,
        failedConnections,
        loadavg: Number((loadavg()[0] ?? 0).toFixed(2)),
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
      emit({ bench: BENCH, figure: `${kind}_max`, value: times.at(-1) ?? Number.NaN, unit: "ms", ...extra });
    }
  } finally {
    prober?.stop();
    await lab.stop();
  }
}
