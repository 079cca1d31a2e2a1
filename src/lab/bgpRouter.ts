/**
 * The BGP lab's router at run time: BIRD 2 (default) or FRR (zebra + bgpd) started as the lab's
 * own recorded processes (so they outlive `lab up` and `lab down` stops them by PID like the
 * others), the router namespace's kernel FIB, and the view `lab status` prints — read from the
 * daemon (birdc, vtysh … json) and the kernel, never from IronLB.
 */
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  bgpRouterSettings,
  hostPrefix,
  routesFromPaths,
  type BgpLabLayout,
  type RouterView,
} from "./bgpLab.js";
import { run } from "./netns.js";
import { waitFor, type LabProcess, type LabProcessSpec } from "./processes.js";
import { BirdRouter, birdConfig } from "./routerBird.js";
import { RouterDaemonError, type RouterDaemon } from "./routerDaemon.js";
import { FrrRouter, frrBgpdConfig } from "./routerFrr.js";

/** The daemons `lab up --mode bgp --router …` can run. */
export type LabRouterKind = "bird" | "frr";

export const routerDaemonName = (kind: LabRouterKind): string => (kind === "bird" ? "BIRD 2" : "FRR");

/** Where the router's configuration, control sockets and logs live inside the lab's state directory. */
export const routerDir = (stateDir: string): string => join(stateDir, "router");

/** A daemon handle for asking the lab's router (birdc / vtysh through its sockets); starts nothing. */
export function labRouter(
  kind: LabRouterKind,
  layout: BgpLabLayout,
  stateDir: string,
): BirdRouter | FrrRouter {
  const settings = bgpRouterSettings(layout, routerDir(stateDir));
  return kind === "bird" ? new BirdRouter(settings) : new FrrRouter(settings);
}

/** The command that shows the router's BGP routes (for `lab up`'s hints). */
export function routerRoutesCommand(router: BirdRouter | FrrRouter, stateDir: string): string {
  return router instanceof BirdRouter
    ? `birdc -s ${router.socket} show route`
    : `vtysh --vty_socket ${routerDir(stateDir)} -c 'show ip route bgp'`;
}

type Spawn = (spec: Omit<LabProcessSpec, "logFile" | "cwd">) => LabProcess;

const died = (proc: LabProcess, what: string) => (): string | undefined =>
  proc.running ? undefined : `${what} exited (${proc.exitReason ?? "?"}): ${proc.logTail()}`;

/**
 * Writes the router's configuration, starts its daemon(s) through `spawn` (the lab's recorded,
 * detached-or-owned processes) and waits until they answer on their control sockets.
 */
