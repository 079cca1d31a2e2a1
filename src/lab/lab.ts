/**
 * The lab as a library: `startLab` builds the network (topology.ts), starts the control plane,
 * the controller, and on every node a speaker and a node agent (backend + kube-proxy emulation),
 * writes the lab's Kubernetes objects, and returns a `Lab` handle that tests, benchmarks and the
 * CLI drive. Everything it creates is recorded in the state file as it goes and removed by
 * `stop()` — also when start fails half way, and (for owned labs) when the process exits.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { access, readFile } from "node:fs/promises";
import net from "node:net";
import { join } from "node:path";
import { loadKubeConfig, createKubeClients, type KubeClients } from "../k8s/client.js";
import { GENERATED_KEY_BYTES, PRIMARY_KEY_FIELD } from "../membership/secret.js";
import { onExitCleanup } from "../testenv/exitCleanup.js";
import { renderKubeconfig } from "../testenv/kubeconfig.js";
import { adminUser } from "../testenv/controlPlane.js";
import { resolveBinaries } from "../testenv/binaries.js";
import {
  API_SERVER_PORT,
  CLIENT_ADDRESSES,
  CONTROL_PLANE_ADDRESSES,
  CONTROLLER_METRICS_PORT,
  SPEAKER_METRICS_PORT,
  urlHost,
} from "./addressing.js";
import {
  announcements,
  applyIronlbObject,
  createLabService,
  DEMO_SERVICE,
  deleteLabService,
  ensureNamespace,
  installCrds,
  IRONLB_NAMESPACE,
  l2AdvertisementObject,
  poolObject,
  registerNodes,
  serviceIngressIPs,
  setEndpoints,
  speakerLeases,
  type Announcement,
  type IronlbObject,
  type L2AdvertisementOptions,
  type LabServiceSpec,
} from "./cluster.js";
import type { ControlPlaneHostReady, HostMessage } from "./controlPlaneHost.js";
import { PACKAGE_ROOT, ironlbCommand, nodeEntry, type ProgramSource } from "./entries.js";
import {
  buildTopology,
  deleteNamespacesSync,
  listNamespaces,
  neighbours,
  run,
  runIn,
  setLinkState,
  type NeighbourEntry,
} from "./netns.js";
import {
  LabProcess,
  logTail,
  recordAlive,
  stopRecord,
  waitFor,
  type LabProcessSpec,
  type Ownership,
  type ProcessRecord,
} from "./processes.js";
import { ProbeSession, type ProbeMode } from "./probeSession.js";
import { bgpDemoService, bgpLabLayout, bgpLabObjects, type BgpLabLayout } from "./bgpLab.js";
import { labRouter, startLabRouter, waitForRouterEcmp, type LabRouterKind } from "./bgpRouter.js";
import type { BirdRouter } from "./routerBird.js";
import type { FrrRouter } from "./routerFrr.js";
import {
  DEFAULT_STATE_DIR,
  readState,
  removeStateFile,
  writeState,
  type LabMode,
  type LabState,
} from "./state.js";
import { l2Layout, teardownOrder, type L2Layout, type LabNode } from "./topology.js";

export interface LabOptions {
  /** Node namespaces, each with a speaker and a backend; default 3. */
  readonly nodes?: number;
  /**
   * "l2" (default): one LAN, speakers answer ARP/NDP. "bgp": a BIRD router namespace between the
   * LAN and the client network, speakers peer with it, the router spreads flows over the nodes.
   */
  readonly mode?: LabMode;
  /** The BGP lab's router daemon: "bird" (default) or "frr". */
  readonly router?: LabRouterKind;
  /** Namespace name prefix; default "ilb-" (the CLI's lab). Tests use their own. */
  readonly prefix?: string;
  /** Where the state file, logs, kubeconfigs and control-plane data go; default /run/ironlb-lab. */
  readonly stateDir?: string;
  /** "owned" (default): everything dies with this process. "detached": outlives it (`lab up`). */
  readonly ownership?: Ownership;
  /** A second LAN link per node (ilb-eth1, no address), for interface selection tests. */
  readonly secondLink?: boolean;
  /** Create the dual-stack demo Service (default true). */
  readonly demoService?: boolean;
  /** The lab's L2Advertisement; default: pool "lab", every interface. */
  readonly l2Advertisement?: L2AdvertisementOptions;
  /** Start speakers (default true). */
  readonly speakers?: boolean;
  /**
   * How speakers see each other: "swim" (default; the lab writes a shared random key where the
   * mounted ironlb-memberlist Secret would be) or "lease" (per-node Leases only).
   */
  readonly membership?: "swim" | "lease";
  /** More `ironlb speaker` flags (after the lab's own, so they override them). */
  readonly speakerArgs?: readonly string[];
  /** Run IronLB's programs from the sources (tsx) or from dist/; default: how this code was loaded. */
  readonly programs?: ProgramSource;
  /** --log-level of the controller and speakers; default "info". */
  readonly logLevel?: string;
  /** Progress lines ("control plane ready in 4.1 s"). */
  readonly progress?: (message: string) => void;
  /** Bound for each component to become ready; default 120 s (a loaded 2-core machine is slow). */
  readonly readyTimeoutMs?: number;
}

