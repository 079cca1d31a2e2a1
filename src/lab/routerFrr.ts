/**
 * FRR as the lab's router: zebra (kernel FIB), bgpd and — when a neighbor runs BFD — bfdd started directly with their own config
 * files, zserv and vty sockets and PID files in the lab's directory — never the system's
 * /etc/frr or /var/run/frr, and no service manager. The daemons run as user frr (their vty group
 * requires it), so the directory is handed to that user. vtysh talks to them through
 * `--vty_socket`; answers are read from `… json` commands.
 */
import { chownSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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

export function frrBgpdConfig(s: RouterSettings): string {
  const v4 = s.neighbors.filter((n) => !n.address.includes(":"));
  const v6 = s.neighbors.filter((n) => n.address.includes(":"));
  const keepalive = Math.max(1, Math.floor(s.holdTimeSeconds / 3));
  const lines = [
    "hostname ilb-router",
    "log stdout informational",
    `router bgp ${String(s.asn)}`,
    ` bgp router-id ${s.routerId}`,
    // A lab router: accept and use the nodes' routes without policy, one family per session.
    " no bgp ebgp-requires-policy",
    " no bgp default ipv4-unicast",
    " bgp graceful-restart",
    ` timers bgp ${String(keepalive)} ${String(s.holdTimeSeconds)}`,
  ];
  for (const n of s.neighbors) {
    lines.push(
      ` neighbor ${n.address} remote-as ${String(n.asn)}`,
      ` neighbor ${n.address} timers connect 1`,
    );
    if (n.password !== undefined) lines.push(` neighbor ${n.address} password ${n.password}`);
    if (n.multihop === true) lines.push(` neighbor ${n.address} ebgp-multihop 255`);
    if (n.bfd === true) lines.push(` neighbor ${n.address} bfd`);
  }
  // ECMP over every node's path, eBGP and iBGP.
  const family = (name: string, list: typeof s.neighbors): string[] => [
    ` address-family ${name} unicast`,
    ...list.map((n) => `  neighbor ${n.address} activate`),
    "  maximum-paths 16",
    "  maximum-paths ibgp 16",
    " exit-address-family",
  ];
  lines.push(...family("ipv4", v4), ...family("ipv6", v6));
  return `${lines.join("\n")}\n`;
}

interface FrrPathJson {
  readonly aspath?: { readonly segments?: readonly { readonly list?: readonly number[] }[] };
  readonly locPrf?: number;
  readonly stale?: boolean;
  readonly community?: { readonly list?: readonly string[] };
  readonly largeCommunity?: { readonly list?: readonly string[] };
  readonly nexthops?: readonly { readonly ip?: string; readonly scope?: string }[];
  readonly peer?: { readonly peerId?: string };
}

/** Paths from `show bgp <afi> unicast json detail` (the per-prefix header entries are skipped). */
export function parseFrrRoutes(json: string): RouterPath[] {
  const doc = JSON.parse(json) as { routes?: Record<string, readonly FrrPathJson[]> };
  const out: RouterPath[] = [];
  for (const [prefix, entries] of Object.entries(doc.routes ?? {})) {
    for (const p of entries) {
      const from = p.peer?.peerId;
      const hop = p.nexthops?.find((h) => h.scope !== "link-local")?.ip ?? p.nexthops?.[0]?.ip;
      if (from === undefined || hop === undefined) continue;
      out.push({
        prefix: canonicalPrefix(prefix),
        from: canonicalAddress(from),
        nextHop: canonicalAddress(hop),
        asPath: (p.aspath?.segments ?? []).flatMap((seg) => seg.list ?? []),
        ...(p.locPrf === undefined ? {} : { localPref: p.locPrf }),
        communities: sortedUnique(p.community?.list ?? []),
        largeCommunities: sortedUnique(p.largeCommunity?.list ?? []),
        ...(p.stale === true ? { stale: true } : {}),
      });
    }
  }
  return out;
}

/** Neighbors in state Established from `show bgp summary json` (all families). */
export function parseFrrEstablished(json: string): string[] {
  const doc = JSON.parse(json) as Record<string, { peers?: Record<string, { state?: string }> }>;
  const out: string[] = [];
  for (const family of Object.values(doc)) {
    for (const [address, peer] of Object.entries(family.peers ?? {})) {
      if (peer.state === "Established") out.push(canonicalAddress(address));
    }
  }
  return sortedUnique(out);
}

/** uid and gid of a local user, from /etc/passwd. */
function userIds(name: string): { uid: number; gid: number } {
  for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
    const [user, , uid, gid] = line.split(":");
    if (user === name) return { uid: Number(uid), gid: Number(gid) };
  }
  throw new RouterDaemonError(`user ${name} does not exist (apt-get install frr creates it)`);
}

const FRR_LIBEXEC = "/usr/lib/frr";

/** bfdd's configuration: FRR's defaults (300 ms × 3) for the peers bgpd registers. */
export const FRR_BFDD_CONFIG = "hostname ilb-router\nlog stdout informational\nbfd\n!\n";

