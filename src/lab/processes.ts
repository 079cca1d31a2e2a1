/**
 * Processes the lab starts, each inside a network namespace, and how they are stopped: only by
 * their own PID, and only when /proc still shows the very process we started (PID and start time
 * match), so a recycled PID is never signalled.
 *
 * Two ownerships: "owned" processes die with the Node process that started them (tests and
 * benchmarks: a parent-death signal plus an exit handler); "detached" ones outlive it in their own
 * session (`ironlb lab up` returns while the lab keeps running) and are found again through the
 * state file.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, closeSync, constants, openSync, readFileSync } from "node:fs";
import { onExitCleanup } from "../testenv/exitCleanup.js";

export type Ownership = "owned" | "detached";

export interface LabProcessSpec {
  /** Unique name within the lab, e.g. "speaker-ilb-node1". */
  readonly name: string;
  /** Network namespace to run in; none means the caller's. */
  readonly netns?: string;
  readonly argv: readonly string[];
  /** stdout and stderr are appended here. */
  readonly logFile: string;
  readonly cwd?: string;
  /** Added to (and overriding) this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Open a Node IPC channel (the child must be a Node process), e.g. to hand it a listening socket. */
  readonly ipc?: boolean;
}

/** What identifies a started process later, also from another invocation (stored in the state file). */
export interface ProcessRecord {
  readonly name: string;
  readonly pid: number;
  /** Field 22 of /proc/PID/stat (clock ticks after boot): tells our process from a recycled PID. */
  readonly startTicks: number;
  readonly netns?: string;
  readonly argv: readonly string[];
  readonly logFile: string;
}

export class LabProcessError extends Error {
  override readonly name = "LabProcessError";
  readonly code = "LAB_PROCESS";
}

const SETPRIV = "/usr/bin/setpriv";
export const DEFAULT_STOP_GRACE_MS = 5_000;