export class LabError extends Error {
  override readonly name: string = "LabError";
  readonly code: string = "LAB";
}

export class LabNotRootError extends LabError {
  override readonly name = "LabNotRootError";
  override readonly code = "LAB_NOT_ROOT";
}

export class LabAlreadyUpError extends LabError {
  override readonly name = "LabAlreadyUpError";
  override readonly code = "LAB_ALREADY_UP";
  constructor(
    message: string,
    readonly state: LabState,
  ) {
    super(message);
  }
}

/** The lab builds namespaces and links and opens raw sockets: it needs uid 0. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new LabNotRootError(
      "the lab creates network namespaces and links: run it as root (e.g. sudo node dist/cli/main.js lab up)",
    );
  }
}

/** Names of the lab's processes. */
export const processNames = {
  controlPlane: "control-plane",
  controller: "controller",
  speaker: (node: string) => `speaker-${node}`,
  agent: (node: string) => `agent-${node}`,
  /** The router's daemons ("router" for BIRD, "router-zebra" and "router-bgpd" for FRR). */
  router: "router",
} as const;

/** The network of a lab of `mode`. */
function layoutFor(
  mode: LabMode,
  options: { nodes: number; prefix?: string | undefined; secondLink?: boolean | undefined },
): L2Layout | BgpLabLayout {
  const prefix = options.prefix === undefined ? {} : { prefix: options.prefix };
  if (mode === "bgp") return bgpLabLayout({ nodes: options.nodes, ...prefix });
  return l2Layout({
    nodes: options.nodes,
    ...prefix,
    ...(options.secondLink === undefined ? {} : { secondLink: options.secondLink }),
  });
}

const elapsed = (since: number): string => `${((performance.now() - since) / 1000).toFixed(1)} s`;

/** A running (or starting) lab. */
export class Lab {
  private readonly owned = new Map<string, LabProcess>();
  private unregisterExit: () => void = () => undefined;
  private removeSignalHandlers: () => void = () => undefined;
  private clientsCache: KubeClients | undefined;
  private stopped = false;

  private constructor(
    readonly layout: L2Layout | BgpLabLayout,
    private current: LabState,
    private readonly options: LabOptions,
  ) {}

  // --- identity and handles

  /** The BGP lab's layout (router, client network); undefined for a Layer 2 lab. */
  get bgp(): BgpLabLayout | undefined {
    return "routerNetns" in this.layout ? this.layout : undefined;
  }

  /** The BGP lab's router daemon. */
  get routerKind(): LabRouterKind {
    return this.current.router ?? "bird";
  }

  /** The BGP lab's router, for queries (birdc / vtysh: sessions, paths). */
  router(): BirdRouter | FrrRouter {
    const bgp = this.bgp;
    if (bgp === undefined) throw new LabError("this lab has no router (it is not a BGP lab)");
    return labRouter(this.routerKind, bgp, this.stateDir);
  }

  get state(): LabState {
    return this.current;
  }

