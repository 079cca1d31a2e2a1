/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
// Helpers for the speaker's integration and end-to-end tests: `ironlb speaker` as a child process
// (optionally inside a network namespace) with its JSON log lines, its metrics, a simulated
// network folder, and the cluster objects a Layer 2 Service needs.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import {
  ApiextensionsV1Api,
  type CoreV1Api,
  type DiscoveryV1Api,
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

export interface SpeakerProcessOptions {
  readonly node: string;
  readonly kubeconfigPath: string;
  readonly namespace: string;
  readonly lbClass?: string;
  readonly leaseDurationSeconds?: number;
  /** A folder made by writeSimulatedNetwork: no raw sockets, no host links. */
  readonly simulateNetwork?: string;
  /** Run inside this network namespace (`ip netns exec`). */
  readonly netns?: string;
  readonly metricsAddr?: string;
  readonly extraArgs?: readonly string[];
}

/** One `ironlb speaker` child process, stopped only through its own PID. */
export class SpeakerProcess {
  readonly logs: LogLine[] = [];
  stderr = "";
  private readonly waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  readonly exited: Promise<number | null>;

  private constructor(
    readonly node: string,
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

  static start(options: SpeakerProcessOptions): SpeakerProcess {
    const args = [
      "--import",
      "tsx",
      mainScript,
      "speaker",
      "--node",
      options.node,
      "--kubeconfig",
      options.kubeconfigPath,
      "--namespace",
      options.namespace,
      "--metrics-addr",
      options.metricsAddr ?? "127.0.0.1:0",
      "--log-level",
      "debug",
      ...(options.lbClass === undefined ? [] : ["--lb-class", options.lbClass]),
      ...(options.leaseDurationSeconds === undefined
        ? []
        : ["--lease-duration", String(options.leaseDurationSeconds)]),
      ...(options.simulateNetwork === undefined ? [] : ["--simulate-network", options.simulateNetwork]),
      ...(options.extraArgs ?? []),
    ];
    const [command, commandArgs] =
      options.netns === undefined
        ? [process.execPath, args]
        : ["ip", ["netns", "exec", options.netns, process.execPath, ...args]];
    const child = spawn(command, commandArgs, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    return new SpeakerProcess(options.node, child);
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
            `speaker ${this.node} (pid ${this.pid}): no matching log line in ${timeoutMs} ms\n` +
              `stderr: ${this.stderr}\n` +
              this.logs
                .slice(-15)
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

  async metricsPort(): Promise<number> {
    const line = await this.waitForLog((l) => l.msg === "ops server listening");
    return line.port as number;
  }

  /** The Prometheus text of its /metrics (only reachable from the namespace it runs in). */
  async metrics(host = "127.0.0.1"): Promise<string> {
    const response = await fetch(`http://${host}:${await this.metricsPort()}/metrics`);
    return response.text();
  }

  /** Signals the process (by its PID) and waits, bounded, for it to exit. */
  async stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM", timeoutMs = 10_000): Promise<number | null> {
    if (!this.running) return this.child.exitCode;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** The value of one sample in Prometheus text (`name{labels} value`), or undefined. */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const brace = line.indexOf("{");
    const labelText =
      brace >= 0 && line.startsWith(`${name}{`) ? line.slice(brace + 1, line.lastIndexOf("}")) : "";
    const matches = Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`));
    if (matches) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

/** A sysfs-shaped folder with the given Ethernet links, for `--simulate-network`. */
export function writeSimulatedNetwork(
  dir: string,
  links: readonly { name: string; ifindex: number; mac: string; up?: boolean }[],
): void {
  const inet6: string[] = [];
  for (const link of links) {
    const path = join(dir, "net", link.name);
    mkdirSync(path, { recursive: true });
    const up = link.up ?? true;
    const files: Record<string, string> = {
      ifindex: String(link.ifindex),
      type: "1",
      flags: up ? "0x1003" : "0x1002",
      operstate: up ? "up" : "down",
      address: link.mac,
    };
    for (const [file, value] of Object.entries(files)) writeFileSync(join(path, file), `${value}\n`);
    inet6.push(
      `fe80000000000000000000000000${link.ifindex.toString(16).padStart(4, "0")} 02 40 20 80 ${link.name}`,
    );
  }
  writeFileSync(join(dir, "if_inet6"), `${inet6.join("\n")}\n`);
}

/** Applies deploy/crds/*.yaml (ignoring ones already there) and waits until they are served. */
export async function installCRDs(kubeConfig: KubeConfig): Promise<void> {
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
}

export interface LayerTwoServiceOptions {
  readonly namespace: string;
  readonly name: string;
  readonly lbClass: string;
  readonly ips: readonly string[];
  /** Nodes with a ready endpoint. */
  readonly endpointNodes: readonly string[];
}

/**
 * A LoadBalancer Service of `lbClass` whose status already holds `ips` (as the controller would
 * write it) and an EndpointSlice with a ready endpoint on each of `endpointNodes`.
 */
export async function createLayerTwoService(
  core: CoreV1Api,
  discovery: DiscoveryV1Api,
  options: LayerTwoServiceOptions,
): Promise<void> {
  const { namespace, name } = options;
  await core.createNamespacedService({
    namespace,
    body: {
      metadata: { name },
      spec: {
        type: "LoadBalancer",
        loadBalancerClass: options.lbClass,
        ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: 8080 }],
        ipFamilyPolicy: "PreferDualStack",
      },
    },
  });
  const created = await core.readNamespacedService({ namespace, name });
  created.status = { loadBalancer: { ingress: options.ips.map((ip) => ({ ip })) } };
  await core.replaceNamespacedServiceStatus({ namespace, name, body: created });
  await discovery.createNamespacedEndpointSlice({
    namespace,
    body: {
      metadata: { name: `${name}-ilb`, labels: { "kubernetes.io/service-name": name } },
      addressType: "IPv4",
      ports: [{ name: "http", port: 8080, protocol: "TCP" }],
      endpoints: options.endpointNodes.map((node, i) => ({
        addresses: [`10.244.${i}.10`],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: node,
      })),
    },
  });
}

/** Polls `probe` every 100 ms until it returns a value, or throws after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
