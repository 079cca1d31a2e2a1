/**
 * The `ironlb lab up | status | down` actions (src/cli/lab.ts registers them and loads this
 * module only when a lab command runs, so the other commands start without it).
 */
import { MAX_NODES } from "./addressing.js";
import { DEMO_SERVICE } from "./cluster.js";
import { Lab, LabAlreadyUpError, LabError, requireRoot } from "./lab.js";
import { deleteNamespacesSync, listNamespaces } from "./netns.js";
import { DEFAULT_STATE_DIR } from "./state.js";
import { curlCommand, gatherStatus, renderStatus } from "./status.js";
import { l2Layout, teardownOrder } from "./topology.js";
import { bgpLabLayout, renderRouterView } from "./bgpLab.js";
import { gatherRouterView, routerDaemonName, routerRoutesCommand, type LabRouterKind } from "./bgpRouter.js";
import type { LabMode } from "./state.js";

export interface UpFlags {
  readonly nodes: string;
  /** Hidden: namespace prefix other than "ilb-" (tests run a CLI lab beside a user's). */
  readonly prefix?: string;
  readonly mode: string;
  /** The BGP lab's router daemon: bird (default) or frr. */
  readonly router?: string;
  readonly stateDir: string;
  readonly logLevel: string;
}

export interface StateFlags {
  readonly stateDir: string;
}

const write = (text: string): void => {
  process.stdout.write(text);
};

function parseNodes(text: string): number {
  const nodes = Number(text);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) {
    throw new LabError(`--nodes must be an integer from 1 to ${MAX_NODES}, got ${text}`);
  }
  return nodes;
}

function parseMode(text: string): LabMode {
  if (text === "l2" || text === "bgp") return text;
  throw new LabError(`--mode must be l2 or bgp, got ${text}`);
}

function parseRouter(text: string | undefined, mode: LabMode): LabRouterKind | undefined {
  if (text === undefined) return undefined;
  if (text !== "bird" && text !== "frr") throw new LabError(`--router must be bird or frr, got ${text}`);
  if (mode !== "bgp") throw new LabError("--router needs --mode bgp");
  return text;
}

