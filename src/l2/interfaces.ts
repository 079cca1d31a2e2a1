/**
 * Which network interfaces the Layer 2 responders run on, as pure functions over a snapshot of
 * the node's links (read from sysfs by interfacesSysfs.ts, followed by interfacesMonitor.ts).
 *
 * Without an explicit list, a responder runs on every link that can carry ARP: up, with a
 * carrier, Ethernet, broadcast-capable, ARP enabled, not enslaved to a bridge or bond (the
 * master answers for its ports), and not matching the exclusion patterns that name the
 * virtual links container runtimes and CNI plugins create.
 */
import { formatIP, type IPAddr } from "../net/ip.js";
import type { MacAddress } from "./codec/mac.js";

/** ARPHRD_ETHER: the link type of Ethernet, veth, bridges, bonds, macvlan… */
export const ARPHRD_ETHER = 1;

/** Bits of the kernel's interface flags (linux/if.h) that decide eligibility. */
export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_NOARP = 0x80;

/** One link as the kernel reports it. */
export interface LinkInfo {
  readonly name: string;
  readonly ifindex: number;
  /** Link type (ARPHRD_*). */
  readonly type: number;
  /** Interface flags (IFF_*) as in /sys/class/net/NAME/flags. */
  readonly flags: number;
  /** RFC 2863 operational state as the kernel names it: "up", "down", "unknown", "lowerlayerdown"… */
  readonly operState: string;
  readonly mac: MacAddress;
  /** Name of the bridge or bond this link is a port of. */
  readonly master?: string | undefined;
  /** The link's IPv6 link-local address (the source of NDP replies); undefined when it has none. */
  readonly linkLocal?: IPAddr | undefined;
}

/** Why a link is not used. */
export type LinkSkipReason =
  /** Administratively down (IFF_UP clear). */
  | "down"
  /** Up but without a working lower layer (no carrier, peer down…). */
  | "no-carrier"
  | "loopback"
  | "not-ethernet"
  | "not-broadcast"
  /** ARP is disabled on it (IFF_NOARP). */
  | "noarp"
  /** A port of a bridge or bond: frames are answered on the master. */
  | "enslaved"
  /** Matched an exclusion pattern. */
  | "excluded"
  /** Named by the configuration but not present on this node. */
  | "absent"
  /** Present, but the configuration names other interfaces. */
  | "not-named";

/** Operational states in which frames flow; "unknown" is what drivers without carrier reporting say. */
const OPERATIONAL_STATES: ReadonlySet<string> = new Set(["up", "unknown"]);

/** Whether a link can send and receive now (as opposed to what kind of link it is). */
export function linkStateProblem(link: LinkInfo): "down" | "no-carrier" | undefined {
  if ((link.flags & IFF_UP) === 0) return "down";
  if (!OPERATIONAL_STATES.has(link.operState)) return "no-carrier";
  return undefined;
}

