// `ironlb` as a child process for integration and end-to-end tests: a one-shot command (runCli),
// a daemon (DaemonProcess, stopped only through its own PID, with its JSON log lines and metrics:
// what the controller's and the speaker's harnesses share), and the CRDs applied to the API server.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import {
  ApiextensionsV1Api,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { parse } from "yaml";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const mainScript = join(REPO_ROOT, "src/cli/main.ts");
const crdDir = join(REPO_ROOT, "deploy/crds");

export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface DaemonOptions {
  readonly kubeconfigPath: string;
  /** --namespace: where its configuration and Leases live. */
  readonly namespace: string;
  readonly lbClass?: string;
  readonly metricsAddr?: string;
  readonly extraArgs?: readonly string[];
}

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `ironlb ARGS` to its end (KUBECONFIG cleared: pass --kubeconfig). */
export function runCli(args: readonly string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", mainScript, ...args], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, KUBECONFIG: "" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.once("error", reject);
    child.once("exit", (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

/** `node --import tsx main.ts <command> …` with the flags every daemon takes, then `args`. */
export function daemonArgs(command: string, options: DaemonOptions, args: readonly string[]): string[] {
  return [
    "--import",
    "tsx",
    mainScript,
    command,
    "--kubeconfig",
    options.kubeconfigPath,
    "--namespace",
    options.namespace,
    "--metrics-addr",
    options.metricsAddr ?? "127.0.0.1:0",
    "--log-level",
    "debug",
    ...(options.lbClass === undefined ? [] : ["--lb-class", options.lbClass]),
    ...args,
    ...(options.extraArgs ?? []),
  ];
}

/** One daemon child process: its log lines as they come, waits on them, its metrics, stop. */
export class DaemonProcess {
  readonly logs: LogLine[] = [];
  stderr = "";
  private readonly waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  readonly exited: Promise<number | null>;

  /** `name` says which daemon in timeout messages. */
  protected constructor(
    private readonly name: string,
    readonly child: ChildProcessByStdio<null, Readable, Readable>,
  ) {
    let buffered = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      let nl = buffered.indexOf("\n");
      while (nl >= 0) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf("\n");
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          continue;
        }
        this.logs.push(line);
        for (const w of [...this.waiters]) {
          if (w.match(line)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = once(child, "exit").then(([code]) => code as number | null);
  }

  /** Spawns `command args` from the repository root with stdout and stderr piped. */
  protected static spawnChild(
    command: string,
    args: readonly string[],
  ): ChildProcessByStdio<null, Readable, Readable> {
    return spawn(command, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first log line (past or future) that matches; rejects after `timeoutMs`. */
  waitForLog(match: (l: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const seen = this.logs.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `${this.name} (pid ${this.pid}): no matching log line in ${timeoutMs} ms\n` +
              `stderr: ${this.stderr}\n` +
              this.logs
                .slice(-20)
                .map((l) => JSON.stringify(l))
                .join("\n"),
          ),
        );
      }, timeoutMs);
      this.waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  }

  /** The port of its /metrics endpoint. */
  async metricsPort(): Promise<number> {
    const line = await this.waitForLog((l) => l.msg === "ops server listening");
    return line.port as number;
  }

  /** The Prometheus text of its /metrics (only reachable from the network namespace it runs in). */
  async metrics(host = "127.0.0.1"): Promise<string> {
    const response = await fetch(`http://${host}:${await this.metricsPort()}/metrics`);
    return response.text();
  }

  /** Signals the process (by its PID) and waits for it to exit, SIGKILLing it after `timeoutMs`. */
  async stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM", timeoutMs = 10_000): Promise<number | null> {
    if (!this.running) return this.child.exitCode;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** Applies deploy/crds/*.yaml (keeping ones already there) and waits until every one is Established. */
export async function installCRDs(kubeConfig: KubeConfig): Promise<string[]> {
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  const names: string[] = [];
  for (const file of readdirSync(crdDir).filter((f) => f.endsWith(".yaml"))) {
    const crd = parse(readFileSync(join(crdDir, file), "utf8")) as V1CustomResourceDefinition;
    names.push(crd.metadata?.name ?? "");
    try {
      await api.createCustomResourceDefinition({ body: crd });
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw error;
    }
  }
  const deadline = Date.now() + 30_000;
  for (const name of names) {
    for (;;) {
      const crd = await api.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") === true)
        break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not established`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return names;
}