  get stateDir(): string {
    return this.current.stateDir;
  }

  get ownership(): Ownership {
    return this.options.ownership ?? "owned";
  }

  /** Typed API clients (through the host's relay to the API server). */
  get clients(): KubeClients {
    if (this.clientsCache === undefined) {
      const kubeconfig = this.current.adminKubeconfig;
      if (kubeconfig === undefined) throw new LabError("the lab's control plane is not up");
      this.clientsCache = createKubeClients(loadKubeConfig({ kubeconfig }));
    }
    return this.clientsCache;
  }

  node(nodeName: string): LabNode {
    const node = this.layout.nodes.find((n) => n.nodeName === nodeName || n.netns === nodeName);
    if (node === undefined) throw new LabError(`no lab node ${nodeName}`);
    return node;
  }

  /** The node whose LAN MAC (first or second link) is `mac`. */
  nodeByMac(mac: string): LabNode | undefined {
    const wanted = mac.toLowerCase();
    return this.layout.nodes.find((n) => n.mac === wanted || n.secondMac === wanted);
  }

  processRecord(name: string): ProcessRecord | undefined {
    return this.current.processes.find((record) => record.name === name);
  }

  logFile(name: string): string {
    return join(this.stateDir, "logs", `${name}.log`);
  }

  logTail(name: string, lines = 40): string {
    return logTail(this.logFile(name), lines);
  }

  /** Each recorded process and whether it runs. */
  health(): { name: string; pid: number; netns: string | undefined; running: boolean }[] {
    return this.current.processes.map((record) => ({
      name: record.name,
      pid: record.pid,
      netns: record.netns,
      running: recordAlive(record),
    }));
  }

  // --- starting

  /** Builds and starts a lab; see LabOptions. On failure everything created so far is removed. */
  static async start(options: LabOptions = {}): Promise<Lab> {
    requireRoot();
    const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
    const existing = readState(stateDir);
    if (existing !== undefined) {
      const alive = existing.processes.some(recordAlive);
      throw new LabAlreadyUpError(
        alive
          ? `a lab is already ${existing.phase} in ${stateDir} (started ${existing.startedAt}, ${existing.nodes} nodes): ` +
              "`ironlb lab status` shows it, `ironlb lab down` removes it"
          : `a lab left its state in ${stateDir} but none of its processes runs: \`ironlb lab down\` cleans up`,
        existing,
      );
    }
    const layout = layoutFor(options.mode ?? "l2", {
      nodes: options.nodes ?? 3,
      prefix: options.prefix,
      secondLink: options.secondLink,
    });
    const namespaces = teardownOrder(layout.topology);
    const present = new Set(listNamespaces());
    const clashing = namespaces.filter((name) => present.has(name));
    if (clashing.length > 0) {
      throw new LabError(
        `network namespaces ${clashing.join(", ")} exist already (another lab, or one that died without ` +
          `cleaning up): remove them with \`ip netns del NAME\` or \`ironlb lab down\``,
      );
    }
    mkdirSync(join(stateDir, "logs"), { recursive: true, mode: 0o700 });
    const lab = new Lab(
      layout,
      {
        version: 1,
        mode: options.mode ?? "l2",
        ...(options.mode === "bgp" ? { router: options.router ?? "bird" } : {}),
        prefix: layout.prefix,
        nodes: layout.nodes.length,
        secondLink: options.secondLink === true,
        stateDir,
        startedAt: new Date().toISOString(),
        phase: "starting",
        namespaces,
        processes: [],
      },
      options,
    );
    writeState(lab.current);
    if (lab.ownership === "owned") {
      // Last resort when the process exits without stop(): processes die by their parent-death
      // signal and their own handlers; the namespaces go here.
      lab.unregisterExit = onExitCleanup(() => {
        deleteNamespacesSync(namespaces);
        rmSync(stateDir, { recursive: true, force: true });
      });
    }
    // Ctrl-C or SIGTERM while starting (and, for owned labs, until stop()) tears the lab down
    // before exiting, where Node's default would exit at once and leave it behind.
    lab.removeSignalHandlers = lab.onInterrupt();
    try {
      await lab.bringUp();
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      const logs = lab.failureLogs();
      await lab.stop();
      throw new LabError(`lab did not come up: ${detail}${logs}`, { cause: error });
    }
    if (lab.ownership === "detached") lab.removeSignalHandlers();
    return lab;
  }

