/**
 * The BGP interop lab as a library: the network of routerTopology.ts, a real BGP daemon in the
 * router namespace (routerBird/routerFrr/routerExabgp), and per node an IronLB BGP speaker fed
 * from a YAML file (src/speaker/bgpStaticMain.ts), an HTTP backend and the Service addresses on
 * lo (kube-proxy's part). Everything is started by PID and removed by `close()`, also when
 * `create` fails half way and when the process exits.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onExitCleanup } from "../testenv/exitCleanup.js";
import { urlHost } from "./addressing.js";
import { nodeEntry, PACKAGE_ROOT, type ProgramSource } from "./entries.js";
import { buildTopology, deleteNamespacesSync, listNamespaces, run, runIn } from "./netns.js";
import { LabProcess, waitFor } from "./processes.js";
import { BirdRouter } from "./routerBird.js";
import type { RouterDaemon, RouterKind, RouterNeighbor, RouterSettings } from "./routerDaemon.js";
import { ExabgpRouter } from "./routerExabgp.js";
import { FrrRouter } from "./routerFrr.js";
import { ROUTER_ASN, ROUTER_LAN, routerLayout, type RouterLayout } from "./routerTopology.js";
import { teardownOrder, type LabNode } from "./topology.js";

export interface RouterLabOptions {
  /** Namespace prefix, e.g. "ilb-b1234-"; must start with "ilb-". */
  readonly prefix: string;
  readonly nodes: number;
  readonly daemon: RouterKind;
  /** The router's sessions, one per node and family; the lab fills in nothing else. */
  readonly neighbors: (node: LabNode) => readonly RouterNeighbor[];
  readonly holdTimeSeconds: number;
  readonly programSource?: ProgramSource;
}

/** One JSON line a node's speaker printed. */
export interface SpeakerEvent {
  readonly event: string;
  readonly node: string;
  readonly t: number;
  readonly [field: string]: unknown;
}

export type SpeakerStopMode = "restart" | "shutdown";

/** A node's IronLB BGP speaker process. */
export class NodeSpeaker {
  private proc: LabProcess | undefined;
  private generation = 0;

  constructor(
    readonly node: LabNode,
    private readonly lab: RouterLab,
  ) {}

  get logFile(): string {
    return join(this.lab.dir, `speaker-${this.node.nodeName}-${String(this.generation)}.log`);
  }

  get process(): LabProcess | undefined {
    return this.proc;
  }

  get running(): boolean {
    return this.proc?.running ?? false;
  }

  /** Starts a new process (a restart after a stop or kill), in `stopMode` for its SIGTERM. */
  start(stopMode: SpeakerStopMode): void {
    if (this.running) throw new Error(`speaker of ${this.node.nodeName} is already running`);
    this.generation++;
    const stateDir = join(this.lab.dir, `state-${this.node.nodeName}`);
    mkdirSync(stateDir, { recursive: true });
    this.proc = LabProcess.start(
      {
        name: `bgp-speaker-${this.node.nodeName}`,
        netns: this.node.netns,
        argv: [
          ...nodeEntry("speaker/bgpStaticMain", this.lab.programSource),
          "--file",
          this.lab.clusterFile(this.node),
          "--node",
          this.node.nodeName,
          "--state-dir",
          stateDir,
          "--stop-mode",
          stopMode,
        ],
        logFile: this.logFile,
        cwd: PACKAGE_ROOT,
      },
      "owned",
    );
  }

  /** Events of the current process so far. */
  events(): SpeakerEvent[] {
    let text: string;
    try {
      text = readFileSync(this.logFile, "utf8");
    } catch {
      return [];
    }
    const out: SpeakerEvent[] = [];
    for (const line of text.split("\n")) {
      if (!line.startsWith("{")) continue;
      try {
        out.push(JSON.parse(line) as SpeakerEvent);
      } catch {
        // A line being written.
      }
    }
    return out;
  }

  /** Waits (bounded) for an event of the current process matching `match`. */
  waitEvent(what: string, match: (e: SpeakerEvent) => boolean, timeoutMs = 20_000): Promise<SpeakerEvent> {
    const proc = this.proc;
    return waitFor(what, () => this.events().find(match), {
      timeoutMs,
      giveUp: () =>
        proc === undefined || proc.running
          ? undefined
          : `speaker exited (${proc.exitReason ?? "?"}): ${proc.logTail()}`,
    });
  }

  signal(signal: NodeJS.Signals): void {
    this.proc?.signal(signal);
  }

  /** SIGTERM and wait for the exit (its stop mode decides what the peers see). */
  async stop(): Promise<void> {
    await this.proc?.stop(10_000);
  }

  /** SIGKILL by PID and wait for the exit. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (proc === undefined || !proc.running) return;
    proc.signal("SIGKILL");
    await proc.exited();
  }

  /** The speaker's status and metrics (asks with SIGUSR1). */
  async status(): Promise<SpeakerEvent> {
    const before = this.events().filter((e) => e.event === "status").length;
    this.signal("SIGUSR1");
    return waitFor("speaker status", () => this.events().filter((e) => e.event === "status")[before], {
      timeoutMs: 10_000,
    });
  }
}

export class RouterLab {
  readonly router: RouterDaemon;
  readonly speakers: ReadonlyMap<string, NodeSpeaker>;
  private readonly backends: LabProcess[] = [];
  private readonly unregister: () => void;
  private closed = false;

