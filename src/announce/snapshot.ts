/**
 * The desired state the announcement core decides on, independent of where it came from: the
 * Kubernetes adapter (kubernetes.ts) builds it from informer caches, a test or a YAML file can
 * build it by hand. Everything here is plain data; nothing in the core reads a clock or a socket.
 */
import type { IronLBConfig } from "../api/configTypes.js";
import type { Labels } from "../api/labelSelector.js";

export type ExternalTrafficPolicy = "Cluster" | "Local";

/**
 * Endpoints of one Service on one node, as EndpointSlices report them. `ready`: able to take new
 * traffic (ready and not terminating). `serving`: able to take traffic regardless of terminating,
 * so `serving >= ready`; a terminating endpoint that still serves counts only here.
 */
export interface EndpointCounts {
  readonly ready: number;
  readonly serving: number;
}

export interface ServiceEndpoints {
  /** Endpoints on named nodes, by node name (nodes without endpoints may be absent). */
  readonly byNode: ReadonlyMap<string, EndpointCounts>;
  /** Endpoints that name no node (external or unscheduled backends): they count for Cluster only. */
  readonly withoutNode: EndpointCounts;
}

export interface ServiceSnapshot {
  /** "namespace/name": unique within a snapshot. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  /** spec.type as written ("LoadBalancer", "ClusterIP", …). */
  readonly type: string;
  /** Whether the Service's loadBalancerClass is the one this IronLB serves. */
  readonly ours: boolean;
  /** status.loadBalancer.ingress IPs in canonical text, in status order (the first one is hashed). */
  readonly ips: readonly string[];
  /** The `ironlb.io/ip-allocated-from-pool` annotation; the core falls back to the pool holding the IP. */
  readonly allocatedFromPool?: string | undefined;
  readonly externalTrafficPolicy: ExternalTrafficPolicy;
  readonly endpoints: ServiceEndpoints;
}

export interface NodeSnapshot {
  /** Unique within a snapshot. */
  readonly name: string;
  readonly labels: Labels;
  /** The node's NetworkUnavailable condition is True. */
  readonly networkUnavailable: boolean;
}

export interface AnnouncementSnapshot {
  readonly config: IronLBConfig;
  readonly services: readonly ServiceSnapshot[];
  readonly nodes: readonly NodeSnapshot[];
  /** Nodes whose speaker is alive (Leases today, membership later). */
  readonly liveSpeakers: ReadonlySet<string>;
}

/** Nodes carrying this label (any value) never announce, as kube-controller-manager's service controller does. */
export const EXCLUDE_FROM_LB_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";

export const NO_ENDPOINTS: ServiceEndpoints = { byNode: new Map(), withoutNode: { ready: 0, serving: 0 } };

export type NodeExclusion = "excludeLabel" | "networkUnavailable";

/** Why a node may not announce anything, or undefined when it may. */
export function nodeExclusion(node: NodeSnapshot): NodeExclusion | undefined {
  if (Object.prototype.hasOwnProperty.call(node.labels, EXCLUDE_FROM_LB_LABEL)) return "excludeLabel";
  if (node.networkUnavailable) return "networkUnavailable";
  return undefined;
}