  /** Installs SIGINT/SIGTERM handlers where nobody else handles them; returns their remover. */
  private onInterrupt(): () => void {
    const installed: [NodeJS.Signals, () => void][] = [];
    for (const [signal, code] of [
      ["SIGINT", 130],
      ["SIGTERM", 143],
    ] as const) {
      if (process.listenerCount(signal) > 0) continue;
      const handler = (): void => {
        this.progress(`${signal}: removing the lab`);
        void this.stop().finally(() => process.exit(code));
      };
      process.once(signal, handler);
      installed.push([signal, handler]);
    }
    return () => {
      for (const [signal, handler] of installed) process.removeListener(signal, handler);
    };
  }

  /** Attaches to the lab recorded in `stateDir` (another invocation started it). */
  static attach(stateDir = DEFAULT_STATE_DIR): Lab | undefined {
    const state = readState(stateDir);
    if (state === undefined) return undefined;
    const layout = layoutFor(state.mode, {
      nodes: state.nodes,
      prefix: state.prefix,
      secondLink: state.secondLink,
    });
    return new Lab(layout, state, { ownership: "detached", stateDir, mode: state.mode });
  }

  private progress(message: string): void {
    this.options.progress?.(message);
  }

  private setState(change: Partial<LabState>): void {
    this.current = { ...this.current, ...change };
    writeState(this.current);
  }

  private recordProcess(record: ProcessRecord): void {
    this.setState({
      processes: [...this.current.processes.filter((r) => r.name !== record.name), record],
    });
  }

  private spawn(spec: Omit<LabProcessSpec, "logFile" | "cwd">): LabProcess {
    const started = LabProcess.start(
      { ...spec, logFile: this.logFile(spec.name), cwd: PACKAGE_ROOT },
      this.ownership,
    );
    this.owned.set(spec.name, started);
    this.recordProcess(started.record);
    return started;
  }

  private readyTimeout(): number {
    return this.options.readyTimeoutMs ?? 120_000;
  }

  /** Message for waits: the process died, with its log. */
  private diedReason(child: LabProcess): () => string | undefined {
    return () =>
      child.running
        ? undefined
        : `${child.record.name} exited (${child.exitReason ?? "?"}); log ${child.record.logFile}:\n${child.logTail()}`;
  }

  private failureLogs(): string {
    const dead = [...this.owned.values()].filter((p) => !p.running);
    return dead.map((p) => `\n--- ${p.record.name} (${p.exitReason ?? "?"}):\n${p.logTail(15)}`).join("");
  }