  private constructor(
    readonly layout: RouterLayout,
    readonly dir: string,
    readonly programSource: ProgramSource | undefined,
    routerSettings: RouterSettings,
    kind: RouterKind,
  ) {
    this.router =
      kind === "bird"
        ? new BirdRouter(routerSettings)
        : kind === "frr"
          ? new FrrRouter(routerSettings)
          : new ExabgpRouter(routerSettings);
    this.speakers = new Map(layout.nodes.map((n) => [n.nodeName, new NodeSpeaker(n, this)]));
    // Children are owned (they die with us); the namespaces must go too.
    this.unregister = onExitCleanup(() => {
      deleteNamespacesSync(teardownOrder(layout.topology));
    });
  }

  /** Builds the network and starts the router daemon; on failure nothing stays behind. */
  static async create(options: RouterLabOptions): Promise<RouterLab> {
    const layout = routerLayout({ prefix: options.prefix, nodes: options.nodes });
    const existing = new Set(listNamespaces());
    const clash = teardownOrder(layout.topology).filter((n) => existing.has(n));
    if (clash.length > 0) throw new Error(`namespaces already exist: ${clash.join(", ")}`);
    const dir = mkdtempSync(join(tmpdir(), `${options.prefix}${options.daemon}-`));
    // FRR's daemons run as user frr and must reach their directory inside this one.
    chmodSync(dir, 0o711);
    const routerDir = join(dir, options.daemon);
    mkdirSync(routerDir);
    const settings: RouterSettings = {
      netns: layout.routerNetns,
      dir: routerDir,
      asn: ROUTER_ASN,
      routerId: ROUTER_LAN.ipv4,
      localIPv4: ROUTER_LAN.ipv4,
      localIPv6: ROUTER_LAN.ipv6,
      neighbors: layout.nodes.flatMap((n) => options.neighbors(n)),
      holdTimeSeconds: options.holdTimeSeconds,
    };
    const lab = new RouterLab(layout, dir, options.programSource, settings, options.daemon);
    try {
      await buildTopology(layout.topology);
      await lab.router.start();
    } catch (error) {
      await lab.close();
      throw error;
    }
    return lab;
  }

  get nodes(): readonly LabNode[] {
    return this.layout.nodes;
  }

  speaker(node: LabNode | string): NodeSpeaker {
    const name = typeof node === "string" ? node : node.nodeName;
    const s = this.speakers.get(name);
    if (s === undefined) throw new Error(`no node ${name}`);
    return s;
  }

  clusterFile(node: LabNode): string {
    return join(this.dir, `cluster-${node.nodeName}.yaml`);
  }

  /**
   * Writes the objects a node's speaker reads (the same for every node unless `only` is given), as
   * YAML documents in JSON's flow style: quick to write for large tables, still one object per line.
   */
  writeCluster(objects: readonly unknown[], only?: readonly LabNode[]): void {
    const text = objects.map((o) => `---\n${JSON.stringify(o)}\n`).join("");
    for (const node of only ?? this.nodes) writeFileSync(this.clusterFile(node), text);
  }

  /** Makes running speakers re-read their files (SIGHUP). */
  reload(only?: readonly LabNode[]): void {
    for (const node of only ?? this.nodes) this.speaker(node).signal("SIGHUP");
  }

  /**
   * Starts an HTTP backend on every node answering with the node's name, and puts `vips` on each
   * node's lo (what kube-proxy does for LoadBalancer IPs).
   */
  async startBackends(vips: readonly string[], port = 80): Promise<void> {
    for (const node of this.nodes) {
      for (const vip of vips) {
        await run([
          "ip",
          "-n",
          node.netns,
          "addr",
          "add",
          `${vip}/${vip.includes(":") ? "128" : "32"}`,
          "dev",
          "lo",
        ]);
      }
      const script =
        "const [name, port] = process.argv.slice(1);" +
        "require('node:http').createServer((q, r) => { r.end(name + '\\n'); })" +
        ".listen({ host: '::', port: Number(port), ipv6Only: false });";
      this.backends.push(
        LabProcess.start(
          {
            name: `backend-${node.nodeName}`,
            netns: node.netns,
            argv: [process.execPath, "-e", script, node.nodeName, String(port)],
            logFile: join(this.dir, `backend-${node.nodeName}.log`),
          },
          "owned",
        ),
      );
    }
  }

  /** GET http://vip/ from the client namespace (through the router); the answering node's name. */
  async fetchFromClient(vip: string, port = 80): Promise<string> {
    const out = await runIn(this.layout.clientNetns, [
      "curl",
      "-sS",
      "--max-time",
      "3",
      `http://${urlHost(vip)}:${String(port)}/`,
    ]);
    return out.trim();
  }

  /** Next hops of `prefix` in the router namespace's kernel FIB (sorted; empty when absent). */
  async fibNextHops(prefix: string): Promise<string[]> {
    const family = prefix.includes(":") ? "-6" : "-4";
    const out = await run(["ip", "-n", this.layout.routerNetns, family, "-j", "route", "show", prefix]);
    const routes = JSON.parse(out.trim() === "" ? "[]" : out) as {
      dst?: string;
      gateway?: string;
      nexthops?: { gateway?: string }[];
    }[];
    const hops = routes.flatMap((r) =>
      r.nexthops !== undefined
        ? r.nexthops.map((h) => h.gateway ?? "")
        : r.gateway === undefined
          ? []
          : [r.gateway],
    );
    return hops.filter((h) => h !== "").sort();
  }

  /** Stops every process and removes every namespace and the temporary directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const stops: Promise<void>[] = [];
    for (const s of this.speakers.values()) stops.push(s.kill());
    for (const b of this.backends) stops.push(b.stop(1000));
    await Promise.allSettled(stops);
    await this.router.stop().catch(() => undefined);
    deleteNamespacesSync(teardownOrder(this.layout.topology));
    this.unregister();
    if (process.env["IRONLB_KEEP_LAB_DIR"] === undefined) rmSync(this.dir, { recursive: true, force: true });
  }
}
