/**
 * Drives l2ProbeMain in a namespace from the lab's process: JSON lines from its stdout, bounded
 * waits for a matching line, and a stop by PID. The probe dies with us (parent-death signal).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { onExitCleanup } from "../testenv/exitCleanup.js";
import { nodeEntry, PACKAGE_ROOT, type ProgramSource } from "./entries.js";
import { LabTimeoutError, withParentDeathSignal } from "./processes.js";

export type ProbeMode = "watch" | "solicit" | "latency" | "flood";

/** A line of the probe's output (see l2ProbeMain.ts). */
export interface ProbeLine {
  readonly event: string;
  readonly [field: string]: unknown;
}

/** An answer line: bigint fields arrive as strings. */
export interface ProbeAnswer extends ProbeLine {
  readonly event: "answer";
  readonly kind: "arp-reply" | "arp-gratuitous" | "na";
  readonly ip: string;
  readonly mac: string;
  readonly claimedMac?: string;
  readonly solicited?: boolean;
  readonly override?: boolean;
  readonly atNs: string;
  readonly atMs: number;
}

export const isAnswer = (line: ProbeLine): line is ProbeAnswer => line.event === "answer";

export class ProbeSession {
  private readonly received: ProbeLine[] = [];
  private readonly waiters = new Set<() => void>();
  private stderr = "";
  private exited = false;
  private readonly exit: Promise<void>;
  private readonly unregister: () => void;

  private constructor(private readonly child: ChildProcess) {
    let buffered = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line !== "") this.received.push(JSON.parse(line) as ProbeLine);
      }
      this.wakeAll();
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
    this.exit = new Promise((resolve) =>
      child.once("exit", () => {
        this.exited = true;
        this.wakeAll();
        resolve();
      }),
    );
    this.unregister = onExitCleanup(() => {
      if (!this.exited) child.kill("SIGKILL");
    });
  }

  /** Starts the probe in `netns` and waits (bounded) for its "ready" line. */
  static async start(
    netns: string,
    mode: ProbeMode,
    programs: ProgramSource | undefined,
    args: readonly string[],
    readyTimeoutMs = 60_000,
  ): Promise<ProbeSession> {
    const argv = ["ip", "netns", "exec", netns, ...nodeEntry("lab/l2ProbeMain", programs), mode, ...args];
    const [command = "", ...commandArgs] = withParentDeathSignal(argv);
    const child = spawn(command, commandArgs, {
      cwd: PACKAGE_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const session = new ProbeSession(child);
    try {
      await session.next((line) => line.event === "ready", readyTimeoutMs);
    } catch (error) {
      await session.stop();
      throw error;
    }
    return session;
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }

  /** Every line so far (not consumed by next()). */
  lines(): readonly ProbeLine[] {
    return this.received;
  }

  answers(): ProbeAnswer[] {
    return this.received.filter(isAnswer);
  }

  /** Waits for the first line matching `predicate` (removing it from lines()). */
  async next<T extends ProbeLine = ProbeLine>(
    predicate: (line: ProbeLine) => boolean,
    timeoutMs: number,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.received.findIndex(predicate);
      if (index >= 0) return this.received.splice(index, 1)[0] as T;
      const left = deadline - Date.now();
      if (left <= 0 || this.exited) {
        throw new LabTimeoutError(
          `probe: no matching line within ${timeoutMs} ms${this.exited ? " (probe exited)" : ""}; stderr:\n${this.stderr}`,
        );
      }
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.waiters.add(done);
      });
    }
  }

  /** Resolves when the probe has exited by itself (solicit, latency, flood end on their own). */
  async finished(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new LabTimeoutError(`probe still running after ${timeoutMs} ms; stderr:\n${this.stderr}`));
      }, timeoutMs);
    });
    try {
      await Promise.race([this.exit, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM by PID, SIGKILL after 2 s. */
  async stop(): Promise<void> {
    if (!this.exited) {
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 2000);
      await this.exit;
      clearTimeout(timer);
    }
    this.unregister();
  }
}
