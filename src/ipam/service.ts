import type { Labels } from "../api/labelSelector.js";
import type { IPFamily } from "../net/ip.js";

export type IPFamilyPolicy = "SingleStack" | "PreferDualStack" | "RequireDualStack";
export type PortProtocol = "TCP" | "UDP" | "SCTP";

export interface ServicePort {
  readonly protocol: PortProtocol;
  readonly port: number;
}

/**
 * What the allocator needs to know about one LoadBalancer Service. The controller builds it
 * from the Service object: it resolves which of `spec.loadBalancerIP` and the
 * `ironlb.io/loadBalancerIPs` annotation applies, the pool annotation, the sharing annotation,
 * and the backend key.
 */
export interface ServiceRequest {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  /** Labels of the Service's namespace, for `serviceAllocation.namespaceSelectors`. */
  readonly namespaceLabels: Labels;
  /** `spec.ipFamilies`, primary first. */
  readonly ipFamilies: readonly IPFamily[];
  readonly ipFamilyPolicy: IPFamilyPolicy;
  /** Addresses the Service asks for, as written (validated by the allocator); empty for none. */
  readonly requestedIPs: readonly string[];
  /** The pool named by the address-pool annotation, if any. */
  readonly requestedPool?: string;
  /** The allow-shared-ip annotation; Services without one never share an address. */
  readonly sharingKey?: string;
  readonly ports: readonly ServicePort[];
  /**
   * Services sharing an address must send traffic to the same backends. For
   * externalTrafficPolicy=Local derive it from the selector (only same-selector Services may
   * share, since each node announces only where its endpoints are); for Cluster use a constant.
   */
  readonly backendKey: string;
}

/** The key the allocator files a Service under: "namespace/name". */
export function serviceKey(service: Pick<ServiceRequest, "namespace" | "name">): string {
  return `${service.namespace}/${service.name}`;
}

export function portKey(port: ServicePort): string {
  return `${port.protocol}/${port.port}`;
}