export async function startLabRouter(
  kind: LabRouterKind,
  layout: BgpLabLayout,
  stateDir: string,
  spawn: Spawn,
  timeoutMs: number,
): Promise<void> {
  const dir = routerDir(stateDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const settings = bgpRouterSettings(layout, dir);
  if (kind === "bird") {
    const config = join(dir, "bird.conf");
    writeFileSync(config, birdConfig(settings));
    await run(["bird", "-p", "-c", config]);
    const bird = new BirdRouter(settings);
    const proc = spawn({
      name: "router",
      netns: layout.routerNetns,
      argv: ["bird", "-f", "-c", config, "-s", bird.socket, "-P", join(dir, "bird.pid")],
    });
    await waitFor(
      "BIRD's control socket",
      async () => ((await bird.birdc(["show", "status"])).includes("Daemon is up") ? true : undefined),
      { timeoutMs, giveUp: died(proc, "bird") },
    );
    return;
  }
  // FRR's daemons drop to user frr, which must reach (not list) the state directory and own its own.
  writeFileSync(join(dir, "zebra.conf"), "hostname ilb-router\nlog stdout informational\n");
  writeFileSync(join(dir, "bgpd.conf"), frrBgpdConfig(settings));
  const { uid, gid } = userIds("frr");
  chmodSync(stateDir, 0o711);
  chownSync(dir, uid, gid);
  for (const f of readdirSync(dir)) chownSync(join(dir, f), uid, gid);
  const frr = new FrrRouter(settings);
  const start = (daemon: "zebra" | "bgpd"): LabProcess =>
    spawn({
      name: `router-${daemon}`,
      netns: layout.routerNetns,
      argv: [
        `/usr/lib/frr/${daemon}`,
        ...["-f", join(dir, `${daemon}.conf`), "-i", join(dir, `${daemon}.pid`)],
        ...["-z", join(dir, "zserv.api"), "--vty_socket", dir, "-u", "frr", "-g", "frr"],
        // No TCP vty; logs go to the lab's log file.
        ...["-P", "0", "--log", "stdout"],
      ],
    });
  const zebra = start("zebra");
  await waitFor("zebra's vty", () => frr.vtysh("show version", "zebra").then(() => true), {
    timeoutMs,
    giveUp: died(zebra, "zebra"),
  });
  const bgpd = start("bgpd");
  await waitFor("bgpd's vty", () => frr.vtysh("show bgp summary json", "bgpd").then(() => true), {
    timeoutMs,
    giveUp: died(bgpd, "bgpd"),
  });
}

/** uid and gid of a local user, from /etc/passwd. */
function userIds(name: string): { uid: number; gid: number } {
  for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
    const [user, , uid, gid] = line.split(":");
    if (user === name) return { uid: Number(uid), gid: Number(gid) };
  }
  throw new RouterDaemonError(`user ${name} does not exist (apt-get install frr creates it)`);
}

/** Next hops of `prefix` in the router namespace's kernel FIB (sorted; empty when absent). */
export async function fibNextHops(netns: string, prefix: string): Promise<string[]> {
  const family = prefix.includes(":") ? "-6" : "-4";
  const out = await run(["ip", "-n", netns, family, "-j", "route", "show", prefix]);
  const routes = JSON.parse(out.trim() === "" ? "[]" : out) as {
    gateway?: string;
    nexthops?: { gateway?: string }[];
  }[];
  return routes
    .flatMap((r) => (r.nexthops !== undefined ? r.nexthops.map((h) => h.gateway) : [r.gateway]))
    .filter((h): h is string => h !== undefined && h !== "")
    .sort();
}

/** Waits until the kernel FIB of the router holds a route to each VIP over `count` next hops. */
export async function waitForRouterEcmp(
  layout: BgpLabLayout,
  vips: readonly string[],
  count: number,
  timeoutMs: number,
): Promise<void> {
  await waitFor(
    `routes to ${vips.join(", ")} over ${String(count)} next hops at the router`,
    async () => {
      for (const vip of vips) {
        if ((await fibNextHops(layout.routerNetns, hostPrefix(vip))).length !== count) return undefined;
      }
      return true;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

/** What the router holds (sessions, paths per prefix) and what the kernel installed for each prefix. */
export async function gatherRouterView(
  kind: LabRouterKind,
  layout: BgpLabLayout,
  stateDir: string,
): Promise<RouterView> {
  const router: RouterDaemon = labRouter(kind, layout, stateDir);
  const sessions = layout.nodes.length * 2;
  const base = { netns: layout.routerNetns, daemon: kind === "bird" ? "BIRD" : "FRR", sessions };
  try {
    const [established, paths] = await Promise.all([router.established(), router.paths()]);
    const prefixes = [...new Set(paths.map((p) => p.prefix))];
    const fib = new Map(
      await Promise.all(
        prefixes.map(async (prefix) => [prefix, await fibNextHops(layout.routerNetns, prefix)] as const),
      ),
    );
    return { ...base, established: established.size, routes: routesFromPaths(paths, fib) };
  } catch (error) {
    return {
      ...base,
      established: 0,
      routes: [],
      error: error instanceof Error ? error.message : String(error),
    };
  }
}
