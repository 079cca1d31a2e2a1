/**
 * The BGP lab's router at run time: BIRD 2 started as one of the lab's recorded processes (so it
 * outlives `lab up` and `lab down` stops it by PID like the others), the router namespace's kernel
 * FIB, and the view `lab status` prints — read from BIRD (birdc) and the kernel, never from IronLB.
 */
import { mkdirSync, writeFileSync } from "node:fs";
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

/** Where the router's configuration, control socket and log live inside the lab's state directory. */
export const routerDir = (stateDir: string): string => join(stateDir, "router");

/** A BirdRouter for asking the lab's BIRD (birdc through its control socket); starts nothing. */
export const labBird = (layout: BgpLabLayout, stateDir: string): BirdRouter =>
  new BirdRouter(bgpRouterSettings(layout, routerDir(stateDir)));

/**
 * Writes BIRD's configuration, checks it (`bird -p`), starts BIRD through `spawn` (the lab's
 * recorded, detached-or-owned process) and waits for its control socket.
 */
export async function startLabBird(
  layout: BgpLabLayout,
  stateDir: string,
  spawn: (spec: Omit<LabProcessSpec, "logFile" | "cwd">) => LabProcess,
  timeoutMs: number,
): Promise<BirdRouter> {
  const dir = routerDir(stateDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const settings = bgpRouterSettings(layout, dir);
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
    {
      timeoutMs,
      giveUp: () => (proc.running ? undefined : `bird exited (${proc.exitReason ?? "?"}): ${proc.logTail()}`),
    },
  );
  return bird;
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

/** What BIRD holds (sessions, paths per prefix) and what the kernel installed for each prefix. */
export async function gatherRouterView(layout: BgpLabLayout, stateDir: string): Promise<RouterView> {
  const bird = labBird(layout, stateDir);
  const sessions = layout.nodes.length * 2;
  const base = { netns: layout.routerNetns, daemon: "BIRD", sessions };
  try {
    const [established, paths] = await Promise.all([bird.established(), bird.paths()]);
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
