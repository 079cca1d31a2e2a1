import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, closeSync, constants, openSync, readFileSync } from "node:fs";

export interface ProcessSpec {
  /** Short name for messages ("etcd", "kube-apiserver"). */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** stdout and stderr are appended here (kept across restarts). */
  readonly logFile: string;
}

export class ProcessStartError extends Error {
  override readonly name = "ProcessStartError";
  readonly code = "TESTENV_PROCESS_START";
}

/** Default time a process gets to exit after SIGTERM before it is killed. */
export const defaultStopGraceMs = 10_000;

const setpriv = "/usr/bin/setpriv";

function hasSetpriv(): boolean {
  try {
    accessSync(setpriv, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The command line that runs `spec`: through util-linux's setpriv with a parent-death signal when
 * available, so the kernel kills the child even if this process dies without running any exit
 * handler (SIGKILL, a worker torn down). setpriv execs the program: the PID stays the child's.
 */
function commandLine(spec: ProcessSpec): { command: string; args: string[] } {
  if (process.platform === "linux" && hasSetpriv()) {
    return { command: setpriv, args: ["--pdeathsig", "SIGKILL", "--", spec.command, ...spec.args] };
  }
  return { command: spec.command, args: [...spec.args] };
}

/**
 * One child process we started: stopped only by its own PID, first with SIGTERM and then,
 * after a bound, SIGKILL. Can be started again after it stopped (a restart keeps the spec).
 */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exit: Promise<void> | undefined;

  constructor(readonly spec: ProcessSpec) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.running) throw new ProcessStartError(`${this.spec.name} is already running`);
    const log = openSync(this.spec.logFile, "a");
    try {
      const { command, args } = commandLine(this.spec);
      const child = spawn(command, args, { stdio: ["ignore", log, log] });
      this.child = child;
      this.exit = new Promise((resolve) =>
        child.once("exit", () => {
          resolve();
        }),
      );
      // A spawn failure (ENOENT) arrives as an event; the readiness wait reports it.
      child.once("error", () => undefined);
    } finally {
      closeSync(log);
    }
    if (this.child.pid === undefined) {
      throw new ProcessStartError(`cannot start ${this.spec.command}`);
    }
  }

  /** Resolves when the process has exited; immediately if it never ran or already exited. */
  async exited(): Promise<void> {
    await this.exit;
  }

  async stop(graceMs: number = defaultStopGraceMs): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    try {
      await this.exit;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Immediate SIGKILL, for synchronous exit handlers. */
  killNow(): void {
    if (this.running) this.child?.kill("SIGKILL");
  }

  /** Last lines of the log, for error messages. */
  logTail(lines = 20): string {
    try {
      return readFileSync(this.spec.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "";
    }
  }
}
