/**
 * From Kubernetes objects (as client-node's informers deliver them) to the announcement snapshot.
 * The speaker's informer side stays thin: it hands its caches here and the core never sees a
 * Kubernetes type. Another source (a YAML file, a test) builds the snapshot directly.
 */
import type { V1EndpointSlice, V1Node, V1Service } from "@kubernetes/client-node";
import type { IronLBConfig } from "../api/configTypes.js";
import { formatIP, tryParseIP } from "../net/ip.js";
import type { AnnouncementSnapshot, NodeSnapshot, ServiceEndpoints, ServiceSnapshot } from "./snapshot.js";

/** The pool annotation the controller writes; MetalLB's spellings are honoured after IronLB's. */
export const ALLOCATED_FROM_POOL_ANNOTATIONS = [
  "ironlb.io/ip-allocated-from-pool",
  "metallb.io/ip-allocated-from-pool",
  "metallb.universe.tf/ip-allocated-from-pool",
] as const;

/** The label EndpointSlices carry naming their Service. */
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

export interface ServiceClassOptions {
  /** The loadBalancerClass this IronLB serves; undefined: Services without a class. */
  readonly lbClass?: string | undefined;
}

export interface KubernetesSources extends ServiceClassOptions {
  readonly config: IronLBConfig;
  readonly services: Iterable<V1Service>;
  readonly endpointSlices: Iterable<V1EndpointSlice>;
  readonly nodes: Iterable<V1Node>;
  readonly liveSpeakers: Iterable<string>;
}

export function snapshotFromKubernetes(sources: KubernetesSources): AnnouncementSnapshot {
  const slicesByService = new Map<string, V1EndpointSlice[]>();
  for (const slice of sources.endpointSlices) {
    const name = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (name === undefined || name === "") continue;
    const key = `${slice.metadata?.namespace ?? ""}/${name}`;
    let list = slicesByService.get(key);
    if (list === undefined) slicesByService.set(key, (list = []));
    list.push(slice);
  }
  const services = [...sources.services].map((svc) =>
    serviceSnapshot(svc, slicesByService.get(serviceKey(svc)) ?? [], sources),
  );
  return {
    config: sources.config,
    services,
    nodes: [...sources.nodes].map(nodeSnapshot),
    liveSpeakers: new Set(sources.liveSpeakers),
  };
}

function serviceKey(svc: V1Service): string {
  return `${svc.metadata?.namespace ?? ""}/${svc.metadata?.name ?? ""}`;
}

/** A Service and the EndpointSlices labelled with its name (the caller selects them). */
export function serviceSnapshot(
  svc: V1Service,
  slices: readonly V1EndpointSlice[],
  options: ServiceClassOptions,
): ServiceSnapshot {
  const meta = svc.metadata;
  const spec = svc.spec;
  const cls = spec?.loadBalancerClass === "" ? undefined : spec?.loadBalancerClass;
  const annotations = meta?.annotations ?? {};
  const pool = ALLOCATED_FROM_POOL_ANNOTATIONS.map((a) => annotations[a]?.trim()).find(
    (v) => v !== undefined && v !== "",
  );
  return {
    key: serviceKey(svc),
    namespace: meta?.namespace ?? "",
    name: meta?.name ?? "",
    labels: meta?.labels ?? {},
    type: spec?.type ?? "ClusterIP",
    ours: cls === options.lbClass,
    ips: ingressIPs(svc),
    ...(pool === undefined ? {} : { allocatedFromPool: pool }),
    externalTrafficPolicy: spec?.externalTrafficPolicy === "Local" ? "Local" : "Cluster",
    endpoints: endpointsFromSlices(slices),
  };
}

/** status.loadBalancer.ingress IPs, canonical where they parse (the core reports the rest). */
function ingressIPs(svc: V1Service): string[] {
  const out: string[] = [];
  for (const ingress of svc.status?.loadBalancer?.ingress ?? []) {
    const text = ingress.ip?.trim();
    if (text === undefined || text === "") continue;
    const addr = tryParseIP(text);
    out.push(addr === undefined ? text : formatIP(addr));
  }
  return out;
}

interface EndpointState {
  ready: boolean;
  serving: boolean;
}

/**
 * Per-node ready/serving counts. EndpointSlice semantics: `ready` unset means ready, `serving`
 * unset defers to `ready`, and a terminating endpoint is never ready (it may still be serving).
 * One backend may appear in several slices (one per address family, or twice while a slice is
 * being split): it is counted once, by its target object, ready if any copy says so.
 */
export function endpointsFromSlices(slices: readonly V1EndpointSlice[]): ServiceEndpoints {
  const backends = new Map<string, { node: string | undefined; state: EndpointState }>();
  for (const slice of slices) {
    // A slice with no endpoints arrives with `endpoints` absent (null on the wire), whatever the
    // client's type says: one such slice must not break the whole snapshot.
    const endpoints = (slice.endpoints as V1EndpointSlice["endpoints"] | null | undefined) ?? [];
    for (const ep of endpoints) {
      const c = ep.conditions;
      const terminating = c?.terminating ?? false;
      const ready = (c?.ready ?? true) && !terminating;
      const serving = ready || (c?.serving ?? c?.ready ?? true);
      const id =
        ep.targetRef?.uid ??
        `${slice.addressType}/${[...((ep.addresses as string[] | null | undefined) ?? [])].sort().join(",")}@${ep.nodeName ?? ""}`;
      const seen = backends.get(id);
      if (seen === undefined) backends.set(id, { node: ep.nodeName, state: { ready, serving } });
      else {
        seen.state.ready ||= ready;
        seen.state.serving ||= serving;
      }
    }
  }
  const byNode = new Map<string, { ready: number; serving: number }>();
  const withoutNode = { ready: 0, serving: 0 };
  for (const { node, state } of backends.values()) {
    let counts: { ready: number; serving: number } | undefined = withoutNode;
    if (node !== undefined && node !== "") {
      counts = byNode.get(node);
      if (counts === undefined) byNode.set(node, (counts = { ready: 0, serving: 0 }));
    }
    if (state.ready) counts.ready++;
    if (state.serving) counts.serving++;
  }
  return { byNode, withoutNode };
}

export function nodeSnapshot(node: V1Node): NodeSnapshot {
  return {
    name: node.metadata?.name ?? "",
    labels: node.metadata?.labels ?? {},
    networkUnavailable: (node.status?.conditions ?? []).some(
      (c) => c.type === "NetworkUnavailable" && c.status === "True",
    ),
  };
}
