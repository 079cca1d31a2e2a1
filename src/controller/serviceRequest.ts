/**
 * Whether a Service is IronLB's to serve, and if so what it asks the allocator for. Pure: a
 * Service object and its namespace's labels in, a decision out.
 */
import type { Labels } from "../api/labelSelector.js";
import type { IPFamily } from "../net/ip.js";
import type { IPFamilyPolicy, PortProtocol, ServicePort, ServiceRequest } from "../ipam/service.js";
import {
  ADDRESS_POOL,
  ALLOW_SHARED_IP,
  LOAD_BALANCER_IPS,
  readAnnotation,
  splitAddressList,
} from "./annotations.js";
import type { ServiceObject } from "./objects.js";

export interface ServiceClassOptions {
  /** The loadBalancerClass this controller serves; undefined: Services without a class. */
  readonly lbClass?: string | undefined;
}

/** Why a Service is not (or no longer) IronLB's. */
export type NotOursReason =
  | { readonly code: "Deleted" }
  | { readonly code: "NotLoadBalancer"; readonly type: string }
  | { readonly code: "OtherClass"; readonly loadBalancerClass: string | undefined };

export type ServiceIntent =
  | { readonly ours: true; readonly request: ServiceRequest }
  | { readonly ours: false; readonly why: NotOursReason };

const POLICIES: readonly string[] = ["SingleStack", "PreferDualStack", "RequireDualStack"];
const PROTOCOLS: readonly string[] = ["TCP", "UDP", "SCTP"];

/** Whether the Service's loadBalancerClass is the one this controller serves. */
export function servesClass(loadBalancerClass: string | undefined, options: ServiceClassOptions): boolean {
  const cls = loadBalancerClass === "" ? undefined : loadBalancerClass;
  return cls === options.lbClass;
}

/** Decides whether the Service is ours; if so, builds the allocator's request. */
export function interpretService(
  service: ServiceObject | undefined,
  namespaceLabels: Labels,
  options: ServiceClassOptions,
): ServiceIntent {
  if (service === undefined || service.metadata?.deletionTimestamp !== undefined) {
    return { ours: false, why: { code: "Deleted" } };
  }
  const spec = service.spec ?? {};
  const type = spec.type ?? "ClusterIP";
  if (type !== "LoadBalancer") return { ours: false, why: { code: "NotLoadBalancer", type } };
  if (!servesClass(spec.loadBalancerClass, options)) {
    return { ours: false, why: { code: "OtherClass", loadBalancerClass: spec.loadBalancerClass } };
  }
  return { ours: true, request: serviceRequest(service, namespaceLabels) };
}

/** The allocator's view of a LoadBalancer Service (whose class has already been checked). */
export function serviceRequest(service: ServiceObject, namespaceLabels: Labels): ServiceRequest {
  const meta = service.metadata ?? {};
  const spec = service.spec ?? {};
  const annotations = meta.annotations;
  const pool = readAnnotation(annotations, ADDRESS_POOL)?.value;
  const sharingKey = readAnnotation(annotations, ALLOW_SHARED_IP)?.value;
  return {
    namespace: meta.namespace ?? "",
    name: meta.name ?? "",
    labels: meta.labels ?? {},
    namespaceLabels,
    // The allocator validates these (and reports InvalidIPFamilies); pass them as written.
    ipFamilies: (spec.ipFamilies ?? []) as readonly IPFamily[],
    ipFamilyPolicy: (POLICIES.includes(spec.ipFamilyPolicy ?? "")
      ? spec.ipFamilyPolicy
      : "SingleStack") as IPFamilyPolicy,
    requestedIPs: requestedIPs(service),
    ...(pool !== undefined && { requestedPool: pool }),
    ...(sharingKey !== undefined && { sharingKey }),
    ports: servicePorts(service),
    backendKey: backendKey(service),
  };
}

/** Addresses the Service asks for: the loadBalancerIPs annotation, else spec.loadBalancerIP. */
export function requestedIPs(service: ServiceObject): string[] {
  const fromAnnotation = readAnnotation(service.metadata?.annotations, LOAD_BALANCER_IPS);
  if (fromAnnotation !== undefined) return splitAddressList(fromAnnotation.value);
  const legacy = service.spec?.loadBalancerIP?.trim();
  return legacy === undefined || legacy === "" ? [] : [legacy];
}

function servicePorts(service: ServiceObject): ServicePort[] {
  return (service.spec?.ports ?? []).map((p) => ({
    // The API server defaults the protocol to TCP; an unknown one cannot be created.
    protocol: (PROTOCOLS.includes(p.protocol ?? "TCP") ? (p.protocol ?? "TCP") : "TCP") as PortProtocol,
    port: p.port,
  }));
}

/**
 * Services sharing an address must reach the same backends: with externalTrafficPolicy Local a
 * node announces only where the Service has endpoints, so only Services with the same selector
 * may share; with Cluster every node forwards anywhere, so any may.
 */
export function backendKey(service: ServiceObject): string {
  if (service.spec?.externalTrafficPolicy !== "Local") return "cluster";
  const selector = service.spec.selector ?? {};
  const canonical = Object.keys(selector)
    .sort()
    .map((k) => `${k}=${selector[k] ?? ""}`)
    .join(",");
  return `local:${canonical}`;
}
