/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
/**
 * The controller against a real kube-apiserver + etcd (started here, on loopback): create 5,000
 * LoadBalancer Services across 3 pools with bounded concurrency, then 5,000 more if the first batch
 * kept up, and time until every one has an address; then restart the controller over all of them.
 * The controller runs as a child process so its CPU time and peak RSS come from /proc; it runs
 * from JavaScript compiled here (tsc into a temporary folder), as it would be deployed, so tsx's
 * on-the-fly compilation is not in the figures.
 *
 * Services are IPv6 single-stack with addresses from 2001:db8::/32 (documentation) and no node
 * ports (10,000 would not fit the node-port range); nothing here touches a network.
 */
import { execFile, spawn, type ChildProcessByStdio } from "node:child_process";
import { once } from "node:events";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { KubernetesObject, V1CustomResourceDefinition } from "@kubernetes/client-node";
import { parse } from "yaml";
import { createKubeClients, type KubeClients } from "../src/k8s/client.js";
import { Informer } from "../src/k8s/informer.js";
import { httpListWatch } from "../src/k8s/listWatch.js";
import { coreResources } from "../src/k8s/resource.js";
import { resolveBinaries } from "../src/testenv/binaries.js";
import { startControlPlane, type ControlPlane } from "../src/testenv/controlPlane.js";
import { KubeConfig } from "@kubernetes/client-node";
import type { Emit } from "./run.js";

const BENCH = "controller";
const CONFIG_NS = "ironlb-system";
const SERVICE_NS = "bench";
const POOLS = ["bench-a", "bench-b", "bench-c"] as const;
const FIRST_BATCH = 5_000;
const SECOND_BATCH = 5_000;
/** Creates in flight at once: the API server limits mutating requests in flight (200 by default). */
const CREATE_CONCURRENCY = 16;
/**
 * The controller "keeps up" when the last address lands within this long of the last create
 * (creation itself is bound by the API server and etcd). Waiting stops after WAIT_MS.
 */
const KEEP_UP_MS = 10_000;
const WAIT_MS = 120_000;
const repo = fileURLToPath(new URL("../", import.meta.url));
const crdDir = fileURLToPath(new URL("../deploy/crds/", import.meta.url));
const CLOCK_TICKS = 100;

interface ProcStats {
  readonly cpuSeconds: number;
  readonly peakRssBytes: number;
}

/** utime+stime and VmHWM of a running process. */
function procStats(pid: number): ProcStats {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the command: field 3 is index 0, so utime (14) and stime (15) are indices 11 and 12.
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  return { cpuSeconds: ticks / CLOCK_TICKS, peakRssBytes: Number(hwm ?? 0) * 1024 };
}

class Controller {
  readonly exited: Promise<void>;
  private readonly lines: { at: number; msg: string; [k: string]: unknown }[] = [];
  private readonly waiters: { msg: string; resolve: (at: number) => void }[] = [];

