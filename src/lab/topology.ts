/**
 * The lab's network as data: namespaces, bridges, veth links and routes, and the `ip` command
 * lines that build it. Pure: building and tearing down happen in netns.ts. Other modes (a BGP
 * router namespace, a client network behind it) add namespaces, bridges, links and routes to
 * the same spec, so the applier and teardown stay the same.
 */
import {
  CLIENT_ADDRESSES,
  CONTROL_PLANE_ADDRESSES,
  LAN_PREFIX_LENGTH_V4,
  LAN_PREFIX_LENGTH_V6,
  nodeAddressing,
  validateNodeCount,
  type NodeAddressing,
} from "./addressing.js";

export type NamespaceRole = "switch" | "control-plane" | "client" | "node" | "router";

export interface NamespaceSpec {
  readonly name: string;
  readonly role: NamespaceRole;
  /** Set right after the namespace is created, before any link exists (so links inherit `default`). */
  readonly sysctls: Readonly<Record<string, string>>;
}

export interface BridgeSpec {
  readonly netns: string;
  readonly name: string;
}

/** A veth pair: `ifname` inside `netns`, its peer `port` a port of `bridge` in the bridge's namespace. */
export interface LinkSpec {
  readonly netns: string;
  readonly ifname: string;
  readonly mac: string;
  /** CIDRs, e.g. 192.0.2.11/24. */
  readonly addresses: readonly string[];
  readonly bridge: BridgeSpec;
  /** The switch-side end (≤ 15 characters): what goes down when a node is cut off. */
  readonly port: string;
}

export interface RouteSpec {
  readonly netns: string;
  /** CIDR. */
  readonly destination: string;
  readonly via: string;
}

export interface TopologySpec {
  readonly namespaces: readonly NamespaceSpec[];
  readonly bridges: readonly BridgeSpec[];
  readonly links: readonly LinkSpec[];
  readonly routes: readonly RouteSpec[];
}

/** One step of building a topology: a command line and what it does, for error messages. */
export interface SetupStep {
  readonly what: string;
  readonly argv: readonly string[];
}

/** Where a lab node lives: its namespace, Kubernetes name, addresses and links. */
export interface LabNode extends NodeAddressing {
  readonly netns: string;
  /** The LAN link inside the node namespace. */
  readonly ifname: string;
  /** Its switch-side port. */
  readonly port: string;
  /** The second LAN link and its port, when the lab has them. */
  readonly second?: { readonly ifname: string; readonly port: string };
}

/** The Layer 2 lab's layout: who is where. */
export interface L2Layout {
  /** Namespace name prefix, "ilb-" for the CLI's lab; tests add their own tag. */
  readonly prefix: string;
  readonly switchNetns: string;
  readonly bridge: BridgeSpec;
  readonly controlPlaneNetns: string;
  readonly clientNetns: string;
  /** The client's LAN link (inside clientNetns). */
  readonly clientIfname: string;
  readonly nodes: readonly LabNode[];
  readonly topology: TopologySpec;
}

export interface L2LayoutOptions {
  /** Namespace name prefix; default "ilb-". Must start with "ilb-". */
  readonly prefix?: string;
  readonly nodes: number;
  /** Give every node a second link on the same LAN (ilb-eth1, no address), to test interface selection. */
  readonly secondLink?: boolean;
}

/** Inside every namespace: no DAD delays (addresses usable at once), no forwarding. */
const BASE_SYSCTLS: Readonly<Record<string, string>> = {
  "net.ipv6.conf.all.accept_dad": "0",
  "net.ipv6.conf.default.accept_dad": "0",
  "net.ipv4.ip_forward": "0",
  "net.ipv6.conf.all.forwarding": "0",
};

/**
 * kube-proxy in IPVS mode with strict ARP: Service IPs sit on a local interface and the kernel
 * answers ARP only for addresses on the interface the request came in on, so only the speaker
 * answers for VIPs. (IPv6 needs nothing: the kernel answers NS only for addresses on that link.)
 */
