/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
// Helpers for the controller's integration tests: `ironlb controller` as a child process (so it can
// be SIGKILLed), the CRDs applied, and small waits on Service state.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  type KubeConfig,
  type V1CustomResourceDefinition,
  type V1Service,
} from "@kubernetes/client-node";
import { parse } from "yaml";
import { processAlive } from "../support/testenv.js";

const mainScript = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const crdDir = fileURLToPath(new URL("../../deploy/crds/", import.meta.url));

export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface ControllerProcessOptions {
  readonly kubeconfigPath: string;
  /** --namespace: where its configuration (and Lease) lives. */
  readonly namespace: string;
  readonly lbClass?: string;
  readonly leaderElect?: boolean;
  readonly extraArgs?: readonly string[];
}

/** One `ironlb controller` child process, stopped only by its own PID. */
export class ControllerProcess {
  readonly logs: LogLine[] = [];
  private stderr = "";
  private readonly waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  readonly exited: Promise<void>;

  private constructor(readonly child: ChildProcessByStdio<null, Readable, Readable>) {
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
    this.exited = once(child, "exit").then(() => undefined);
  }

  static start(options: ControllerProcessOptions): ControllerProcess {
    const args = [
      "--import",
      "tsx",
      mainScript,
      "controller",
      "--kubeconfig",
      options.kubeconfigPath,
      "--namespace",
      options.namespace,
      "--metrics-addr",
      "127.0.0.1:0",
      "--log-level",
      "debug",
      ...(options.lbClass === undefined ? [] : ["--lb-class", options.lbClass]),
      ...(options.leaderElect === true ? ["--leader-elect"] : []),
      ...(options.extraArgs ?? []),
    ];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    const started = new ControllerProcess(child);
    running.add(started);
    return started;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Resolves with the first log line (past or future) that matches, or rejects after `timeoutMs`. */
  waitForLog(match: (l: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const seen = this.logs.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `controller ${this.pid}: no matching log line in ${timeoutMs} ms\nstderr: ${this.stderr}\n` +
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

  /** Waits until this controller leads and has loaded the existing assignments. */
  reconciling(timeoutMs?: number): Promise<LogLine> {
    return this.waitForLog((l) => l.msg === "leading: reconciling", timeoutMs);
  }

  /** The port of its /metrics endpoint. */
  async metricsPort(): Promise<number> {
    const line = await this.waitForLog((l) => l.msg === "ops server listening");
    return line.port as number;
  }

  async metrics(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${await this.metricsPort()}/metrics`);
    return response.text();
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (processAlive(this.child.pid)) this.child.kill(signal);
    await this.exited;
    running.delete(this);
  }
}

const running = new Set<ControllerProcess>();

/** SIGKILL every controller this file started (afterEach/afterAll safety net). */
export async function killAllControllers(): Promise<void> {
  await Promise.all([...running].map((c) => c.kill("SIGKILL")));
}

/** Applies deploy/crds (create, or keep when present) and waits until every CRD is Established. */
export async function installCRDs(config: KubeConfig): Promise<string[]> {
  const api = config.makeApiClient(ApiextensionsV1Api);
  const names: string[] = [];
  for (const file of readdirSync(crdDir).filter((f) => f.endsWith(".yaml"))) {
    const crd = parse(readFileSync(crdDir + file, "utf8")) as V1CustomResourceDefinition;
    const name = crd.metadata?.name ?? "";
    names.push(name);
    try {
      await api.createCustomResourceDefinition({ body: crd });
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw error;
    }
  }
  for (const name of names) {
    for (let i = 0; ; i++) {
      const crd = await api.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) break;
      if (i > 100) throw new Error(`CRD ${name} not established`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return names;
}

export interface PoolSpecInput {
  addresses: string[];
  autoAssign?: boolean;
  avoidBuggyIPs?: boolean;
  serviceAllocation?: Record<string, unknown>;
}

/** Small client helpers bound to one kubeconfig. */
export class Cluster {
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly events: EventsV1Api;

  constructor(readonly config: KubeConfig) {
    this.core = config.makeApiClient(CoreV1Api);
    this.custom = config.makeApiClient(CustomObjectsApi);
    this.events = config.makeApiClient(EventsV1Api);
  }

  async namespace(name: string, labels: Record<string, string> = {}): Promise<void> {
    await this.core.createNamespace({ body: { metadata: { name, labels } } });
  }

  async applyPool(namespace: string, name: string, spec: PoolSpecInput): Promise<void> {
    const body = {
      apiVersion: "ironlb.io/v1beta1",
      kind: "IPAddressPool",
      metadata: { name, namespace },
      spec,
    };
    try {
      const current = (await this.custom.getNamespacedCustomObject({
        group: "ironlb.io",
        version: "v1beta1",
        plural: "ipaddresspools",
        namespace,
        name,
      })) as { metadata: { resourceVersion: string } };
      await this.custom.replaceNamespacedCustomObject({
        group: "ironlb.io",
        version: "v1beta1",
        plural: "ipaddresspools",
        namespace,
        name,
        body: { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion } },
      });
    } catch (error) {
      if ((error as { code?: number }).code !== 404) throw error;
      await this.custom.createNamespacedCustomObject({
        group: "ironlb.io",
        version: "v1beta1",
        plural: "ipaddresspools",
        namespace,
        body,
      });
    }
  }

  async poolStatus(namespace: string, name: string): Promise<Record<string, number> | undefined> {
    const pool = (await this.custom.getNamespacedCustomObject({
      group: "ironlb.io",
      version: "v1beta1",
      plural: "ipaddresspools",
      namespace,
      name,
    })) as { status?: Record<string, number> };
    return pool.status;
  }

  async createService(
    namespace: string,
    name: string,
    extra: Partial<ServiceShape> = {},
  ): Promise<V1Service> {
    return this.core.createNamespacedService({
      namespace,
      body: {
        metadata: { name, ...(extra.annotations !== undefined && { annotations: extra.annotations }) },
        spec: {
          type: "LoadBalancer",
          ports: extra.ports ?? [{ name: "http", port: 80, protocol: "TCP" }],
          ...(extra.loadBalancerClass !== undefined && { loadBalancerClass: extra.loadBalancerClass }),
          ...(extra.ipFamilyPolicy !== undefined && { ipFamilyPolicy: extra.ipFamilyPolicy }),
          ...(extra.ipFamilies !== undefined && { ipFamilies: extra.ipFamilies }),
          ...(extra.selector !== undefined && { selector: extra.selector }),
        },
      },
    });
  }

  async service(namespace: string, name: string): Promise<V1Service> {
    return this.core.readNamespacedService({ namespace, name });
  }

  async ips(namespace: string, name: string): Promise<string[]> {
    const svc = await this.service(namespace, name);
    return (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? "");
  }

  /** Polls until the Service has `count` addresses; returns them. */
  async waitForIPs(namespace: string, name: string, count = 1, timeoutMs = 15_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ips = await this.ips(namespace, name);
      if (ips.length === count) return ips;
      if (Date.now() > deadline) {
        const svc = await this.service(namespace, name);
        throw new Error(
          `${namespace}/${name} has ${JSON.stringify(ips)} after ${timeoutMs} ms: ${JSON.stringify(svc.status)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async condition(
    namespace: string,
    name: string,
  ): Promise<{ status: string; reason: string; message: string } | undefined> {
    const svc = await this.service(namespace, name);
    return svc.status?.conditions?.find((c) => c.type === "ironlb.io/IPAllocated");
  }

  /** IronLB's events.k8s.io Events about one object, oldest first, as [reason, note]. */
  async eventsFor(namespace: string, name: string): Promise<[string, string][]> {
    const list = await this.events.listNamespacedEvent({ namespace });
    return list.items
      .filter((e) => e.regarding?.name === name && e.reportingController === "ironlb.io/controller")
      .sort((a, b) => new Date(a.eventTime).getTime() - new Date(b.eventTime).getTime())
      .map((e) => [e.reason ?? "", e.note ?? ""]);
  }
}

export interface ServiceShape {
  annotations: Record<string, string>;
  ports: { name?: string; port: number; protocol?: string }[];
  loadBalancerClass: string;
  ipFamilyPolicy: string;
  ipFamilies: string[];
  selector: Record<string, string>;
}
