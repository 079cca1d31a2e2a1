/**
 * This node's share of the Layer 2 decision, made concrete: which addresses to answer for on
 * which of this node's links (for the announcer), and per Service what it announces and where
 * (for the status objects, Events and metrics). Pure: the decision and the link snapshot in,
 * plain data out.
 */
import type { Layer2Decision } from "../announce/layer2.js";
import { parseIP, type IPAddr } from "../net/ip.js";
import type { AnnouncerLink, InterfaceAnnouncements } from "../l2/announcerPlan.js";
import {
  DEFAULT_EXCLUDED_PATTERNS,
  selectInterfaces,
  type InterfacePattern,
  type LinkInfo,
  type LinkSkipReason,
} from "../l2/interfaces.js";

/** One Service this node announces (some or all of its addresses). */
export interface AnnouncedService {
  /** "namespace/name" */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  /** Addresses of the Service this node answers for (won and with a working link), in the Service's order. */
  readonly ips: readonly string[];
  /** Links the Service's addresses are answered on, sorted. */
  readonly interfaces: readonly string[];
}

export interface NodePlan {
  /** For Announcer.apply(), in ifindex order. */
  readonly interfaces: readonly InterfaceAnnouncements[];
  /** In key order. */
  readonly services: readonly AnnouncedService[];
  /** Addresses this node won but cannot answer for: none of the links they may use works. */
  readonly withoutLink: readonly { readonly ip: string; readonly skipped: readonly SkippedLink[] }[];
}

export interface SkippedLink {
  readonly name: string;
  readonly reason: LinkSkipReason;
}

export function announcerLink(link: LinkInfo): AnnouncerLink {
  return { name: link.name, ifindex: link.ifindex, mac: link.mac, linkLocal: link.linkLocal };
}

const splitKey = (key: string): { namespace: string; name: string } => {
  const slash = key.indexOf("/");
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
};

export function planNode(
  decision: Layer2Decision,
  node: string,
  links: readonly LinkInfo[],
  excluded: readonly InterfacePattern[] = DEFAULT_EXCLUDED_PATTERNS,
): NodePlan {
  // The same interface list (usually "all") is selected once.
  const selections = new Map<string, ReturnType<typeof selectInterfaces>>();
  const select = (named: readonly string[]): ReturnType<typeof selectInterfaces> => {
    const key = named.join("\u0000");
    let selection = selections.get(key);
    if (selection === undefined) selections.set(key, (selection = selectInterfaces(links, named, excluded)));
    return selection;
  };

  const byLink = new Map<string, { link: LinkInfo; ips: IPAddr[] }>();
  const linksOfIP = new Map<string, string[]>();
  const withoutLink: { ip: string; skipped: SkippedLink[] }[] = [];
  for (const announcement of decision.byNode.get(node) ?? []) {
    const selection = select(announcement.interfaces);
    if (selection.selected.length === 0) {
      const skipped = selection.skipped.filter((s) => s.reason !== "not-named");
      withoutLink.push({ ip: announcement.ip, skipped });
      continue;
    }
    const ip = parseIP(announcement.ip);
    for (const link of selection.selected) {
      let entry = byLink.get(link.name);
      if (entry === undefined) byLink.set(link.name, (entry = { link, ips: [] }));
      entry.ips.push(ip);
    }
    linksOfIP.set(
      announcement.ip,
      selection.selected.map((l) => l.name),
    );
  }

  const services: AnnouncedService[] = [];
  for (const result of decision.services.values()) {
    if (!result.considered) continue;
    const ips = result.addresses
      .filter((a) => a.kind === "announced" && a.node === node && linksOfIP.has(a.ip))
      .map((a) => a.ip);
    if (ips.length === 0) continue;
    const interfaces = [...new Set(ips.flatMap((ip) => linksOfIP.get(ip) ?? []))].sort();
    services.push({ key: result.key, ...splitKey(result.key), ips, interfaces });
  }
  services.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  const interfaces = [...byLink.values()]
    .sort((a, b) => a.link.ifindex - b.link.ifindex)
    .map(({ link, ips }) => ({ link: announcerLink(link), ips }));
  return { interfaces, services, withoutLink };
}