export async function up(flags: UpFlags): Promise<void> {
  requireRoot();
  const mode = parseMode(flags.mode);
  const router = parseRouter(flags.router, mode);
  const nodes = parseNodes(flags.nodes);
  const started = performance.now();
  let lab: Lab;
  try {
    lab = await Lab.start({
      nodes,
      mode,
      ...(router === undefined ? {} : { router }),
      stateDir: flags.stateDir,
      ...(flags.prefix === undefined ? {} : { prefix: flags.prefix }),
      ownership: "detached",
      logLevel: flags.logLevel,
      progress: (message) => {
        write(`  ${message}\n`);
      },
    });
  } catch (error) {
    if (
      error instanceof LabAlreadyUpError &&
      error.state.nodes === nodes &&
      error.state.mode === mode &&
      (error.state.router ?? "bird") === (router ?? "bird")
    ) {
      const attached = Lab.attach(flags.stateDir);
      if (attached !== undefined && attached.health().every((p) => p.running)) {
        write(`the lab is already up (nothing changed):\n`);
        write(await statusText(attached));
        return;
      }
    }
    throw error;
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const ips = await lab.waitForServiceIPs(DEMO_SERVICE.name);
  const bgp = lab.bgp;
  const nodeLines = lab.layout.nodes.map(
    (n) => `  ${n.nodeName}: ${n.ipv4}, ${n.ipv6} (namespace ${n.netns})`,
  );
  let serviceLines: string[];
  if (bgp === undefined) {
    const announcer = await lab.waitForAnnouncer(DEMO_SERVICE.name).catch(() => "nobody yet");
    serviceLines = [
      `demo Service ${DEMO_SERVICE.namespace}/${DEMO_SERVICE.name}: ${ips.join(", ")}, announced by ${announcer}`,
      "reach it from the client namespace (each backend answers with its node's name):",
    ];
  } else {
    serviceLines = [
      `router ${bgp.routerNetns}: ${routerDaemonName(lab.routerKind)} at 192.0.2.1 / 2001:db8:1::1, eBGP with every node over IPv4 and IPv6`,
      `client ${bgp.clientNetns}: ${bgp.clientAddresses.ipv4}, ${bgp.clientAddresses.ipv6} (behind the router)`,
      `demo Service ${DEMO_SERVICE.namespace}/${DEMO_SERVICE.name}: ${ips.join(", ")}, advertised by every node`,
      ...renderRouterView(await gatherRouterView(lab.routerKind, bgp, lab.stateDir)),
      "reach it from the client namespace through the router (ECMP: the answering node's name varies by flow):",
    ];
  }
  const lines = [
    `lab up in ${seconds} s: ${bgp === undefined ? "" : "mode bgp, "}${lab.layout.nodes.length} nodes, state in ${lab.stateDir}`,
    ...nodeLines,
    ...serviceLines,
    ...ips.map((ip) => `  ${curlCommand(lab.layout.clientNetns, ip)}`),
    `kubeconfig: ${lab.state.adminKubeconfig ?? "?"}`,
    `logs: ${lab.stateDir}/logs/`,
    ...(bgp === undefined ? [] : [`the router's routes: ${routerRoutesCommand(lab.router(), lab.stateDir)}`]),
    "next: ironlb lab status | ironlb lab down",
  ];
  write(`${lines.join("\n")}\n`);
}

export async function status(flags: StateFlags): Promise<void> {
  requireRoot();
  const lab = Lab.attach(flags.stateDir);
  if (lab === undefined) {
    write(`no lab in ${flags.stateDir} (start one with: ironlb lab up)\n`);
    process.exitCode = 3;
    return;
  }
  const current = await gatherStatus(lab);
  write(renderStatus(current, lab.layout.clientNetns));
  const bgp = lab.bgp;
  let routerDown = false;
  if (bgp !== undefined) {
    const view = await gatherRouterView(lab.routerKind, bgp, lab.stateDir);
    write(`${renderRouterView(view).join("\n")}\n`);
    routerDown = view.error !== undefined;
  }
  if (current.processes.some((p) => !p.running) || current.apiError !== undefined || routerDown)
    process.exitCode = 1;
}

async function statusText(lab: Lab): Promise<string> {
  const bgp = lab.bgp;
  const router =
    bgp === undefined ? [] : renderRouterView(await gatherRouterView(lab.routerKind, bgp, lab.stateDir));
  return renderStatus(await gatherStatus(lab), lab.layout.clientNetns) + router.map((l) => `${l}\n`).join("");
}

export async function down(flags: StateFlags): Promise<void> {
  requireRoot();
  const started = performance.now();
  const lab = Lab.attach(flags.stateDir);
  let removed: readonly string[] = [];
  let left: string[] = [];
  if (lab !== undefined) {
    removed = lab.state.namespaces;
    left = await lab.stop();
  } else if (flags.stateDir === DEFAULT_STATE_DIR) {
    // The default lab lost its state file (e.g. /run was cleared by a reboot of a container):
    // its namespaces carry fixed names, so they can still be found. Never done for another
    // state directory, whose lab may use other names while the default lab runs.
    const fixed = [
      ...new Set([
        ...teardownOrder(l2Layout({ nodes: MAX_NODES, secondLink: true }).topology),
        ...teardownOrder(bgpLabLayout({ nodes: MAX_NODES }).topology),
      ]),
    ];
    const present = new Set(listNamespaces());
    removed = fixed.filter((name) => present.has(name));
    deleteNamespacesSync(removed);
    const still = new Set(listNamespaces());
    left = removed.filter((name) => still.has(name));
  }
  if (left.length > 0) throw new LabError(`could not remove namespaces ${left.join(", ")}`);
  if (lab === undefined && removed.length === 0) {
    write(`no lab in ${flags.stateDir}: nothing to remove\n`);
    return;
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  write(`lab down in ${seconds} s: processes stopped, ${removed.length} namespaces removed\n`);
}