const NODE_SYSCTLS: Readonly<Record<string, string>> = {
  ...BASE_SYSCTLS,
  "net.ipv4.conf.all.arp_ignore": "1",
  "net.ipv4.conf.all.arp_announce": "2",
};

/** The switch has no addresses at all: no IPv6 link-local chatter from the bridge or its ports. */
const SWITCH_SYSCTLS: Readonly<Record<string, string>> = {
  "net.ipv6.conf.all.disable_ipv6": "1",
  "net.ipv6.conf.default.disable_ipv6": "1",
};

export const NODE_IFNAME = "ilb-eth0";
export const NODE_SECOND_IFNAME = "ilb-eth1";

const v4 = (address: string): string => `${address}/${LAN_PREFIX_LENGTH_V4}`;
const v6 = (address: string): string => `${address}/${LAN_PREFIX_LENGTH_V6}`;

export function validatePrefix(prefix: string): string {
  // Namespace names become file names under /run/netns; keep them tame.
  if (!/^ilb-[a-z0-9-]{0,40}$/.test(prefix)) {
    throw new RangeError(`lab prefix must match ilb-[a-z0-9-]*, got ${JSON.stringify(prefix)}`);
  }
  return prefix;
}

/**
 * The Layer 2 lab: a switch namespace with bridge ilb-br0; a control-plane namespace (192.0.2.10),
 * a client (192.0.2.2) and N nodes (192.0.2.11…) each on a veth to the bridge. One flat LAN, no
 * routes anywhere else: the API server is reached over the same LAN the VIPs live on, so cutting a
 * node's port makes it a dead node for Kubernetes too.
 */
export function l2Layout(options: L2LayoutOptions): L2Layout {
  const prefix = validatePrefix(options.prefix ?? "ilb-");
  const count = validateNodeCount(options.nodes);
  const switchNetns = `${prefix}switch`;
  const bridge: BridgeSpec = { netns: switchNetns, name: "ilb-br0" };
  const controlPlaneNetns = `${prefix}cp`;
  const clientNetns = `${prefix}client`;
  const clientIfname = "ilb-eth0";

  const nodes: LabNode[] = [];
  for (let index = 1; index <= count; index++) {
    const addressing = nodeAddressing(index);
    const node: LabNode = {
      ...addressing,
      netns: `${prefix}node${index}`,
      ifname: NODE_IFNAME,
      port: `ilb-node${index}-0`,
      ...(options.secondLink === true
        ? { second: { ifname: NODE_SECOND_IFNAME, port: `ilb-node${index}-1` } }
        : {}),
    };
    nodes.push(node);
  }

  const namespaces: NamespaceSpec[] = [
    { name: switchNetns, role: "switch", sysctls: SWITCH_SYSCTLS },
    { name: controlPlaneNetns, role: "control-plane", sysctls: BASE_SYSCTLS },
    { name: clientNetns, role: "client", sysctls: BASE_SYSCTLS },
    ...nodes.map((node): NamespaceSpec => ({ name: node.netns, role: "node", sysctls: NODE_SYSCTLS })),
  ];
  const links: LinkSpec[] = [
    {
      netns: controlPlaneNetns,
      ifname: "ilb-eth0",
      mac: CONTROL_PLANE_ADDRESSES.mac,
      addresses: [v4(CONTROL_PLANE_ADDRESSES.ipv4), v6(CONTROL_PLANE_ADDRESSES.ipv6)],
      bridge,
      port: "ilb-cp",
    },
    {
      netns: clientNetns,
      ifname: clientIfname,
      mac: CLIENT_ADDRESSES.mac,
      addresses: [v4(CLIENT_ADDRESSES.ipv4), v6(CLIENT_ADDRESSES.ipv6)],
      bridge,
      port: "ilb-client",
    },
  ];
  for (const node of nodes) {
    links.push({
      netns: node.netns,
      ifname: node.ifname,
      mac: node.mac,
      addresses: [v4(node.ipv4), v6(node.ipv6)],
      bridge,
      port: node.port,
    });
    if (node.second !== undefined) {
      links.push({
        netns: node.netns,
        ifname: node.second.ifname,
        mac: node.secondMac,
        addresses: [],
        bridge,
        port: node.second.port,
      });
    }
  }
  return {
    prefix,
    switchNetns,
    bridge,
    controlPlaneNetns,
    clientNetns,
    clientIfname,
    nodes,
    topology: { namespaces, bridges: [bridge], links, routes: [] },
  };
}

