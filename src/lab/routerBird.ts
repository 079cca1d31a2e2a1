/**
 * BIRD 2 as the lab's router: a configuration with one BGP protocol per node session (eBGP or
 * iBGP from the neighbor's AS, TCP-MD5 when a password is set, graceful restart on), kernel
 * protocols that merge equal paths into ECMP routes, and birdc's text output parsed into paths.
 */
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { run } from "./netns.js";
import { LabProcess, waitFor } from "./processes.js";
import {
  canonicalAddress,
  canonicalPrefix,
  RouterDaemonError,
  sortedUnique,
  type RouterDaemon,
  type RouterPath,
  type RouterSettings,
} from "./routerDaemon.js";

/** BIRD protocol name of the i-th neighbor (names must be identifiers). */
export const birdProtocolName = (index: number): string => `node_${String(index + 1)}`;

const quote = (text: string): string => `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;

export function birdConfig(s: RouterSettings): string {
  const lines = [
    `router id ${s.routerId};`,
    // Equal BGP paths become one multipath kernel route (ECMP); only BGP routes go to the kernel.
    "protocol device { scan time 10; }",
    "protocol direct { ipv4; ipv6; }",
    "protocol kernel kernel4 { ipv4 { export where source = RTS_BGP; }; merge paths yes limit 16; }",
    "protocol kernel kernel6 { ipv6 { export where source = RTS_BGP; }; merge paths yes limit 16; }",
  ];
  if (s.neighbors.some((n) => n.bfd === true)) {
    // Sessions are created by the BGP protocols that ask for them ("bfd on").
    lines.push(
      "protocol bfd {",
      '  interface "*" { min rx interval 300 ms; min tx interval 300 ms; idle tx interval 1000 ms; multiplier 3; };',
      "  multihop { min rx interval 300 ms; min tx interval 300 ms; idle tx interval 1000 ms; multiplier 3; };",
      "}",
    );
  }
  s.neighbors.forEach((n, i) => {
    const v6 = n.address.includes(":");
    // Multihop sessions resolve their next hops recursively (BIRD refuses "gateway direct").
    const gateway = n.multihop === true ? " " : " gateway direct; ";
    lines.push(
      `protocol bgp ${birdProtocolName(i)} {`,
      `  local ${v6 ? s.localIPv6 : s.localIPv4} as ${String(s.asn)};`,
      `  neighbor ${n.address} as ${String(n.asn)};`,
      n.multihop === true ? "  multihop;" : "  direct;",
      `  hold time ${String(s.holdTimeSeconds)};`,
      "  connect retry time 1;",
      // After an error BIRD refuses the neighbor for the error wait time (60 s by default).
      "  error wait time 1, 5;",
      "  graceful restart on;",
      ...(n.password === undefined ? [] : [`  password ${quote(n.password)};`]),
      ...(n.bfd === true ? ["  bfd on;"] : []),
      v6 ? `  ipv6 { import all; export none;${gateway}};` : `  ipv4 { import all; export none;${gateway}};`,
      "}",
    );
  });
  return `${lines.join("\n")}\n`;
}

interface PathBuilder {
  prefix: string;
  proto: string;
  nextHop?: string;
  asPath: number[];
  localPref?: number;
  communities: string[];
  largeCommunities: string[];
}

/**
 * Paths from `birdc show route all` of the protocols in `neighbors` (protocol name → neighbor
 * address); other routes (direct, kernel) are skipped.
 */
export function parseBirdRoutes(text: string, neighbors: ReadonlyMap<string, string>): RouterPath[] {
  const out: RouterPath[] = [];
  let prefix: string | undefined;
  let current: PathBuilder | undefined;
  const flush = (): void => {
    const from = current === undefined ? undefined : neighbors.get(current.proto);
    if (current !== undefined && from !== undefined && current.nextHop !== undefined) {
      out.push({
        prefix: current.prefix,
        from,
        nextHop: current.nextHop,
        asPath: current.asPath,
        ...(current.localPref === undefined ? {} : { localPref: current.localPref }),
        communities: sortedUnique(current.communities),
        largeCommunities: sortedUnique(current.largeCommunities),
      });
    }
    current = undefined;
  };
  for (const line of text.split("\n")) {
    const first = /^([0-9a-fA-F.:]+\/\d+)\s+\w+\s+\[(\S+)/.exec(line);
    const more = /^ +\w+\s+\[(\S+)/.exec(line);
    if (first !== null) {
      flush();
      prefix = canonicalPrefix(first[1] ?? "");
      current = { prefix, proto: first[2] ?? "", asPath: [], communities: [], largeCommunities: [] };
      continue;
    }
    if (more !== null && prefix !== undefined) {
      flush();
      current = { prefix, proto: more[1] ?? "", asPath: [], communities: [], largeCommunities: [] };
      continue;
    }
    if (!line.startsWith("\t")) {
      flush();
      if (!line.startsWith(" ")) prefix = undefined;
      continue;
    }
    if (current === undefined) continue;
    const attr = /^\t(BGP\.\w+): ?(.*)$/.exec(line);
    if (attr === null) continue;
    const [, name, value = ""] = attr;
    if (name === "BGP.next_hop") current.nextHop = canonicalAddress(value.trim().split(/\s+/)[0] ?? "");
    else if (name === "BGP.as_path")
      current.asPath = value
        .split(/\s+/)
        .filter((t) => /^\d+$/.test(t))
        .map(Number);
    else if (name === "BGP.local_pref") current.localPref = Number(value.trim());
    else if (name === "BGP.community")
      current.communities = [...value.matchAll(/\((\d+),\s*(\d+)\)/g)].map(
        (m) => `${m[1] ?? ""}:${m[2] ?? ""}`,
      );
    else if (name === "BGP.large_community")
      current.largeCommunities = [...value.matchAll(/\((\d+),\s*(\d+),\s*(\d+)\)/g)].map(
        (m) => `${m[1] ?? ""}:${m[2] ?? ""}:${m[3] ?? ""}`,
      );
  }
  flush();
  return out;
}

/** Protocol names in state Established, from `birdc show protocols`. */
export function parseBirdEstablished(text: string): string[] {
  return text
    .split("\n")
    .map((line) => /^(\S+)\s+BGP\s+\S+\s+up\s+.*Established/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

/** One BFD session as `birdc show bfd sessions` lists it. */
export interface BirdBfdSession {
  readonly address: string;
  readonly state: string;
}

/** Sessions from `birdc show bfd sessions` (address and state columns). */
export function parseBirdBfdSessions(text: string): BirdBfdSession[] {
  const out: BirdBfdSession[] = [];
  for (const line of text.split("\n")) {
    const m = /^([0-9a-fA-F.:]+)\s+\S+\s+(AdminDown|Down|Init|Up)\s/.exec(line);
    if (m !== null) out.push({ address: canonicalAddress(m[1] ?? ""), state: m[2] ?? "" });
  }
  return out;
}

export class BirdRouter implements RouterDaemon {
  readonly kind = "bird";
  readonly installsKernelRoutes = true;
  readonly socket: string;
  private process: LabProcess | undefined;
  private readonly protocols: ReadonlyMap<string, string>;

  constructor(private readonly settings: RouterSettings) {
    this.socket = join(settings.dir, "bird.ctl");
    this.protocols = new Map(
      settings.neighbors.map((n, i) => [birdProtocolName(i), canonicalAddress(n.address)]),
    );
  }

  async start(): Promise<void> {
    const config = join(this.settings.dir, "bird.conf");
    writeFileSync(config, birdConfig(this.settings));
    await run(["bird", "-p", "-c", config]);
    this.process = LabProcess.start(
      {
        name: "bird",
        netns: this.settings.netns,
        argv: ["bird", "-f", "-c", config, "-s", this.socket, "-P", join(this.settings.dir, "bird.pid")],
        logFile: join(this.settings.dir, "bird.log"),
      },
      "owned",
    );
    const proc = this.process;
    await waitFor(
      "BIRD's control socket",
      async () => ((await this.birdc(["show", "status"])).includes("Daemon is up") ? true : undefined),
      {
        timeoutMs: 10_000,
        giveUp: () =>
          proc.running ? undefined : `bird exited (${proc.exitReason ?? "?"}): ${proc.logTail()}`,
      },
    );
  }

  async stop(): Promise<void> {
    await this.process?.stop();
  }

  /** Runs a birdc command against this BIRD and returns its output. */
  birdc(args: readonly string[]): Promise<string> {
    return run(["birdc", "-s", this.socket, ...args]);
  }

  async established(): Promise<ReadonlySet<string>> {
    const names = parseBirdEstablished(await this.birdc(["show", "protocols"]));
    const out = new Set<string>();
    for (const name of names) {
      const address = this.protocols.get(name);
      if (address !== undefined) out.add(address);
    }
    return out;
  }

  /** The router's BFD sessions, as BIRD reports them. */
  async bfdSessions(): Promise<BirdBfdSession[]> {
    return parseBirdBfdSessions(await this.birdc(["show", "bfd", "sessions"]));
  }

  /** The daemon's process ID (for SIGSTOP in tests). */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  async paths(): Promise<RouterPath[]> {
    return parseBirdRoutes(await this.birdc(["show", "route", "all"]), this.protocols);
  }

  /** Routes BIRD holds from one neighbor (cheap, for large tables). */
  async routeCount(neighbor: string): Promise<number> {
    const name = [...this.protocols].find(([, a]) => a === canonicalAddress(neighbor))?.[0];
    if (name === undefined) throw new RouterDaemonError(`no protocol for neighbor ${neighbor}`);
    const out = await this.birdc(["show", "route", "protocol", name, "count"]);
    const m = /(\d+) of \d+ routes/.exec(out);
    return m === null ? 0 : Number(m[1]);
  }

  logTail(): string {
    return this.process?.logTail() ?? "";
  }
}
