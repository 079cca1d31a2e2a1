/**
 * Pieces of the failover benchmark (failover.bench.ts) that do not drive the lab: the client's
 * connection prober, the CPU hog of the quiet run, summing the speakers' counters, percentiles
 * and bounded polling. Every child process is started here and stopped by its PID.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An integer of at least `min` (default 1) from the environment, or the default when unset or
 * blank.
 */
export function envInteger(name: string, fallback: number, min = 1): number {
  const text = process.env[name];
  if (text === undefined || text.trim() === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    const wanted =
      min === 1
        ? "a positive integer"
        : min === 0
          ? "0 or a positive integer"
          : `an integer >= ${String(min)}`;
    throw new Error(`${name} must be ${wanted}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/**
 * A comma-separated subset of `allowed` from the environment (order of `allowed`, duplicates
 * merged), or all of `allowed` when unset or blank.
 */
export function envChoices<T extends string>(name: string, allowed: readonly T[]): T[] {
  const text = process.env[name];
  if (text === undefined || text.trim() === "") return [...allowed];
  const words = text.split(",").map((w) => w.trim());
  const unknown = words.filter((w) => !(allowed as readonly string[]).includes(w));
  if (unknown.length > 0)
    throw new Error(
      `${name} must be a comma-separated list of ${allowed.join(", ")}; unknown: ${unknown.map((w) => JSON.stringify(w)).join(", ")}`,
    );
  return allowed.filter((a) => words.includes(a));
}

/** Nearest-rank percentile of an ascending list (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** Polls `probe` until it returns a value or `timeoutMs` passes (then undefined). */
export async function pollFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined || Date.now() >= deadline) return value;
    await sleep(intervalMs);
  }
}

/**
 * Runs inside the client namespace: a new TCP connection to ip:80 every interval, one JSON line
 * each. Plain net.connect, so the kernel resolves the VIP with its own neighbour cache.
 */
const PROBER_SOURCE = `
const net = require("node:net");
const [ip, interval] = [process.argv[1], Number(process.argv[2])];
setInterval(() => {
  const start = Date.now();
  let body = "";
  let finished = false;
  const socket = net.connect({ host: ip, port: 80, timeout: 1000 });
  const done = (ok) => {
    if (finished) return;
    finished = true;
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

export interface Attempt {
  readonly start: number;
  readonly end: number;
  readonly ok: boolean;
  /** The node whose backend answered ("" when the attempt failed). */
  readonly node: string;
}

export class Prober {
  private attempts: Attempt[] = [];
  private readonly child: ChildProcess;

  constructor(
    netns: string,
    readonly ip: string,
    intervalMs: number,
  ) {
    this.child = spawn(
      "ip",
      ["netns", "exec", netns, process.execPath, "-e", PROBER_SOURCE, ip, String(intervalMs)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    if (this.child.stdout === null) throw new Error("the prober has no stdout");
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      this.attempts.push(JSON.parse(line) as Attempt);
    });
  }

  /** Attempts started at or after `since`. */
  since(since: number): Attempt[] {
    return this.attempts.filter((a) => a.start >= since);
  }

  /** Forget attempts that ended before `before` (keeps memory flat over a long run). */
  prune(before: number): void {
    this.attempts = this.attempts.filter((a) => a.end >= before);
  }

  /** First attempt started at or after `since` satisfying `accept` (polled; undefined on timeout). */
  first(since: number, accept: (a: Attempt) => boolean, timeoutMs: number): Promise<Attempt | undefined> {
    return pollFor(() => this.attempts.find((a) => a.start >= since && accept(a)), timeoutMs, 10);
  }

  /** Stops the prober by its PID (idempotent). */
  stop(): void {
    const { pid } = this.child;
    if (
      pid === undefined ||
      this.child.exitCode !== null ||
      this.child.signalCode !== null ||
      this.child.killed
    )
      return;
    this.child.kill("SIGTERM");
  }
}

/**
 * Another process keeping `threads` cores busy (a spinning main thread plus workers), for the
 * quiet run. Stopped by its PID.
 */
export class CpuHog {
  private readonly child: ChildProcess;

  constructor(threads: number) {
    const source = `
const { Worker } = require("node:worker_threads");
for (let i = 1; i < ${String(threads)}; i++) new Worker("for (;;) {}", { eval: true });
for (;;) {}
`;
    this.child = spawn(process.execPath, ["-e", source], { stdio: "ignore" });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async stop(): Promise<void> {
    const { pid } = this.child;
    if (pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) =>
      this.child.once("exit", () => {
        resolve();
      }),
    );
    process.kill(pid, "SIGKILL");
    await Promise.race([exited, sleep(5_000)]);
  }
}

/** Sum of every sample of `metric` (any labels) in Prometheus text. */
export function sumMetric(text: string, metric: string): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match?.[1] === metric) total += Number(match[3]);
  }
  return total;
}
