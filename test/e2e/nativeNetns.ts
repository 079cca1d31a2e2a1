// Helpers for the native-addon end-to-end tests: prerequisites, throw-away network namespaces
// named ilb-…, and child processes run inside them (a namespace is per process, so code that
// must live in one runs as `ip netns exec NS node --import tsx script.ts`).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { nativeAvailable } from "../../src/native/index.js";
import { PrereqMissingError, requirePrereqs, strictPrereqs, type BinaryPrereq } from "../support/e2e.js";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * What these tests need: root, iproute2 and `programs` (checked by the shared prerequisite
 * gate), plus the built addon. Missing pieces skip the tests with the reason, except under
 * IRONLB_E2E=require, where this throws at collection time so the file fails with the message.
 */
export function nativeE2ePrereqs(programs: readonly (string | BinaryPrereq)[] = []): {
  skip: boolean;
  reason: string;
} {
  const verdict = requirePrereqs({ root: true, binaries: ["ip", ...programs] });
  if (verdict.missing.length > 0) return { skip: verdict.skip, reason: verdict.reason };
  if (!nativeAvailable()) {
    const reason = "missing the native addon build/Release/ironlb_native.node (npm ci builds it)";
    if (strictPrereqs())
      throw new PrereqMissingError(`IRONLB_E2E=require and the tests' prerequisites are ${reason}`);
    return { skip: true, reason };
  }
  return { skip: false, reason: "" };
}

export function run(args: readonly string[]): string {
  return execFileSync(args[0] ?? "", args.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** `ip netns exec NS …` */
export function inNetns(ns: string, args: readonly string[]): string {
  return run(["ip", "netns", "exec", ns, ...args]);
}

/** A namespace name unique to this test process: ilb-<tag>-<pid>. */
export function netnsName(tag: string): string {
  return `ilb-${tag}-${process.pid}`;
}

export function createNetns(name: string): void {
  run(["ip", "netns", "add", name]);
  inNetns(name, ["ip", "link", "set", "lo", "up"]);
  // No DAD: addresses (link-local included) are usable at once, so tests need no sleeps.
  inNetns(name, [
    "sysctl",
    "-q",
    "-w",
    "net.ipv6.conf.default.accept_dad=0",
    "net.ipv6.conf.all.accept_dad=0",
  ]);
}

/** Removes namespaces, ignoring ones already gone (cleanup must not throw over a test failure). */
export function deleteNetns(...names: string[]): void {
  for (const name of names) {
    try {
      run(["ip", "netns", "del", name]);
    } catch {
      // already removed
    }
  }
}

export const TSX_NODE = [process.execPath, "--import", "tsx"];

/** Starts `script` under tsx inside `ns`; stdout lines are JSON messages. */
export function spawnInNetns(ns: string, script: string, args: readonly string[] = []): ChildProcess {
  return spawn("ip", ["netns", "exec", ns, ...TSX_NODE, script, ...args], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Collects a child's stdout JSON lines; `next(pred)` waits (bounded) for a matching one. */
export class JsonLines {
  private readonly lines: unknown[] = [];
  private readonly waiters: (() => void)[] = [];
  stderr = "";
  exited = false;

  constructor(child: ChildProcess) {
    let buffered = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.trim() !== "") this.lines.push(JSON.parse(line));
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    child.on("exit", () => {
      this.exited = true;
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  async next<T>(predicate: (message: T) => boolean, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.lines.findIndex((line) => predicate(line as T));
      if (index >= 0) return this.lines.splice(index, 1)[0] as T;
      const left = deadline - Date.now();
      if (left <= 0 || this.exited) {
        throw new Error(`no matching message within ${timeoutMs} ms; child stderr:\n${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** Stops a child we started, by PID, and waits (bounded) for it to go. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      resolve();
    }),
  );
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
}