function canUseSetpriv(): boolean {
  try {
    accessSync(SETPRIV, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * `argv` run so that the kernel kills it (SIGKILL) when this process dies, even without exit
 * handlers, when util-linux's setpriv is there. setpriv and `ip netns exec` both exec the next
 * program: the PID stays the child's own.
 */
export function withParentDeathSignal(argv: readonly string[]): string[] {
  return canUseSetpriv() ? [SETPRIV, "--pdeathsig", "SIGKILL", "--", ...argv] : [...argv];
}

/** State letter and start time of `pid`, or undefined when it does not exist. */
function procStat(pid: number): { state: string; startTicks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
    return { state: fields[0] ?? "?", startTicks: Number(fields[19] ?? "0") };
  } catch {
    return undefined;
  }
}

/** True while the recorded process runs (a zombie or a different process with its PID count as gone). */
export function recordAlive(record: Pick<ProcessRecord, "pid" | "startTicks">): boolean {
  const stat = procStat(record.pid);
  return (
    stat !== undefined && stat.startTicks === record.startTicks && stat.state !== "Z" && stat.state !== "X"
  );
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function signalRecord(record: ProcessRecord, signal: NodeJS.Signals): void {
  if (!recordAlive(record)) return;
  try {
    process.kill(record.pid, signal);
  } catch {
    // Exited between the check and the signal.
  }
}

/**
 * Stops a recorded process, ours or left by an earlier invocation: SIGTERM, then SIGKILL after
 * `graceMs`. Resolves once it is gone (bounded: a process that survives SIGKILL for 5 s is reported).
 */
export async function stopRecord(record: ProcessRecord, graceMs = DEFAULT_STOP_GRACE_MS): Promise<void> {
  signalRecord(record, "SIGTERM");
  const killAt = Date.now() + graceMs;
  while (recordAlive(record) && Date.now() < killAt) await sleep(25);
  if (!recordAlive(record)) return;
  signalRecord(record, "SIGKILL");
  const giveUpAt = Date.now() + 5_000;
  while (recordAlive(record) && Date.now() < giveUpAt) await sleep(25);
  if (recordAlive(record)) throw new LabProcessError(`${record.name} (pid ${record.pid}) survived SIGKILL`);
}

/** A process we started in this invocation. */
export class LabProcess {
  private readonly exit: Promise<void>;
  private exitDescription: string | undefined;
  private readonly unregister: () => void;

  private constructor(
    readonly record: ProcessRecord,
    readonly child: ChildProcess,
    readonly ownership: Ownership,
  ) {
    this.exit = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        this.exitDescription = signal === null ? `exit code ${String(code)}` : `signal ${signal}`;
        resolve();
      }),
    );
    this.unregister =
      ownership === "owned"
        ? onExitCleanup(() => {
            if (this.running) child.kill("SIGKILL");
          })
        : () => undefined;
    void this.exit.then(() => {
      this.unregister();
    });
  }

  static start(spec: LabProcessSpec, ownership: Ownership): LabProcess {
    const command =
      spec.netns === undefined ? [...spec.argv] : ["ip", "netns", "exec", spec.netns, ...spec.argv];
    const argv = ownership === "owned" ? withParentDeathSignal(command) : command;
    const log = openSync(spec.logFile, "a");
    let child: ChildProcess;
    try {
      child = spawn(argv[0] ?? "", argv.slice(1), {
        cwd: spec.cwd,
        env: { ...process.env, ...spec.env },
        stdio: spec.ipc === true ? ["ignore", log, log, "ipc"] : ["ignore", log, log],
        detached: ownership === "detached",
      });
    } finally {
      closeSync(log);
    }
    // A spawn failure (ENOENT) arrives as an event; the exit promise and running report it.
    child.once("error", () => undefined);
    const pid = child.pid;
    const stat = pid === undefined ? undefined : procStat(pid);
    if (pid === undefined || stat === undefined) {
      throw new LabProcessError(`cannot start ${spec.name}: ${argv.join(" ")}`);
    }
    if (ownership === "detached") child.unref();
    const record: ProcessRecord = {
      name: spec.name,
      pid,
      startTicks: stat.startTicks,
      ...(spec.netns === undefined ? {} : { netns: spec.netns }),
      argv: spec.argv,
      logFile: spec.logFile,
    };
    return new LabProcess(record, child, ownership);
  }

  get pid(): number {
    return this.record.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** How it ended ("exit code 1", "signal SIGTERM"), or undefined while it runs. */
  get exitReason(): string | undefined {
    return this.exitDescription;
  }

  async exited(): Promise<void> {
    await this.exit;
  }

  /** Sends `signal` to this process only (by PID). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  async stop(graceMs = DEFAULT_STOP_GRACE_MS): Promise<void> {
    if (!this.running) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    try {
      await this.exit;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Lets this process's event loop exit while the child runs (detached children, IPC channels). */
  release(): void {
    if (this.child.connected) this.child.disconnect();
    this.child.unref();
  }

  /** Last lines of its log, for error messages. */
  logTail(lines = 30): string {
    return logTail(this.record.logFile, lines);
  }
}

export function logTail(file: string, lines = 30): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

export class LabTimeoutError extends Error {
  override readonly name = "LabTimeoutError";
  readonly code = "LAB_TIMEOUT";
}

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Checked before every attempt: a message ends the wait at once (e.g. the process died). */
  readonly giveUp?: () => string | undefined;
}

/**
 * Polls `attempt` until it returns a value other than undefined, within a bound. Errors thrown by
 * an attempt count as "not yet" and the last one is reported on timeout.
 */
export async function waitFor<T>(
  what: string,
  attempt: () => Promise<T | undefined> | T | undefined,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    const reason = options.giveUp?.();
    if (reason !== undefined) throw new LabTimeoutError(`gave up waiting for ${what}: ${reason}`);
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new LabTimeoutError(`timed out after ${options.timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}