const sysctlArgs = (sysctls: Readonly<Record<string, string>>): string[] =>
  Object.entries(sysctls).map(([key, value]) => `${key}=${value}`);

/** The command lines that build `spec` from nothing, in order. */
export function setupSteps(spec: TopologySpec): SetupStep[] {
  const steps: SetupStep[] = [];
  for (const ns of spec.namespaces) {
    steps.push({ what: `create namespace ${ns.name}`, argv: ["ip", "netns", "add", ns.name] });
    steps.push({ what: `lo up in ${ns.name}`, argv: ["ip", "-n", ns.name, "link", "set", "lo", "up"] });
    const settings = sysctlArgs(ns.sysctls);
    if (settings.length > 0) {
      steps.push({
        what: `sysctls of ${ns.name}`,
        argv: ["ip", "netns", "exec", ns.name, "sysctl", "-q", "-w", ...settings],
      });
    }
  }
  for (const bridge of spec.bridges) {
    steps.push({
      what: `bridge ${bridge.name} in ${bridge.netns}`,
      // A plain learning switch: no spanning tree delay, no multicast snooping deciding for us
      // where solicited-node multicast goes.
      argv: ["ip", "-n", bridge.netns, "link", "add", bridge.name, "type", "bridge"].concat([
        "stp_state",
        "0",
        "forward_delay",
        "0",
        "mcast_snooping",
        "0",
      ]),
    });
    steps.push({
      what: `bridge ${bridge.name} up`,
      argv: ["ip", "-n", bridge.netns, "link", "set", bridge.name, "up"],
    });
  }
  for (const link of spec.links) {
    steps.push({
      what: `veth ${link.netns}/${link.ifname} to ${link.bridge.netns}/${link.port}`,
      argv: ["ip", "-n", link.netns, "link", "add", link.ifname, "address", link.mac, "type", "veth"].concat([
        "peer",
        "name",
        link.port,
        "netns",
        link.bridge.netns,
      ]),
    });
    steps.push({
      what: `${link.port} into ${link.bridge.name}`,
      argv: ["ip", "-n", link.bridge.netns, "link", "set", link.port, "master", link.bridge.name, "up"],
    });
    for (const address of link.addresses) {
      const extra = address.includes(":") ? ["nodad"] : [];
      steps.push({
        what: `address ${address} on ${link.netns}/${link.ifname}`,
        argv: ["ip", "-n", link.netns, "addr", "add", address, "dev", link.ifname, ...extra],
      });
    }
    steps.push({
      what: `${link.netns}/${link.ifname} up`,
      argv: ["ip", "-n", link.netns, "link", "set", link.ifname, "up"],
    });
  }
  for (const route of spec.routes) {
    steps.push({
      what: `route ${route.destination} via ${route.via} in ${route.netns}`,
      argv: ["ip", "-n", route.netns, "route", "add", route.destination, "via", route.via],
    });
  }
  return steps;
}

/** Namespaces to delete, nodes first and the switch last (deleting a namespace removes its links). */
export function teardownOrder(spec: TopologySpec): string[] {
  const rank = (role: NamespaceRole): number => (role === "switch" ? 1 : 0);
  return [...spec.namespaces].sort((a, b) => rank(a.role) - rank(b.role)).map((ns) => ns.name);
}
