/**
 * What `ironlb status` and `ironlb doctor` read from a cluster, as plain listed objects, and the
 * model both build from them: the configuration (validated by the shared validateConfig), an
 * Allocator loaded with every existing assignment (as the controller loads them at start), and
 * the Layer 2 and BGP announcement decisions. Pure: the CLI lists, this decides.
 */
import type { V1EndpointSlice, V1Node, V1Service } from "@kubernetes/client-node";
import { validateConfig, type ConfigResult } from "../api/config.js";
import { decideBGP, type BGPDecision } from "../announce/bgp.js";
import { snapshotFromKubernetes } from "../announce/kubernetes.js";
import { decideLayer2, type Layer2Decision } from "../announce/layer2.js";
import { assembleConfig, type AssembledConfig } from "../controller/configSource.js";
import type { CustomObject, NamespaceObject, ServiceObject } from "../controller/objects.js";
import { interpretService, type ServiceIntent } from "../controller/serviceRequest.js";
import { ingressIPs } from "../controller/serviceState.js";
import { Allocator } from "../ipam/allocator.js";
import type { AllocationFailure } from "../ipam/reasons.js";
import type { SpeakerLease } from "../membership/lease.js";

/** A ConfigMap's parts the checks read. */
export interface ConfigMapObject {
  readonly metadata?: { readonly name?: string | undefined; readonly namespace?: string | undefined };
  readonly data?: Readonly<Record<string, string>> | undefined;
}

/** Everything listed from the cluster (one list call per resource). */
export interface ClusterObjects {
  readonly services: readonly V1Service[];
  readonly namespaces: readonly NamespaceObject[];
  /** ironlb.io configuration objects in IronLB's namespace. */
  readonly ironlbConfig: readonly CustomObject[];
  /** metallb.io configuration objects (any namespace); empty without MetalLB's CRDs. */
  readonly metallbConfig: readonly CustomObject[];
  readonly l2Statuses: readonly CustomObject[];
  readonly bgpStatuses: readonly CustomObject[];
  /** BGPSessionState objects in IronLB's namespace (one per node and BGPPeer). */
  readonly bgpSessions: readonly CustomObject[];
  readonly endpointSlices: readonly V1EndpointSlice[];
  readonly nodes: readonly V1Node[];
  /** Speaker Leases in IronLB's namespace. */
  readonly leases: readonly SpeakerLease[];
}

export interface ModelOptions {
  /** IronLB's namespace (its configuration, Leases and status objects). */
  readonly namespace: string;
  /** The loadBalancerClass IronLB serves; undefined: Services without a class. */
  readonly lbClass?: string | undefined;
  /** Wall clock (ms since the epoch), for Lease freshness. */
  readonly now: number;
}

/** One existing assignment the allocator refused to load (the controller would re-allocate it). */
export interface RejectedAssignment {
  readonly service: string;
  readonly ips: readonly string[];
  readonly reason: AllocationFailure;
}

export interface ClusterModel {
  readonly assembled: AssembledConfig;
  readonly validation: ConfigResult;
  /** Loaded with every assignment in Service status (empty when the configuration is invalid). */
  readonly allocator: Allocator;
  readonly rejected: readonly RejectedAssignment[];
  /** Per LoadBalancer Service key: whether it is IronLB's and its allocator request. */
  readonly intents: ReadonlyMap<string, ServiceIntent>;
  readonly services: ReadonlyMap<string, V1Service>;
  /** Nodes whose speaker Lease is fresh. */
  readonly liveSpeakers: ReadonlySet<string>;
  /** Undefined when the configuration is invalid. */
  readonly layer2: Layer2Decision | undefined;
  readonly bgp: BGPDecision | undefined;
}

export const serviceKeyOf = (svc: { readonly metadata?: { namespace?: string; name?: string } }): string =>
  `${svc.metadata?.namespace ?? ""}/${svc.metadata?.name ?? ""}`;

const timeMs = (t: Date | string | undefined): number => {
  if (t === undefined) return Number.NaN;
  return typeof t === "string" ? Date.parse(t) : t.getTime();
};

/**
 * Nodes whose speaker renewed its Lease within the Lease's duration. A CLI has no history of
 * observed renewals, so it trusts renewTime (skew between its clock and the nodes' is a risk the
 * doctor accepts; the evidence shows the renewTime).
 */
export function liveSpeakersFromLeases(leases: readonly SpeakerLease[], now: number): Set<string> {
  const live = new Set<string>();
  for (const lease of leases) {
    const node = lease.spec?.holderIdentity ?? "";
    const renewed = timeMs(lease.spec?.renewTime);
    const durationMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (node !== "" && !Number.isNaN(renewed) && renewed + durationMs >= now) live.add(node);
  }
  return live;
}

function creation(svc: V1Service): number {
  const t = timeMs(svc.metadata?.creationTimestamp);
  return Number.isNaN(t) ? 0 : t;
}

export function buildClusterModel(objects: ClusterObjects, options: ModelOptions): ClusterModel {
  const assembled = assembleConfig(
    { ironlb: objects.ironlbConfig, metallb: objects.metallbConfig },
    options.namespace,
  );
  const validation = validateConfig(assembled.input);
  const nsLabels = new Map(
    objects.namespaces.map((n) => [n.metadata?.name ?? "", n.metadata?.labels ?? {}] as const),
  );
  const services = new Map<string, V1Service>();
  const intents = new Map<string, ServiceIntent>();
  for (const svc of objects.services) {
    if (svc.spec?.type !== "LoadBalancer") continue;
    const key = serviceKeyOf(svc);
    services.set(key, svc);
    const service = svc as ServiceObject;
    intents.set(
      key,
      interpretService(service, nsLabels.get(svc.metadata?.namespace ?? "") ?? {}, {
        lbClass: options.lbClass,
      }),
    );
  }
  const allocator = new Allocator();
  const rejected: RejectedAssignment[] = [];
  if (validation.ok) {
    allocator.setPools(validation.config.pools);
    // As the controller does at start: oldest first, so the older of two claimants keeps an address.
    const holders = [...services.entries()]
      .filter(([key]) => intents.get(key)?.ours === true)
      .map(([key, svc]) => ({ key, svc, ips: ingressIPs(svc as ServiceObject) }))
      .filter((c) => c.ips.length > 0)
      .sort((a, b) => creation(a.svc) - creation(b.svc) || (a.key < b.key ? -1 : 1));
    for (const c of holders) {
      const intent = intents.get(c.key);
      if (intent?.ours !== true) continue;
      const result = allocator.assign(intent.request, c.ips);
      if (!result.ok) rejected.push({ service: c.key, ips: c.ips, reason: result.reason });
    }
  }
  const liveSpeakers = liveSpeakersFromLeases(objects.leases, options.now);
  let layer2: Layer2Decision | undefined;
  let bgp: BGPDecision | undefined;
  if (validation.ok) {
    const snapshot = snapshotFromKubernetes({
      config: validation.config,
      services: services.values(),
      endpointSlices: objects.endpointSlices,
      nodes: objects.nodes,
      liveSpeakers,
      lbClass: options.lbClass,
    });
    layer2 = decideLayer2(snapshot);
    bgp = decideBGP(snapshot);
  }
  return { assembled, validation, allocator, rejected, intents, services, liveSpeakers, layer2, bgp };
}