  private async bringUp(): Promise<void> {
    const started = performance.now();
    // First use builds kube-apiserver and etcd (minutes, once); later runs find them at once.
    const binaries = await resolveBinaries();
    this.progress(`control plane binaries: ${binaries.dir} (${elapsed(started)})`);

    await buildTopology(this.layout.topology);
    this.progress(
      `network built: ${this.layout.topology.namespaces.length} namespaces (${elapsed(started)})`,
    );
    const bgp = this.bgp;
    if (bgp !== undefined) {
      const kind = this.routerKind;
      await startLabRouter(kind, bgp, this.stateDir, (spec) => this.spawn(spec), this.readyTimeout());
      this.progress(
        `router ${bgp.routerNetns}: ${kind === "bird" ? "BIRD" : "FRR"} up (${elapsed(started)})`,
      );
    }

    await this.startControlPlane(binaries.dir);
    this.progress(
      `control plane ready at ${CONTROL_PLANE_ADDRESSES.ipv4}:${API_SERVER_PORT} (${elapsed(started)})`,
    );

    const clients = this.clients;
    await ensureNamespace(clients, IRONLB_NAMESPACE);
    await installCrds(clients, this.readyTimeout());
    await registerNodes(clients, this.layout.nodes);
    if (bgp === undefined) {
      await applyIronlbObject(clients, poolObject());
      await applyIronlbObject(clients, l2AdvertisementObject(this.options.l2Advertisement));
      this.progress(`CRDs, Nodes, IPAddressPool and L2Advertisement applied (${elapsed(started)})`);
    } else {
      for (const object of bgpLabObjects()) await applyIronlbObject(clients, object);
      this.progress(
        `CRDs, Nodes, IPAddressPool, BGPPeers and BGPAdvertisement applied (${elapsed(started)})`,
      );
    }

    this.startController();
    const agents = this.layout.nodes.map((node) => this.startAgent(node));
    if (this.options.speakers !== false)
      for (const node of this.layout.nodes) this.startSpeaker(node.nodeName);
    await Promise.all(agents);
    if (this.options.speakers !== false)
      await this.waitForLiveSpeakers(this.layout.nodes.map((n) => n.nodeName));
    this.progress(
      `controller, ${this.layout.nodes.length} speakers and backends running (${elapsed(started)})`,
    );

    if (this.options.demoService !== false) {
      await this.createService(
        bgp === undefined ? { ...DEMO_SERVICE } : bgpDemoService(DEMO_SERVICE.name, DEMO_SERVICE.namespace),
      );
      const ips = await this.waitForServiceIPs(DEMO_SERVICE.name, DEMO_SERVICE.namespace, { count: 2 });
      if (this.options.speakers !== false) {
        if (bgp === undefined) await this.waitForAnnouncer(DEMO_SERVICE.name);
        else await waitForRouterEcmp(bgp, ips, this.layout.nodes.length, this.readyTimeout());
      }
      this.progress(
        `demo Service ${DEMO_SERVICE.namespace}/${DEMO_SERVICE.name}: ${ips.join(", ")} (${elapsed(started)})`,
      );
    }
    this.setState({ phase: "up" });
    if (this.ownership === "detached") for (const child of this.owned.values()) child.release();
  }

