/**
 * The objects a BGP lab node's speaker reads (pure): the IronLB configuration as a user writes it
 * (pools, BGPPeers, BGPAdvertisements, Community aliases, the password Secret) and the cluster
 * state the controller and kube-proxy would leave (Nodes with addresses, Services with their
 * LoadBalancer IPs, EndpointSlices placing backends on nodes).
 */
import { IRONLB_API_VERSION } from "../api/schema/common.js";
import type { RouterNeighbor } from "./routerDaemon.js";
import { NODE_ASN, ROUTER_ASN, ROUTER_LAN } from "./routerTopology.js";
import type { LabNode } from "./topology.js";

export const LAB_NAMESPACE = "ironlb-system";

const meta = (name: string, namespace = LAB_NAMESPACE, labels?: Record<string, string>) => ({
  name,
  namespace,
  ...(labels === undefined ? {} : { labels }),
});

export const ironlb = (kind: string, name: string, spec: Record<string, unknown>) => ({
  apiVersion: IRONLB_API_VERSION,
  kind,
  metadata: meta(name),
  spec,
});

export function basicAuthSecret(name: string, password: string) {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: meta(name),
    type: "kubernetes.io/basic-auth",
    data: {
      username: Buffer.from("ironlb").toString("base64"),
      password: Buffer.from(password).toString("base64"),
    },
  };
}

export function nodeObject(node: LabNode, labels: Record<string, string> = {}) {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: node.nodeName, labels: { "kubernetes.io/hostname": node.nodeName, ...labels } },
    status: {
      addresses: [
        { type: "InternalIP", address: node.ipv4 },
        { type: "InternalIP", address: node.ipv6 },
        { type: "Hostname", address: node.nodeName },
      ],
    },
  };
}

export interface LabService {
  readonly name: string;
  readonly ips: readonly string[];
  readonly policy: "Cluster" | "Local";
  /** Nodes with one ready backend each. */
  readonly endpointNodes: readonly string[];
}

/** A LoadBalancer Service with its ingress IPs and one EndpointSlice per family. */
export function serviceObjects(s: LabService): unknown[] {
  const service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: s.name, namespace: "default" },
    spec: {
      type: "LoadBalancer",
      externalTrafficPolicy: s.policy,
      ipFamilyPolicy: "PreferDualStack",
      ports: [{ port: 80, protocol: "TCP" }],
    },
    status: { loadBalancer: { ingress: s.ips.map((ip) => ({ ip })) } },
  };
  const slice = (family: "IPv4" | "IPv6") => ({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: `${s.name}-${family.toLowerCase()}`,
      namespace: "default",
      labels: { "kubernetes.io/service-name": s.name },
    },
    addressType: family,
    endpoints: s.endpointNodes.map((node, i) => ({
      addresses: [family === "IPv4" ? `10.244.${String(i)}.10` : `fd00:10:244:${String(i)}::10`],
      nodeName: node,
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: {
        kind: "Pod",
        namespace: "default",
        name: `${s.name}-${String(i)}`,
        uid: `${s.name}-uid-${String(i)}`,
      },
    })),
  });
  return [service, slice("IPv4"), slice("IPv6")];
}

export const V4_PASSWORD = "s3cret-v4";
export const V6_PASSWORD = "s3cret-v6";
export const HOLD_SECONDS = 6;

/** The router's two sessions with a node: IPv4 eBGP and IPv6 iBGP, both with TCP-MD5. */
export function routerNeighbors(node: LabNode, md5 = true): RouterNeighbor[] {
  return [
    { address: node.ipv4, asn: NODE_ASN, ...(md5 ? { password: V4_PASSWORD } : {}) },
    { address: node.ipv6, asn: ROUTER_ASN, ...(md5 ? { password: V6_PASSWORD } : {}) },
  ];
}

export const WEB: LabService = {
  name: "web",
  ips: ["198.51.100.7", "2001:db8:100::7"],
  policy: "Cluster",
  endpointNodes: ["ilb-node1"],
};
export const LOCAL: LabService = {
  name: "local",
  ips: ["198.51.100.8", "2001:db8:100::8"],
  policy: "Local",
  endpointNodes: ["ilb-node1", "ilb-node3"],
};
export const AGG: LabService = {
  name: "agg",
  ips: ["198.51.100.66", "2001:db8:100::42"],
  policy: "Cluster",
  endpointNodes: ["ilb-node2"],
};

export interface ClusterOptions {
  readonly gracefulRestart?: boolean;
  /** The password in the Secret the IPv4 peer names (the router expects V4_PASSWORD). */
  readonly v4Password?: string;
  readonly md5?: boolean;
  readonly services?: readonly LabService[];
}

/**
 * The lab's objects: two pools (per-address and aggregated), BGPPeers for both families (IPv4
 * with its password in a basic-auth Secret, IPv6 iBGP with dynamicASN and an inline password),
 * advertisements with LOCAL_PREF, a standard community, an alias and a large community.
 */
export function routerLabCluster(nodes: readonly LabNode[], o: ClusterOptions = {}): unknown[] {
  const md5 = o.md5 ?? true;
  const timers = { holdTime: `${String(HOLD_SECONDS)}s`, keepaliveTime: "2s", connectTime: "2s" };
  const gr = { enableGracefulRestart: o.gracefulRestart ?? false };
  return [
    ironlb("IPAddressPool", "web", { addresses: ["198.51.100.0/26", "2001:db8:100::/122"] }),
    ironlb("IPAddressPool", "agg", { addresses: ["198.51.100.64/28", "2001:db8:100::40/124"] }),
    ironlb("Community", "aliases", { communities: [{ name: "lab-tag", value: "64512:200" }] }),
    ironlb("BGPPeer", "router-v4", {
      myASN: NODE_ASN,
      peerASN: ROUTER_ASN,
      peerAddress: ROUTER_LAN.ipv4,
      ...timers,
      ...gr,
      ...(md5 ? { passwordSecret: { name: "bgp-auth" } } : {}),
    }),
    ironlb("BGPPeer", "router-v6", {
      myASN: ROUTER_ASN,
      dynamicASN: "internal",
      peerAddress: ROUTER_LAN.ipv6,
      ...timers,
      ...gr,
      ...(md5 ? { password: V6_PASSWORD } : {}),
    }),
    ironlb("BGPAdvertisement", "web", {
      ipAddressPools: ["web"],
      localPref: 150,
      communities: ["64512:100", "lab-tag", "large:64512:1:2"],
    }),
    ironlb("BGPAdvertisement", "agg", {
      ipAddressPools: ["agg"],
      aggregationLength: 28,
      aggregationLengthV6: 124,
    }),
    basicAuthSecret("bgp-auth", o.v4Password ?? V4_PASSWORD),
    ...nodes.map((n) => nodeObject(n)),
    ...(o.services ?? [WEB, LOCAL, AGG]).flatMap(serviceObjects),
  ];
}
