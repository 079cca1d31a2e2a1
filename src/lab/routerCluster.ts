/**
 * The objects a BGP lab node's speaker reads (pure): the IronLB configuration as a user writes it
 * (pools, BGPPeers, BGPAdvertisements, Community aliases, the password Secret) and the cluster
 * state the controller and kube-proxy would leave (Nodes with addresses, Services with their
 * LoadBalancer IPs, EndpointSlices placing backends on nodes).
 */
import { IRONLB_API_VERSION } from "../api/schema/common.js";
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