  constructor(readonly child: ChildProcessByStdio<null, Readable, Readable>) {
    let buffered = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const line = { ...(JSON.parse(text) as { msg: string }), at: performance.now() };
          this.lines.push(line);
          for (const w of this.waiters.filter((x) => x.msg === line.msg)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(line.at);
          }
        } catch {
          // not a log line
        }
      }
    });
    child.stderr.resume();
    this.exited = once(child, "exit").then(() => undefined);
  }

  static start(mainScript: string, kubeconfigPath: string): Controller {
    const child = spawn(
      process.execPath,
      [
        mainScript,
        "controller",
        "--kubeconfig",
        kubeconfigPath,
        "--namespace",
        CONFIG_NS,
        "--metrics-addr",
        "127.0.0.1:0",
        "--log-level",
        "info",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    return new Controller(child);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** performance.now() of the first log line with this message. */
  when(msg: string): Promise<number> {
    const seen = this.lines.find((l) => l.msg === msg);
    if (seen !== undefined) return Promise.resolve(seen.at);
    return new Promise((resolve) => this.waiters.push({ msg, resolve }));
  }

  field(msg: string, name: string): unknown {
    return this.lines.find((l) => l.msg === msg)?.[name];
  }

  async metrics(): Promise<string> {
    const port = this.field("ops server listening", "port");
    if (typeof port !== "number") return "";
    return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    await this.exited;
  }
}

/** Compiles the project into a temporary folder laid out like the package; returns dist/cli/main.js. */
async function buildController(): Promise<{ main: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "ironlb-bench-"));
  const tsc = join(repo, "node_modules", "typescript", "bin", "tsc");
  // tsc emits even when another module has a type error; the controller's own code is checked by CI.
  await promisify(execFile)(
    process.execPath,
    [tsc, "-p", "tsconfig.build.json", "--outDir", join(dir, "dist")],
    {
      cwd: repo,
    },
  ).catch(() => undefined);
  copyFileSync(join(repo, "package.json"), join(dir, "package.json"));
  symlinkSync(join(repo, "node_modules"), join(dir, "node_modules"));
  const main = join(dir, "dist", "cli", "main.js");
  if (!existsSync(main)) throw new Error(`compiling the controller produced no ${main}`);
  return { main, dir };
}

/** Every Service of the bench namespace by a paged LIST: name → addresses and resourceVersion. */
async function listServices(
  clients: KubeClients,
): Promise<Map<string, { ips: string; rv: string | undefined }>> {
  const all = new Map<string, { ips: string; rv: string | undefined }>();
  let token: string | undefined;
  do {
    const page = await clients.core.listNamespacedService({
      namespace: SERVICE_NS,
      limit: 1000,
      ...(token !== undefined && { _continue: token }),
    });
    for (const s of page.items) {
      all.set(s.metadata?.name ?? "", {
        ips: (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? "").join(","),
        rv: s.metadata?.resourceVersion,
      });
    }
    token = page.metadata?._continue || undefined;
  } while (token !== undefined);
  return all;
}