/** One BFD peer from `show bfd peers json`. */
export interface FrrBfdPeer {
  readonly peer: string;
  readonly status: string;
  readonly diagnostic?: string;
  readonly "remote-diagnostic"?: string;
  readonly "remote-id"?: number;
  readonly multihop?: boolean;
}

export function parseFrrBfdPeers(json: string): FrrBfdPeer[] {
  const doc = JSON.parse(json === "" ? "[]" : json) as FrrBfdPeer[];
  return doc.map((p) => ({ ...p, peer: canonicalAddress(p.peer) }));
}

export class FrrRouter implements RouterDaemon {
  readonly kind = "frr";
  readonly installsKernelRoutes = true;
  private zebra: LabProcess | undefined;
  private bgpd: LabProcess | undefined;
  private bfdd: LabProcess | undefined;

  constructor(private readonly settings: RouterSettings) {}

  private get wantsBfd(): boolean {
    return this.settings.neighbors.some((n) => n.bfd === true);
  }

  async start(): Promise<void> {
    const dir = this.settings.dir;
    writeFileSync(join(dir, "zebra.conf"), "hostname ilb-router\nlog stdout informational\n");
    writeFileSync(join(dir, "bgpd.conf"), frrBgpdConfig(this.settings));
    if (this.wantsBfd) writeFileSync(join(dir, "bfdd.conf"), FRR_BFDD_CONFIG);
    const { uid, gid } = userIds("frr");
    chownSync(dir, uid, gid);
    for (const f of readdirSync(dir)) chownSync(join(dir, f), uid, gid);
    const common = (daemon: string): string[] => [
      `${FRR_LIBEXEC}/${daemon}`,
      "-f",
      join(dir, `${daemon}.conf`),
      "-i",
      join(dir, `${daemon}.pid`),
      "-z",
      join(dir, "zserv.api"),
      "--vty_socket",
      dir,
      "-u",
      "frr",
      "-g",
      "frr",
      // No TCP vty.
      "-P",
      "0",
      "--log",
      "stdout",
    ];
    const start = (daemon: string, extra: readonly string[] = []): LabProcess =>
      LabProcess.start(
        {
          name: daemon,
          netns: this.settings.netns,
          argv: [...common(daemon), ...extra],
          logFile: join(dir, `${daemon}.out`),
          cwd: dir,
        },
        "owned",
      );
    const zebra = (this.zebra = start("zebra"));
    await waitFor("zebra's vty", () => this.vtysh("show version").then(() => true), {
      timeoutMs: 10_000,
      giveUp: () => (zebra.running ? undefined : `zebra exited: ${zebra.logTail()}`),
    });
    if (this.wantsBfd) {
      // Its control socket in the lab's directory, not the system's /var/run/frr.
      const bfdd = (this.bfdd = start("bfdd", ["--bfdctl", join(dir, "bfdd.sock")]));
      await waitFor("bfdd's vty", () => this.vtysh("show bfd peers json", "bfdd").then(() => true), {
        timeoutMs: 10_000,
        giveUp: () => (bfdd.running ? undefined : `bfdd exited: ${bfdd.logTail()}`),
      });
    }
    const bgpd = (this.bgpd = start("bgpd"));
    await waitFor("bgpd's vty", () => this.vtysh("show bgp summary json", "bgpd").then(() => true), {
      timeoutMs: 10_000,
      giveUp: () => (bgpd.running ? undefined : `bgpd exited: ${bgpd.logTail()}`),
    });
  }

  async stop(): Promise<void> {
    await this.bgpd?.stop();
    await this.bfdd?.stop();
    await this.zebra?.stop();
  }

  /** One vtysh command against these daemons. */
  vtysh(command: string, daemon?: "zebra" | "bgpd" | "bfdd"): Promise<string> {
    // With a daemon named, vtysh talks to it alone (another one may be frozen by a test).
    const only = daemon === undefined ? [] : ["-d", daemon];
    return run(["vtysh", "--vty_socket", this.settings.dir, ...only, "-c", command]);
  }

  /** bfdd's sessions (`show bfd peers json`). */
  async bfdPeers(): Promise<FrrBfdPeer[]> {
    return parseFrrBfdPeers(await this.vtysh("show bfd peers json", "bfdd"));
  }

  /** Process IDs of the daemons, for SIGSTOP in tests. */
  pidOf(daemon: "zebra" | "bgpd" | "bfdd"): number | undefined {
    return (daemon === "zebra" ? this.zebra : daemon === "bgpd" ? this.bgpd : this.bfdd)?.pid;
  }

  async established(): Promise<ReadonlySet<string>> {
    return new Set(parseFrrEstablished(await this.vtysh("show bgp summary json", "bgpd")));
  }

  async paths(): Promise<RouterPath[]> {
    const [v4, v6] = await Promise.all([
      this.vtysh("show bgp ipv4 unicast json detail", "bgpd"),
      this.vtysh("show bgp ipv6 unicast json detail", "bgpd"),
    ]);
    return [...parseFrrRoutes(v4), ...parseFrrRoutes(v6)];
  }

  logTail(): string {
    return [this.zebra, this.bfdd, this.bgpd].map((p) => p?.logTail() ?? "").join("\n");
  }
}
