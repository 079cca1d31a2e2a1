/**
 * `ironlb lab up --mode bgp` as data (pure): the network (the router lab's LAN, router and client
 * network of routerTopology.ts, plus the control-plane namespace on the LAN), the IronLB
 * configuration the lab applies (BGP pools, one BGPPeer per family, a BGPAdvertisement), the
 * router's sessions, and the router's view as `lab status` prints it.
 */
import { CONTROL_PLANE_ADDRESSES, LAN_PREFIX_LENGTH_V4, LAN_PREFIX_LENGTH_V6 } from "./addressing.js";
import { IRONLB_NAMESPACE, type IronlbObject, type LabServiceSpec } from "./cluster.js";
import type { RouterNeighbor, RouterPath, RouterSettings } from "./routerDaemon.js";
import { BGP_CLIENT, NODE_ASN, ROUTER_ASN, ROUTER_LAN, routerLayout } from "./routerTopology.js";
import type { L2Layout, LabNode, LinkSpec, NamespaceSpec } from "./topology.js";

export const BGP_POOL_NAME = "lab-bgp";
export const BGP_POOL_ADDRESSES = ["198.51.100.0/24", "2001:db8:100::/120"] as const;
/** The demo Service asks for these (readable in a curl line; the pool's first IPv6 is `…100::`). */
export const BGP_DEMO_VIPS = ["198.51.100.10", "2001:db8:100::10"] as const;
export const BGP_PEER_NAMES = { ipv4: "router-v4", ipv6: "router-v6" } as const;
/** Short, so a node that dies is dropped from the ECMP route within seconds. */
export const BGP_LAB_HOLD_SECONDS = 9;

/** The BGP lab's layout: the Layer 2 lab's shape (so `Lab` drives both) plus the router. */
export interface BgpLabLayout extends L2Layout {
  readonly routerNetns: string;
  /** The client's address behind the router. */
  readonly clientAddresses: { readonly ipv4: string; readonly ipv6: string };
}

/** kube-proxy IPVS with strict ARP on the nodes, as in the Layer 2 lab (VIPs on lo stay silent). */
const STRICT_ARP = { "net.ipv4.conf.all.arp_ignore": "1", "net.ipv4.conf.all.arp_announce": "2" };

/**
 * The router hashes flows over the ECMP next hops by ports too (the kernel's default is addresses
 * only), so successive connections from the one client spread over the nodes as a router's would.
 */
const L4_ECMP_HASH = {
  "net.ipv4.fib_multipath_hash_policy": "1",
  "net.ipv6.fib_multipath_hash_policy": "1",
};

/**
 * routerLayout's network (switch with the LAN and client bridges, router, client behind it, nodes
 * routing through the router) with the control plane (etcd, API server, controller) on the LAN.
 */
export function bgpLabLayout(options: { readonly prefix?: string; readonly nodes: number }): BgpLabLayout {
  const base = routerLayout({ prefix: options.prefix ?? "ilb-", nodes: options.nodes });
  const [lan] = base.topology.bridges;
  if (lan === undefined) throw new Error("routerLayout has no LAN bridge");
  const controlPlaneNetns = `${base.prefix}cp`;
  const controlPlane: NamespaceSpec = {
    name: controlPlaneNetns,
    role: "control-plane",
    sysctls: { "net.ipv6.conf.all.accept_dad": "0", "net.ipv6.conf.default.accept_dad": "0" },
  };
  const controlPlaneLink: LinkSpec = {
    netns: controlPlaneNetns,
    ifname: "ilb-eth0",
    mac: CONTROL_PLANE_ADDRESSES.mac,
    addresses: [
      `${CONTROL_PLANE_ADDRESSES.ipv4}/${String(LAN_PREFIX_LENGTH_V4)}`,
      `${CONTROL_PLANE_ADDRESSES.ipv6}/${String(LAN_PREFIX_LENGTH_V6)}`,
    ],
    bridge: lan,
    port: "ilb-cp",
  };
  const namespaces = base.topology.namespaces.map((ns) =>
    ns.role === "node"
      ? { ...ns, sysctls: { ...ns.sysctls, ...STRICT_ARP } }
      : ns.role === "router"
        ? { ...ns, sysctls: { ...ns.sysctls, ...L4_ECMP_HASH } }
        : ns,
  );
  return {
    prefix: base.prefix,
    switchNetns: base.switchNetns,
    bridge: lan,
    controlPlaneNetns,
    clientNetns: base.clientNetns,
    clientIfname: "ilb-eth0",
    nodes: base.nodes,
    routerNetns: base.routerNetns,
    clientAddresses: BGP_CLIENT,
    topology: {
      ...base.topology,
      namespaces: [...namespaces, controlPlane],
      links: [...base.topology.links, controlPlaneLink],
    },
  };
}

const ironlbObject = (kind: string, name: string, spec: Record<string, unknown>): IronlbObject => ({
  apiVersion: "ironlb.io/v1beta1",
  kind,
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- client-node's V1ObjectMeta is plain data
  metadata: { name, namespace: IRONLB_NAMESPACE },
  spec,
});

/**
 * The lab's IronLB configuration: the BGP pools, eBGP sessions to the router over IPv4 and IPv6
 * (graceful restart on: a restarted speaker keeps its routes at BIRD), one advertisement.
 */
