/**
 * The lab's hands on the kernel: runs `ip` (iproute2) to build and tear down a TopologySpec, to cut
 * and restore links, and to read neighbour tables. Every command is bounded in time.
 */
import { execFile, execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { setupSteps, teardownOrder, type TopologySpec } from "./topology.js";

export class LabCommandError extends Error {
  override readonly name = "LabCommandError";
  readonly code = "LAB_COMMAND";
  constructor(
    message: string,
    readonly argv: readonly string[],
    readonly stderr: string,
  ) {
    super(message);
  }
}

const COMMAND_TIMEOUT_MS = 20_000;

/** Runs a command (no shell) and resolves with its stdout; rejects with LabCommandError. */
export function run(argv: readonly string[], timeoutMs = COMMAND_TIMEOUT_MS): Promise<string> {
  const [command = "", ...args] = argv;
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { encoding: "utf8", timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve(stdout);
          return;
        }
        const detail = stderr.trim() === "" ? error.message : stderr.trim();
        reject(new LabCommandError(`${argv.join(" ")}: ${detail}`, argv, stderr));
      },
    );
  });
}

/** `ip netns exec NS argv…` */
export const runIn = (netns: string, argv: readonly string[], timeoutMs?: number): Promise<string> =>
  run(["ip", "netns", "exec", netns, ...argv], timeoutMs);

/** Network namespaces that exist now (names under /run/netns). */
export function listNamespaces(): string[] {
  try {
    return readdirSync("/run/netns").sort();
  } catch {
    return [];
  }
}

/** The namespaces of a lab with this prefix that exist now. */
export const namespacesWithPrefix = (prefix: string): string[] =>
  listNamespaces().filter((name) => name.startsWith(prefix));

/**
 * Builds `spec`. On any failure, removes every namespace of the spec (those created so far) and
 * rethrows, so a half-built lab never stays behind.
 */
export async function buildTopology(spec: TopologySpec): Promise<void> {
  try {
    for (const step of setupSteps(spec)) {
      try {
        await run(step.argv);
      } catch (error) {
        const detail = error instanceof Error ? error.message : String(error);
        throw new LabCommandError(`cannot ${step.what}: ${detail}`, step.argv, "");
      }
    }
  } catch (error) {
    deleteNamespacesSync(teardownOrder(spec));
    throw error;
  }
}

/** Removes namespaces (and so their links), ignoring ones already gone. Synchronous: usable at exit. */
export function deleteNamespacesSync(names: readonly string[]): void {
  for (const name of names) {
    try {
      execFileSync("ip", ["netns", "del", name], { stdio: "ignore", timeout: COMMAND_TIMEOUT_MS });
    } catch {
      // Already removed, or never created.
    }
  }
}

/** Removes the namespaces of `spec`; returns those still present afterwards (should be none). */
export function teardownTopology(spec: TopologySpec): string[] {
  const names = teardownOrder(spec);
  deleteNamespacesSync(names);
  const left = new Set(listNamespaces());
  return names.filter((name) => left.has(name));
}

/** Sets a link of a namespace up or down. */
export async function setLinkState(netns: string, ifname: string, state: "up" | "down"): Promise<void> {
  await run(["ip", "-n", netns, "link", "set", ifname, state]);
}

export interface NeighbourEntry {
  readonly dst: string;
  readonly dev?: string;
  readonly lladdr?: string;
  readonly state?: readonly string[];
}

/** The neighbour table of `netns` (both families, or one address). */
export async function neighbours(netns: string, ifname: string, address?: string): Promise<NeighbourEntry[]> {
  const argv = ["ip", "-n", netns, "-j", "neigh", "show", ...(address === undefined ? [] : [address])];
  const out = await run([...argv, "dev", ifname]);
  return out.trim() === "" ? [] : (JSON.parse(out) as NeighbourEntry[]);
}

export async function flushNeighbours(netns: string, ifname: string): Promise<void> {
  await run(["ip", "-n", netns, "neigh", "flush", "dev", ifname]);
  await run(["ip", "-n", netns, "-6", "neigh", "flush", "dev", ifname]);
}

export interface AddressEntry {
  readonly ifname: string;
  readonly addr_info?: readonly { readonly local: string; readonly prefixlen: number }[];
}

/** Addresses on one interface of `netns` (e.g. the VIPs on lo); no namespace means this process's. */
export async function interfaceAddresses(netns: string | undefined, ifname: string): Promise<string[]> {
  const where = netns === undefined ? [] : ["-n", netns];
  const out = await run(["ip", ...where, "-j", "addr", "show", "dev", ifname]);
  const entries = JSON.parse(out) as AddressEntry[];
  return entries.flatMap((entry) => (entry.addr_info ?? []).map((info) => info.local));
}