/** Whether a link is of a kind that can carry ARP/NDP answers at all, or why not. */
export function linkKindProblem(
  link: LinkInfo,
): "loopback" | "not-ethernet" | "not-broadcast" | "noarp" | undefined {
  if ((link.flags & IFF_LOOPBACK) !== 0) return "loopback";
  if (link.type !== ARPHRD_ETHER) return "not-ethernet";
  if ((link.flags & IFF_BROADCAST) === 0) return "not-broadcast";
  if ((link.flags & IFF_NOARP) !== 0) return "noarp";
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Exclusion patterns

/**
 * Links never chosen automatically: loopback and the virtual links of container runtimes, CNI
 * plugins and kube-proxy. Shell-style globs (`*` any run, `?` one character).
 */
export const DEFAULT_EXCLUDED_INTERFACES: readonly string[] = [
  "lo",
  "docker*",
  "veth*",
  "cali*",
  "flannel*",
  "cni*",
  "cbr*",
  "lxc*",
  "kube-ipvs*",
  "kube-bridge",
  "cilium*",
  "vxlan*",
  "tunl*",
  "tun*",
  "tap*",
  "weave*",
  "datapath",
  "genev*",
  "nodelocaldns",
  "virbr*",
  "ovs-system",
  "br-int",
  "antrea*",
  "kube-dummy*",
  "wg*",
];

export class InterfacePatternError extends Error {
  override readonly name = "InterfacePatternError";
  readonly code = "ERR_INTERFACE_PATTERN";
}

/** Linux interface names: 1–15 bytes, no '/', ':' or whitespace. Patterns add '*' and '?'. */
const PATTERN_TEXT = /^[^\s/:]{1,15}$/;

/** A compiled glob: matches whole names only. */
export interface InterfacePattern {
  readonly text: string;
  readonly regex: RegExp;
}

export function compileInterfacePattern(text: string): InterfacePattern {
  const trimmed = text.trim();
  if (!PATTERN_TEXT.test(trimmed)) {
    throw new InterfacePatternError(
      `"${text}" is not an interface name pattern (1–15 characters, no whitespace, '/' or ':'; '*' and '?' are globs)`,
    );
  }
  const body = trimmed
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return { text: trimmed, regex: new RegExp(`^${body}$`) };
}

/**
 * Parses a comma-separated list of patterns as given to --exclude-interfaces. An empty string
 * means "exclude nothing"; a leading "+" adds to the default list instead of replacing it
 * ("+eno9,ens4*").
 */
export function parseExcludedInterfaces(text: string): InterfacePattern[] {
  const trimmed = text.trim();
  const extend = trimmed.startsWith("+");
  const items = (extend ? trimmed.slice(1) : trimmed)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const texts = extend ? [...DEFAULT_EXCLUDED_INTERFACES, ...items] : items;
  return texts.map(compileInterfacePattern);
}

export const DEFAULT_EXCLUDED_PATTERNS: readonly InterfacePattern[] =
  DEFAULT_EXCLUDED_INTERFACES.map(compileInterfacePattern);

export function matchesAnyPattern(name: string, patterns: readonly InterfacePattern[]): boolean {
  return patterns.some((p) => p.regex.test(name));
}

// ---------------------------------------------------------------------------------------------
// Selection

export interface InterfaceSelection {
  /** Links to answer on, in ifindex order. */
  readonly selected: readonly LinkInfo[];
  /** Links (or named interfaces) not used, with the reason, in name order. */
  readonly skipped: readonly { readonly name: string; readonly reason: LinkSkipReason }[];
}

/**
 * The links to answer on. With `named` non-empty (L2Advertisement.interfaces), exactly those
 * that exist, work and can carry ARP, whatever the exclusion list says (naming one is an
 * explicit choice, enslaved ports included). Otherwise every working Ethernet broadcast link
 * that is not enslaved and matches no exclusion pattern.
 */
export function selectInterfaces(
  links: readonly LinkInfo[],
  named: readonly string[],
  excluded: readonly InterfacePattern[] = DEFAULT_EXCLUDED_PATTERNS,
): InterfaceSelection {
  const selected: LinkInfo[] = [];
  const skipped: { name: string; reason: LinkSkipReason }[] = [];
  const wanted = new Set(named);
  for (const link of links) {
    const reason = skipReason(link, wanted, excluded);
    if (reason === undefined) selected.push(link);
    else skipped.push({ name: link.name, reason });
  }
  const present = new Set(links.map((l) => l.name));
  for (const name of wanted) if (!present.has(name)) skipped.push({ name, reason: "absent" });
  selected.sort((a, b) => a.ifindex - b.ifindex);
  skipped.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { selected, skipped };
}

function skipReason(
  link: LinkInfo,
  wanted: ReadonlySet<string>,
  excluded: readonly InterfacePattern[],
): LinkSkipReason | undefined {
  if (wanted.size > 0) {
    if (!wanted.has(link.name)) return "not-named";
  } else {
    if (matchesAnyPattern(link.name, excluded)) return "excluded";
    if (link.master !== undefined) return "enslaved";
  }
  return linkKindProblem(link) ?? linkStateProblem(link);
}

/** Two snapshots describe the same links (for change detection). */
export function sameLinks(a: readonly LinkInfo[], b: readonly LinkInfo[]): boolean {
  if (a.length !== b.length) return false;
  const byName = new Map(a.map((l) => [l.name, l]));
  return b.every((l) => {
    const other = byName.get(l.name);
    return other !== undefined && sameLink(other, l);
  });
}

export function sameLink(a: LinkInfo, b: LinkInfo): boolean {
  return (
    a.name === b.name &&
    a.ifindex === b.ifindex &&
    a.type === b.type &&
    a.flags === b.flags &&
    a.operState === b.operState &&
    a.mac === b.mac &&
    a.master === b.master &&
    a.linkLocal?.value === b.linkLocal?.value
  );
}

/** "eth0(2, up, 02:00:5e:00:53:01, fe80::1)": for logs. */
export function describeLink(link: LinkInfo): string {
  const ll = link.linkLocal === undefined ? "" : `, ${formatIP(link.linkLocal)}`;
  return `${link.name}(${link.ifindex}, ${link.operState}, ${link.mac}${ll})`;
}