export function bgpLabObjects(): IronlbObject[] {
  const peer = (address: string): Record<string, unknown> => ({
    myASN: NODE_ASN,
    peerASN: ROUTER_ASN,
    peerAddress: address,
    holdTime: `${String(BGP_LAB_HOLD_SECONDS)}s`,
    keepaliveTime: "3s",
    connectTime: "2s",
    enableGracefulRestart: true,
  });
  return [
    ironlbObject("IPAddressPool", BGP_POOL_NAME, { addresses: [...BGP_POOL_ADDRESSES], avoidBuggyIPs: true }),
    ironlbObject("BGPPeer", BGP_PEER_NAMES.ipv4, peer(ROUTER_LAN.ipv4)),
    ironlbObject("BGPPeer", BGP_PEER_NAMES.ipv6, peer(ROUTER_LAN.ipv6)),
    ironlbObject("BGPAdvertisement", BGP_POOL_NAME, {
      ipAddressPools: [BGP_POOL_NAME],
      communities: [`${String(NODE_ASN)}:100`],
    }),
  ];
}

/** The dual-stack demo Service, asking the BGP pool for the lab's fixed VIPs. */
export function bgpDemoService(name: string, namespace: string): LabServiceSpec {
  return {
    name,
    namespace,
    annotations: {
      "ironlb.io/address-pool": BGP_POOL_NAME,
      "ironlb.io/loadBalancerIPs": BGP_DEMO_VIPS.join(","),
    },
  };
}

/** The router's sessions with one node: eBGP over IPv4 and over IPv6, no password. */
export const bgpLabNeighbors = (node: LabNode): RouterNeighbor[] => [
  { address: node.ipv4, asn: NODE_ASN },
  { address: node.ipv6, asn: NODE_ASN },
];

/** BIRD's settings for the lab (its files in `dir`). */
export function bgpRouterSettings(layout: BgpLabLayout, dir: string): RouterSettings {
  return {
    netns: layout.routerNetns,
    dir,
    asn: ROUTER_ASN,
    routerId: ROUTER_LAN.ipv4,
    localIPv4: ROUTER_LAN.ipv4,
    localIPv6: ROUTER_LAN.ipv6,
    neighbors: layout.nodes.flatMap(bgpLabNeighbors),
    holdTimeSeconds: BGP_LAB_HOLD_SECONDS,
  };
}

/** The host route of a VIP, as the router holds it. */
export const hostPrefix = (ip: string): string => `${ip}/${ip.includes(":") ? "128" : "32"}`;

/** One prefix at the router: the next hops BGP offers (one per node path) and those in the kernel FIB. */
export interface RouterRoute {
  readonly prefix: string;
  /** Next hops of the BGP paths BIRD holds, sorted. */
  readonly nextHops: readonly string[];
  /** Next hops of the kernel route (ECMP when more than one), sorted; undefined when not read. */
  readonly fibNextHops?: readonly string[];
}

export interface RouterView {
  readonly netns: string;
  readonly daemon: string;
  readonly sessions: number;
  readonly established: number;
  readonly routes: readonly RouterRoute[];
  /** Why the router could not be asked. */
  readonly error?: string;
}

/** Paths grouped by prefix (IPv4 first, then by address text), with their next hops. */
export function routesFromPaths(
  paths: readonly RouterPath[],
  fib: ReadonlyMap<string, readonly string[]> = new Map(),
): RouterRoute[] {
  const byPrefix = new Map<string, Set<string>>();
  for (const p of paths) {
    const hops = byPrefix.get(p.prefix) ?? new Set<string>();
    hops.add(p.nextHop);
    byPrefix.set(p.prefix, hops);
  }
  const v6 = (prefix: string): number => (prefix.includes(":") ? 1 : 0);
  return [...byPrefix]
    .sort(([a], [b]) => v6(a) - v6(b) || a.localeCompare(b, "en", { numeric: true }))
    .map(([prefix, hops]) => {
      const kernel = fib.get(prefix);
      return {
        prefix,
        nextHops: [...hops].sort(),
        ...(kernel === undefined ? {} : { fibNextHops: [...kernel].sort() }),
      };
    });
}

/** `lab status` lines for the router's view. */
export function renderRouterView(view: RouterView): string[] {
  const head = `router ${view.netns} (${view.daemon}, AS ${String(ROUTER_ASN)})`;
  if (view.error !== undefined) return [`${head}: not reachable (${view.error})`];
  const lines = [`${head}: ${String(view.established)} of ${String(view.sessions)} BGP sessions Established`];
  if (view.routes.length === 0) lines.push("  no routes from the nodes");
  const width = Math.max(0, ...view.routes.map((r) => r.prefix.length));
  for (const route of view.routes) {
    const kernel =
      route.fibNextHops === undefined
        ? ""
        : route.fibNextHops.length === 0
          ? "; kernel: none"
          : route.fibNextHops.length === 1
            ? "; kernel: 1 next hop"
            : `; kernel: ECMP over ${String(route.fibNextHops.length)}`;
    lines.push(`  ${route.prefix.padEnd(width)}  via ${route.nextHops.join(", ")}${kernel}`);
  }
  return lines;
}
