/**
 * What the BGP lab's router namespace runs: a real daemon from the distribution (BIRD 2, FRR,
 * ExaBGP) behind one interface, so the interop tests ask every daemon the same questions and read
 * the answers from the daemon itself (birdc, vtysh … json, ExaBGP's JSON API), never from IronLB.
 * Each daemon keeps its configuration, sockets, PID files and logs in its own temporary directory
 * and is started and stopped by PID.
 */
import { canonicalIP, formatCIDR, parseCIDR } from "../net/ip.js";

export type RouterKind = "bird" | "frr" | "exabgp";

export interface RouterNeighbor {
  /** The node's address the session runs to (IPv4 or IPv6). */
  readonly address: string;
  readonly asn: number;
  /** TCP-MD5 password (RFC 2385). */
  readonly password?: string;
  /** Run BFD with the neighbor (BIRD and FRR; 300 ms × 3; multi hop with `multihop`). */
  readonly bfd?: boolean;
  /** An eBGP multihop session (BIRD `multihop`, FRR `ebgp-multihop 255`), and multi-hop BFD. */
  readonly multihop?: boolean;
}

export interface RouterSettings {
  readonly netns: string;
  /** A directory of its own (created by the caller) for configuration, sockets and logs. */
  readonly dir: string;
  readonly asn: number;
  readonly routerId: string;
  readonly localIPv4: string;
  readonly localIPv6: string;
  readonly neighbors: readonly RouterNeighbor[];
  /** Hold time offered to the nodes (short, so a dead speaker is noticed quickly). */
  readonly holdTimeSeconds: number;
}

/** One path the router holds for a prefix, as the daemon reports it. */
export interface RouterPath {
  /** Canonical CIDR. */
  readonly prefix: string;
  /** The neighbor it came from (canonical address). */
  readonly from: string;
  readonly nextHop: string;
  readonly asPath: readonly number[];
  readonly localPref?: number;
  /** "asn:value", sorted. */
  readonly communities: readonly string[];
  /** "global:local1:local2", sorted. */
  readonly largeCommunities: readonly string[];
  /** Kept by graceful restart while the neighbor restarts (where the daemon tells). */
  readonly stale?: boolean;
}

export interface RouterDaemon {
  readonly kind: RouterKind;
  /** Whether it installs the routes it learns into the router namespace's kernel FIB. */
  readonly installsKernelRoutes: boolean;
  start(): Promise<void>;
  /** Stops it by PID (SIGTERM, then SIGKILL); idempotent. */
  stop(): Promise<void>;
  /** Neighbors whose session is Established (canonical addresses). */
  established(): Promise<ReadonlySet<string>>;
  /** Every path the router has learnt from the nodes. */
  paths(): Promise<RouterPath[]>;
  /** The end of its log, for failure messages. */
  logTail(): string;
}

export class RouterDaemonError extends Error {
  override readonly name = "RouterDaemonError";
  readonly code = "LAB_ROUTER_DAEMON";
}

export const canonicalPrefix = (text: string): string => formatCIDR(parseCIDR(text, false));
export const canonicalAddress = canonicalIP;

export const sortedUnique = (values: Iterable<string>): string[] => [...new Set(values)].sort();