  private async startControlPlane(binariesDir: string): Promise<void> {
    const readyFile = join(this.stateDir, "control-plane.json");
    rmSync(readyFile, { force: true });
    const workDir = join(this.stateDir, "control-plane");
    mkdirSync(workDir, { recursive: true, mode: 0o700 });
    // The host's way in: a loopback listener made here, in the host's namespace, and handed to
    // the control-plane host, which relays its connections to the API server from inside the lab.
    const listener = net.createServer();
    await new Promise<void>((resolve, reject) => {
      listener.once("error", reject);
      listener.listen({ host: "127.0.0.1", port: 0 }, resolve);
    });
    const address = listener.address();
    const hostPort = typeof address === "object" && address !== null ? address.port : 0;
    const host = this.spawn({
      name: processNames.controlPlane,
      netns: this.layout.controlPlaneNetns,
      argv: [
        ...nodeEntry("lab/controlPlaneHost", this.options.programs),
        "--work-dir",
        workDir,
        "--bind",
        CONTROL_PLANE_ADDRESSES.ipv4,
        "--port",
        String(API_SERVER_PORT),
        "--ready-file",
        readyFile,
      ],
      env: { KUBEBUILDER_ASSETS: binariesDir },
      ipc: true,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new LabError("the control-plane host did not ask for its listener within 60 s"));
        }, 60_000);
        host.child.once("exit", () => {
          clearTimeout(timer);
          reject(new LabError(`control-plane host exited early:\n${host.logTail()}`));
        });
        host.child.on("message", (message: HostMessage) => {
          if (message.type !== "want-listener") return;
          host.child.send({ type: "listener" } satisfies HostMessage, listener, (error) => {
            clearTimeout(timer);
            if (error === null) resolve();
            else reject(error);
          });
        });
      });
    } finally {
      // The child holds its own copy now; ours must not accept connections nobody serves.
      listener.close();
    }
    const ready = await waitFor<ControlPlaneHostReady>(
      "the API server to become ready",
      async () => {
        try {
          return JSON.parse(await readFile(readyFile, "utf8")) as ControlPlaneHostReady;
        } catch {
          return undefined;
        }
      },
      { timeoutMs: this.readyTimeout(), intervalMs: 100, giveUp: this.diedReason(host) },
    );
    const hostServer = `https://127.0.0.1:${hostPort}`;
    const adminKubeconfig = join(this.stateDir, "admin.kubeconfig");
    const labKubeconfig = join(this.stateDir, "lab.kubeconfig");
    const identity = { caPem: ready.caPem, userName: adminUser, token: ready.adminToken };
    writeFileSync(adminKubeconfig, renderKubeconfig({ server: hostServer, ...identity }), { mode: 0o600 });
    writeFileSync(labKubeconfig, renderKubeconfig({ server: ready.server, ...identity }), { mode: 0o600 });
    this.setState({ hostServer, adminKubeconfig, labKubeconfig });
  }

  private labKubeconfig(): string {
    const path = this.current.labKubeconfig;
    if (path === undefined) throw new LabError("the lab's control plane is not up");
    return path;
  }

  private logLevel(): string {
    return this.options.logLevel ?? "info";
  }

  private startController(): void {
    this.spawn({
      name: processNames.controller,
      netns: this.layout.controlPlaneNetns,
      argv: [
        ...ironlbCommand(this.options.programs),
        "controller",
        "--kubeconfig",
        this.labKubeconfig(),
        "--metrics-addr",
        `${CONTROL_PLANE_ADDRESSES.ipv4}:${CONTROLLER_METRICS_PORT}`,
        "--log-level",
        this.logLevel(),
      ],
    });
  }

  private async startAgent(node: LabNode): Promise<void> {
    const name = processNames.agent(node.nodeName);
    const readyFile = join(this.stateDir, `${name}.ready`);
    rmSync(readyFile, { force: true });
    const agent = this.spawn({
      name,
      netns: node.netns,
      argv: [
        ...nodeEntry("lab/nodeAgent", this.options.programs),
        "--node",
        node.nodeName,
        "--kubeconfig",
        this.labKubeconfig(),
        "--ready-file",
        readyFile,
      ],
    });
    await waitFor(
      `the backend on ${node.nodeName}`,
      async () => {
        await access(readyFile);
        return true;
      },
      { timeoutMs: this.readyTimeout(), intervalMs: 100, giveUp: this.diedReason(agent) },
    );
  }

  // --- speakers

  /** Starts (or restarts) the speaker of `nodeName`. */
  startSpeaker(nodeName: string): ProcessRecord {
    const node = this.node(nodeName);
    const name = processNames.speaker(node.nodeName);
    const running = this.processRecord(name);
    if (running !== undefined && recordAlive(running)) throw new LabError(`${name} runs already`);
    const speaker = this.spawn({
      name,
      netns: node.netns,
      argv: [
        ...ironlbCommand(this.options.programs),
        "speaker",
        "--node",
        node.nodeName,
        "--kubeconfig",
        this.labKubeconfig(),
        "--metrics-addr",
        `:${SPEAKER_METRICS_PORT}`,
        "--log-level",
        this.logLevel(),
        ...this.membershipArgs(),
        // Graceful restart's memory (the Pod's emptyDir in a cluster): a restarted speaker sets the R bit.
        ...(this.bgp === undefined
          ? []
          : ["--bgp-state-dir", join(this.stateDir, "bgp-state", node.nodeName)]),
        ...(this.options.speakerArgs ?? []),
      ],
    });
    if (this.ownership === "detached") speaker.release();
    return speaker.record;
  }

  /**
   * `--membership` flags of every speaker. For swim, one key shared by all nodes, as the Secret
   * mounted into each speaker pod would be; written once, the first time a speaker starts.
   */
  private membershipArgs(): string[] {
    if (this.options.membership === "lease") return ["--membership", "lease"];
    const keyDir = join(this.stateDir, "membership");
    mkdirSync(keyDir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(join(keyDir, PRIMARY_KEY_FIELD), randomBytes(GENERATED_KEY_BYTES), {
        flag: "wx",
        mode: 0o600,
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    return ["--membership", "swim", "--membership-key-dir", keyDir];
  }

  /** Signals the speaker of `nodeName` by its PID and waits (bounded) until it has exited. */
  async stopSpeaker(nodeName: string, signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    const record = this.processRecord(processNames.speaker(this.node(nodeName).nodeName));
    if (record === undefined) return;
    if (signal === "SIGKILL") {
      if (recordAlive(record)) process.kill(record.pid, "SIGKILL");
      await waitFor(`${record.name} to die`, () => (recordAlive(record) ? undefined : true), {
        timeoutMs: 5_000,
        intervalMs: 10,
      });
      return;
    }
    await stopRecord(record);
  }

  /** PID of the speaker of `nodeName` (undefined when it is not running). */
  speakerPid(nodeName: string): number | undefined {
    const record = this.processRecord(processNames.speaker(this.node(nodeName).nodeName));
    return record !== undefined && recordAlive(record) ? record.pid : undefined;
  }

  /** The speaker's Prometheus text, read inside its node namespace. */
  async speakerMetrics(nodeName: string): Promise<string> {
    const node = this.node(nodeName);
    return runIn(node.netns, [
      "curl",
      "-sS",
      "--max-time",
      "5",
      `http://127.0.0.1:${SPEAKER_METRICS_PORT}/metrics`,
    ]);
  }

  /** Waits until each of `nodes` holds a speaker Lease renewed after this call started. */
  async waitForLiveSpeakers(nodes: readonly string[], timeoutMs = this.readyTimeout()): Promise<void> {
    const since = Date.now() - 1000;
    await waitFor(
      `live speakers on ${nodes.join(", ")}`,
      async () => {
        const leases = await speakerLeases(this.clients);
        const fresh = nodes.every((node) => {
          const renewed = leases.get(node);
          return renewed !== undefined && new Date(renewed).getTime() >= since;
        });
        return fresh ? true : undefined;
      },
      {
        timeoutMs,
        intervalMs: 200,
        giveUp: () => {
          for (const node of nodes) {
            const speaker = this.owned.get(processNames.speaker(node));
            if (speaker !== undefined && !speaker.running) return this.diedReason(speaker)();
          }
          return undefined;
        },
      },
    );
  }

  // --- network faults

  /** A dead node: its switch ports go down, so nothing it sends or answers reaches the LAN. */
  async cutNode(nodeName: string): Promise<void> {
    const node = this.node(nodeName);
    for (const port of [node.port, ...(node.second === undefined ? [] : [node.second.port])])
      await setLinkState(this.layout.switchNetns, port, "down");
  }

  async restoreNode(nodeName: string): Promise<void> {
    const node = this.node(nodeName);
    for (const port of [node.port, ...(node.second === undefined ? [] : [node.second.port])])
      await setLinkState(this.layout.switchNetns, port, "up");
  }

  // --- configuration and Services

  /** Creates or replaces an ironlb.io object (e.g. l2AdvertisementObject({ interfaces: [...] })). */
  async apply(object: IronlbObject): Promise<void> {
    await applyIronlbObject(this.clients, object);
  }

  async createService(spec: LabServiceSpec): Promise<void> {
    await createLabService(this.clients, spec, this.layout.nodes);
  }

  async setEndpoints(spec: LabServiceSpec): Promise<void> {
    await setEndpoints(this.clients, spec, this.layout.nodes);
  }

  async deleteService(name: string, namespace: string = DEMO_SERVICE.namespace): Promise<void> {
    await deleteLabService(this.clients, name, namespace);
  }

  /** Waits until the controller has given the Service `count` IPs (default: any). */
  async waitForServiceIPs(
    name: string,
    namespace: string = DEMO_SERVICE.namespace,
    options: { count?: number; timeoutMs?: number } = {},
  ): Promise<string[]> {
    const count = options.count ?? 1;
    return waitFor(
      `IPs for Service ${namespace}/${name}`,
      async () => {
        const ips = await serviceIngressIPs(this.clients, name, namespace);
        return ips.length >= count ? ips : undefined;
      },
      { timeoutMs: options.timeoutMs ?? 30_000, intervalMs: 100 },
    );
  }

  async announcements(): Promise<Announcement[]> {
    return announcements(this.clients);
  }

  /** The nodes announcing a Service, from the speakers' ServiceL2Status objects. */
  async announcers(name: string, namespace: string = DEMO_SERVICE.namespace): Promise<string[]> {
    return (await this.announcements())
      .filter((a) => a.serviceName === name && a.serviceNamespace === namespace)
      .map((a) => a.node);
  }

  /**
   * Waits until exactly one node announces the Service and `accept(node)` holds; returns it.
   * `ignore` leaves out nodes whose status may be stale (a node cut off cannot delete its own).
   */
  async waitForAnnouncer(
    name: string,
    options: {
      namespace?: string;
      accept?: (node: string) => boolean;
      ignore?: readonly string[];
      timeoutMs?: number;
    } = {},
  ): Promise<string> {
    const ignored = new Set(options.ignore ?? []);
    return waitFor(
      `one announcer for Service ${name}`,
      async () => {
        const nodes = (await this.announcers(name, options.namespace)).filter((n) => !ignored.has(n));
        const [only] = nodes;
        return nodes.length === 1 && only !== undefined && (options.accept?.(only) ?? true)
          ? only
          : undefined;
      },
      { timeoutMs: options.timeoutMs ?? 30_000, intervalMs: 50 },
    );
  }

  // --- the client's view

  /** `curl` from the client namespace; resolves with the body (a backend answers its node's name). */
  async curlFromClient(ip: string, timeoutMs = 3_000): Promise<string> {
    const url = `http://${urlHost(ip)}/`;
    const seconds = (timeoutMs / 1000).toFixed(1);
    return (await runIn(this.layout.clientNetns, ["curl", "-sS", "-g", "--max-time", seconds, url])).trim();
  }

  /** The client's neighbour entries for `address` on its LAN link. */
  async clientNeighbours(address?: string): Promise<NeighbourEntry[]> {
    return neighbours(this.layout.clientNetns, this.layout.clientIfname, address);
  }

  /** Starts the Layer 2 probe (raw ARP/NDP sender and watcher) in the client namespace. */
  probe(mode: ProbeMode, args: readonly string[] = []): Promise<ProbeSession> {
    return ProbeSession.start(this.layout.clientNetns, mode, this.options.programs, [
      "--interface",
      this.layout.clientIfname,
      "--ipv4",
      CLIENT_ADDRESSES.ipv4,
      "--ipv6",
      CLIENT_ADDRESSES.ipv6,
      ...args,
    ]);
  }

  async flushClientNeighbours(): Promise<void> {
    await run(["ip", "-n", this.layout.clientNetns, "neigh", "flush", "dev", this.layout.clientIfname]);
  }

  // --- stopping

  /**
   * Stops every recorded process (by PID, speakers first, the control plane last), removes the
   * namespaces and the state directory. Returns namespaces that could not be removed (none, normally).
   */
  async stop(): Promise<string[]> {
    if (this.stopped) return [];
    this.stopped = true;
    const order = (record: ProcessRecord): number =>
      record.name === processNames.controlPlane
        ? 2
        : record.name === processNames.controller || record.name.startsWith(processNames.router)
          ? 1
          : 0;
    const records = [...this.current.processes].sort((a, b) => order(a) - order(b));
    const byRank = [0, 1, 2].map((rank) => records.filter((r) => order(r) === rank));
    for (const group of byRank) {
      await Promise.all(
        group.map(async (record) => {
          const owned = this.owned.get(record.name);
          if (owned !== undefined && owned.record.pid === record.pid) await owned.stop();
          else await stopRecord(record);
        }),
      );
    }
    deleteNamespacesSync(this.current.namespaces);
    const present = new Set(listNamespaces());
    const left = this.current.namespaces.filter((name) => present.has(name));
    removeStateFile(this.stateDir);
    rmSync(this.stateDir, { recursive: true, force: true });
    this.unregisterExit();
    this.removeSignalHandlers();
    return left;
  }
}

export const startLab = (options?: LabOptions): Promise<Lab> => Lab.start(options);
