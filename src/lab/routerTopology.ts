/**
 * The BGP lab's network as data (pure): a switch namespace with two bridges, the node LAN
 * (192.0.2.0/24, 2001:db8:1::/64) and the client network (203.0.113.0/24, 2001:db8:2::/64); a
 * router namespace on both, forwarding between them; N node namespaces on the LAN whose default
 * routes point at the router (so replies to the client go back through it); and a client behind
 * the router. Built and removed by netns.ts like the Layer 2 lab.
 */
import { nodeAddressing, validateNodeCount } from "./addressing.js";
import {
  NODE_IFNAME,
  validatePrefix,
  type BridgeSpec,
  type LabNode,
  type LinkSpec,
  type NamespaceSpec,
  type RouteSpec,
  type TopologySpec,
} from "./topology.js";

export const ROUTER_LAN = { ipv4: "192.0.2.1", ipv6: "2001:db8:1::1" } as const;
export const ROUTER_CLIENT_SIDE = { ipv4: "203.0.113.1", ipv6: "2001:db8:2::1" } as const;
export const BGP_CLIENT = { ipv4: "203.0.113.10", ipv6: "2001:db8:2::10" } as const;

/** The router's AS and the nodes' AS in the lab's eBGP sessions (private ASNs, RFC 6996). */
export const ROUTER_ASN = 64500;
export const NODE_ASN = 64512;

export interface RouterLayout {
  readonly prefix: string;
  readonly switchNetns: string;
  readonly routerNetns: string;
  /** The router's LAN and client-side links. */
  readonly routerLanIfname: string;
  readonly routerClientIfname: string;
  readonly clientNetns: string;
  readonly nodes: readonly LabNode[];
  readonly topology: TopologySpec;
}

const BASE: Readonly<Record<string, string>> = {
  "net.ipv6.conf.all.accept_dad": "0",
  "net.ipv6.conf.default.accept_dad": "0",
};

export function routerLayout(options: { readonly prefix: string; readonly nodes: number }): RouterLayout {
  const prefix = validatePrefix(options.prefix);
  const count = validateNodeCount(options.nodes);
  const switchNetns = `${prefix}sw`;
  const routerNetns = `${prefix}router`;
  const clientNetns = `${prefix}client`;
  const lan: BridgeSpec = { netns: switchNetns, name: "ilb-br0" };
  const clientNet: BridgeSpec = { netns: switchNetns, name: "ilb-br1" };
  const nodes: LabNode[] = [];
  for (let index = 1; index <= count; index++) {
    nodes.push({
      ...nodeAddressing(index),
      netns: `${prefix}node${index}`,
      ifname: NODE_IFNAME,
      port: `ilb-node${index}-0`,
    });
  }
  const namespaces: NamespaceSpec[] = [
    {
      name: switchNetns,
      role: "switch",
      sysctls: { "net.ipv6.conf.all.disable_ipv6": "1", "net.ipv6.conf.default.disable_ipv6": "1" },
    },
    {
      name: routerNetns,
      role: "router",
      sysctls: { ...BASE, "net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "1" },
    },
    { name: clientNetns, role: "client", sysctls: BASE },
    ...nodes.map((n): NamespaceSpec => ({ name: n.netns, role: "node", sysctls: BASE })),
  ];
  const links: LinkSpec[] = [
    {
      netns: routerNetns,
      ifname: "ilb-eth0",
      mac: "00:00:5e:00:53:01",
      addresses: [`${ROUTER_LAN.ipv4}/24`, `${ROUTER_LAN.ipv6}/64`],
      bridge: lan,
      port: "ilb-router-0",
    },
    {
      netns: routerNetns,
      ifname: "ilb-eth1",
      mac: "00:00:5e:00:53:a1",
      addresses: [`${ROUTER_CLIENT_SIDE.ipv4}/24`, `${ROUTER_CLIENT_SIDE.ipv6}/64`],
      bridge: clientNet,
      port: "ilb-router-1",
    },
    {
      netns: clientNetns,
      ifname: "ilb-eth0",
      mac: "00:00:5e:00:53:aa",
      addresses: [`${BGP_CLIENT.ipv4}/24`, `${BGP_CLIENT.ipv6}/64`],
      bridge: clientNet,
      port: "ilb-client",
    },
    ...nodes.map((n): LinkSpec => ({
      netns: n.netns,
      ifname: n.ifname,
      mac: n.mac,
      addresses: [`${n.ipv4}/24`, `${n.ipv6}/64`],
      bridge: lan,
      port: n.port,
    })),
  ];
  const routes: RouteSpec[] = [
    { netns: clientNetns, destination: "default", via: ROUTER_CLIENT_SIDE.ipv4 },
    { netns: clientNetns, destination: "::/0", via: ROUTER_CLIENT_SIDE.ipv6 },
    ...nodes.flatMap((n): RouteSpec[] => [
      { netns: n.netns, destination: "default", via: ROUTER_LAN.ipv4 },
      { netns: n.netns, destination: "::/0", via: ROUTER_LAN.ipv6 },
    ]),
  ];
  return {
    prefix,
    switchNetns,
    routerNetns,
    routerLanIfname: "ilb-eth0",
    routerClientIfname: "ilb-eth1",
    clientNetns,
    nodes,
    topology: { namespaces, bridges: [lan, clientNet], links, routes },
  };
}