async function installCRDs(clients: KubeClients): Promise<void> {
  const names: string[] = [];
  for (const file of readdirSync(crdDir).filter((f) => f.endsWith(".yaml"))) {
    const crd = parse(readFileSync(crdDir + file, "utf8")) as V1CustomResourceDefinition;
    names.push(crd.metadata?.name ?? "");
    await clients.apiextensions.createCustomResourceDefinition({ body: crd });
  }
  for (const name of names) {
    for (;;) {
      const crd = await clients.apiextensions.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Runs `task(i)` for i in [from, to) with at most `concurrency` in flight. */
async function bounded(from: number, to: number, concurrency: number, task: (i: number) => Promise<void>) {
  let next = from;
  const worker = async (): Promise<void> => {
    while (next < to) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

const ipsOf = (o: KubernetesObject): string =>
  ((o as { status?: { loadBalancer?: { ingress?: { ip?: string }[] } } }).status?.loadBalancer?.ingress ?? [])
    .map((i) => i.ip ?? "")
    .join(",");

export default async function controllerBench(emit: Emit): Promise<void> {
  const build = await buildController();
  const controlPlane: ControlPlane = await startControlPlane({ binaries: await resolveBinaries() });
  const stop = new AbortController();
  const controllers: Controller[] = [];
  try {
    const config = new KubeConfig();
    config.loadFromFile(controlPlane.kubeconfigPath);
    const clients = createKubeClients(config);
    await installCRDs(clients);
    for (const name of [CONFIG_NS, SERVICE_NS])
      await clients.core.createNamespace({ body: { metadata: { name } } });
    for (const [i, name] of POOLS.entries()) {
      await clients.customObjects.createNamespacedCustomObject({
        group: "ironlb.io",
        version: "v1beta1",
        plural: "ipaddresspools",
        namespace: CONFIG_NS,
        body: {
          apiVersion: "ironlb.io/v1beta1",
          kind: "IPAddressPool",
          metadata: { name, namespace: CONFIG_NS },
          spec: { addresses: [`2001:db8:${(0xa + i).toString(16)}::/112`], autoAssign: false },
        },
      });
    }

    // Watch the Services as a client would: the first moment each one shows an address.
    const createdAt = new Map<string, number>();
    const addressedAt = new Map<string, number>();
    const services = new Informer({
      resource: coreResources.services,
      client: httpListWatch(config, { agent: () => clients.agent() }),
      namespace: SERVICE_NS,
      handlers: {
        onAdd: (o) => {
          if (ipsOf(o) !== "" && !addressedAt.has(o.metadata?.name ?? "")) {
            addressedAt.set(o.metadata?.name ?? "", performance.now());
          }
        },
        onUpdate: (_old, o) => {
          if (ipsOf(o) !== "" && !addressedAt.has(o.metadata?.name ?? "")) {
            addressedAt.set(o.metadata?.name ?? "", performance.now());
          }
        },
      },
    });
    services.start(stop.signal);
    await services.waitForSync();

    const controller = Controller.start(build.main, controlPlane.kubeconfigPath);
    controllers.push(controller);
    await controller.when("leading: reconciling");
    await new Promise((r) => setTimeout(r, 1000));
    emit({
      bench: BENCH,
      figure: "idle_controller_rss_mb",
      value: procStats(controller.pid).peakRssBytes / 2 ** 20,
      unit: "MiB",
    });

    const createBatch = async (from: number, to: number): Promise<void> => {
      await bounded(from, to, CREATE_CONCURRENCY, async (i) => {
        const name = `svc-${i}`;
        await clients.core.createNamespacedService({
          namespace: SERVICE_NS,
          body: {
            metadata: { name, annotations: { "ironlb.io/address-pool": POOLS[i % POOLS.length] ?? "" } },
            spec: {
              type: "LoadBalancer",
              ipFamilies: ["IPv6"],
              ipFamilyPolicy: "SingleStack",
              allocateLoadBalancerNodePorts: false,
              ports: [{ name: "https", port: 443, protocol: "TCP" }],
            },
          },
        });
        createdAt.set(name, performance.now());
      });
    };

    /** Creates [from, to), waits for every address; emits the batch's figures; true if it kept up. */
    const batch = async (from: number, to: number): Promise<boolean> => {
      const before = procStats(controller.pid);
      const started = performance.now();
      await createBatch(from, to);
      const createdIn = performance.now() - started;
      const names = Array.from({ length: to - from }, (_, k) => `svc-${from + k}`);
      const createdAll = performance.now();
      const deadline = createdAll + WAIT_MS;
      while (names.some((n) => !addressedAt.has(n)) && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const done = names.filter((n) => addressedAt.has(n));
      const allIn = Math.max(...done.map((n) => addressedAt.get(n) ?? 0)) - started;
      const latencies = done
        .map((n) => (addressedAt.get(n) ?? 0) - (createdAt.get(n) ?? 0))
        .sort((a, b) => a - b);
      const after = procStats(controller.pid);
      const extra = {
        services: to - from,
        total: to,
        concurrency: CREATE_CONCURRENCY,
        loadavg: loadavg()[0],
      };
      emit({
        bench: BENCH,
        figure: `create_${to}_services_created_s`,
        value: createdIn / 1000,
        unit: "s",
        ...extra,
      });
      emit({
        bench: BENCH,
        figure: `create_${to}_create_rate`,
        value: (to - from) / (createdIn / 1000),
        unit: "services/s",
        ...extra,
      });
      emit({
        bench: BENCH,
        figure: `create_${to}_last_address_after_last_create_ms`,
        value: started + allIn - createdAll,
        unit: "ms",
        ...extra,
      });
      emit({
        bench: BENCH,
        figure: `create_${to}_all_addressed_s`,
        value: allIn / 1000,
        unit: "s",
        ...extra,
      });
      emit({
        bench: BENCH,
        figure: `create_${to}_addressed`,
        value: done.length,
        unit: "services",
        ...extra,
      });
      emit({
        bench: BENCH,
        figure: `create_${to}_latency_p50_ms`,
        value: percentile(latencies, 50),
        unit: "ms",
        ...extra,
      });
      emit({
        bench: BENCH,
        figure: `create_${to}_latency_p99_ms`,
        value: percentile(latencies, 99),
        unit: "ms",
        ...extra,
      });
      emit({
        bench: BENCH,
        figure: `create_${to}_controller_cpu_s`,
        value: after.cpuSeconds - before.cpuSeconds,
        unit: "s",
        ...extra,
      });
      emit({
        bench: BENCH,
        figure: `create_${to}_controller_peak_rss_mb`,
        value: after.peakRssBytes / 2 ** 20,
        unit: "MiB",
        ...extra,
      });
      return done.length === names.length && started + allIn - createdAll < KEEP_UP_MS;
    };

    let total = FIRST_BATCH;
    if (await batch(0, FIRST_BATCH)) {
      total += SECOND_BATCH;
      await batch(FIRST_BATCH, total);
    }

    // ── restart over every existing Service ──
    const snapshot = await listServices(clients);
    emit({
      bench: BENCH,
      figure: "watch_missed_services",
      value: snapshot.size - services.size(),
      unit: "services",
      note: "Services the bench's own informer never saw (should be 0)",
    });
    await controller.stop();
    const restartedAt = performance.now();
    const second = Controller.start(build.main, controlPlane.kubeconfigPath);
    controllers.push(second);
    const reconcilingAt = await second.when("leading: reconciling");
    const loaded = second.field("existing assignments loaded", "loaded");
    // Every Service reconciled once more (each a no-op): the restart is complete.
    const reconciledAll = async (): Promise<boolean> => {
      const m =
        /^ironlb_controller_reconcile_duration_seconds_count\{kind="service",outcome="success"\} (\d+)$/m.exec(
          await second.metrics(),
        );
      return Number(m?.[1] ?? 0) >= snapshot.size;
    };
    while (!(await reconciledAll())) await new Promise((r) => setTimeout(r, 100));
    const settledAt = performance.now();
    await new Promise((r) => setTimeout(r, 2000)); // let any write land
    let changed = 0;
    let written = 0;
    for (const [name, now] of await listServices(clients)) {
      const before = snapshot.get(name);
      if (before?.ips !== now.ips) changed++;
      if (before?.rv !== now.rv) written++;
    }
    const restartStats = procStats(second.pid);
    const extra = { services: snapshot.size, loaded };
    emit({
      bench: BENCH,
      figure: "restart_time_to_ready_s",
      value: (reconcilingAt - restartedAt) / 1000,
      unit: "s",
      ...extra,
    });
    emit({
      bench: BENCH,
      figure: "restart_time_to_reconciled_all_s",
      value: (settledAt - restartedAt) / 1000,
      unit: "s",
      ...extra,
    });
    emit({ bench: BENCH, figure: "restart_ips_changed", value: changed, unit: "services", ...extra });
    emit({ bench: BENCH, figure: "restart_services_written", value: written, unit: "services", ...extra });
    emit({
      bench: BENCH,
      figure: "restart_controller_cpu_s",
      value: restartStats.cpuSeconds,
      unit: "s",
      ...extra,
    });
    emit({
      bench: BENCH,
      figure: "restart_controller_peak_rss_mb",
      value: restartStats.peakRssBytes / 2 ** 20,
      unit: "MiB",
      ...extra,
    });
  } finally {
    stop.abort();
    for (const c of controllers) await c.stop();
    await controlPlane.stop();
    rmSync(build.dir, { recursive: true, force: true });
  }
}
