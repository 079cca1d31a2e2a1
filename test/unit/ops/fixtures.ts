/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; tests build them as literals. */
// Object literals for the ops builders' tests: the listed objects as the API returns them.
import type { V1EndpointSlice, V1Node, V1Service } from "@kubernetes/client-node";
import type { CustomObject } from "../../../src/controller/objects.js";
import type { SpeakerLease } from "../../../src/membership/lease.js";
import type { ClusterObjects } from "../../../src/ops/cluster.js";
import type { DoctorInputs } from "../../../src/ops/doctor.js";

export const NS = "ironlb-system";
export const NOW = Date.parse("2026-11-22T12:00:00Z");

export function pool(
  name: string,
  addresses: string[],
  spec: Record<string, unknown> = {},
  status?: unknown,
): CustomObject {
  return {
    apiVersion: "ironlb.io/v1beta1",
    kind: "IPAddressPool",
    metadata: { name, namespace: NS },
    spec: { addresses, ...spec },
    ...(status === undefined ? {} : { status }),
  };
}

export function l2Advertisement(name: string, spec: Record<string, unknown> = {}): CustomObject {
  return {
    apiVersion: "ironlb.io/v1beta1",
    kind: "L2Advertisement",
    metadata: { name, namespace: NS },
    spec,
  };
}

export interface ServiceOptions {
  ips?: string[];
  annotations?: Record<string, string>;
  loadBalancerIP?: string;
  loadBalancerClass?: string;
  ports?: number[];
  local?: boolean;
  condition?: { reason: string; message: string };
  created?: string;
  families?: string[];
}

export function service(namespace: string, name: string, o: ServiceOptions = {}): V1Service {
  return {
    metadata: {
      namespace,
      name,
      ...(o.annotations === undefined ? {} : { annotations: o.annotations }),
      creationTimestamp: new Date(o.created ?? "2026-11-01T00:00:00Z"),
    },
    spec: {
      type: "LoadBalancer",
      ipFamilies: o.families ?? ["IPv4"],
      ipFamilyPolicy: (o.families ?? []).length > 1 ? "RequireDualStack" : "SingleStack",
      ports: (o.ports ?? [80]).map((port) => ({ port, protocol: "TCP" })),
      selector: { app: name },
      ...(o.local === true ? { externalTrafficPolicy: "Local" } : {}),
      ...(o.loadBalancerIP === undefined ? {} : { loadBalancerIP: o.loadBalancerIP }),
      ...(o.loadBalancerClass === undefined ? {} : { loadBalancerClass: o.loadBalancerClass }),
    },
    status: {
      loadBalancer: { ingress: (o.ips ?? []).map((ip) => ({ ip })) },
      ...(o.condition === undefined
        ? {}
        : {
            conditions: [
              {
                type: "ironlb.io/IPAllocated",
                status: "False",
                reason: o.condition.reason,
                message: o.condition.message,
                lastTransitionTime: new Date(NOW),
              },
            ],
          }),
    },
  };
}

export function node(name: string, labels: Record<string, string> = {}, networkUnavailable = false): V1Node {
  return {
    metadata: { name, labels },
    status: networkUnavailable ? { conditions: [{ type: "NetworkUnavailable", status: "True" }] } : {},
  };
}

export function lease(nodeName: string, renewedMsAgo = 1000): SpeakerLease {
  return {
    metadata: { name: `ironlb-speaker-${nodeName}`, namespace: NS },
    spec: {
      holderIdentity: nodeName,
      leaseDurationSeconds: 6,
      renewTime: new Date(NOW - renewedMsAgo).toISOString(),
    },
  };
}

export function endpointSlice(
  namespace: string,
  svc: string,
  nodeName: string,
  ready: boolean,
): V1EndpointSlice {
  return {
    metadata: { namespace, name: `${svc}-abc`, labels: { "kubernetes.io/service-name": svc } },
    addressType: "IPv4",
    endpoints: [{ addresses: ["10.0.0.1"], nodeName, conditions: { ready } }],
  };
}

export function l2Status(namespace: string, svc: string, nodeName: string): CustomObject {
  return {
    apiVersion: "ironlb.io/v1beta1",
    kind: "ServiceL2Status",
    metadata: { namespace: NS, name: `${namespace}.${svc}.${nodeName}` },
    status: { node: nodeName, serviceName: svc, serviceNamespace: namespace },
  };
}

/** A BGPSessionState as a speaker writes it: Established, no BFD, unless `status` says otherwise. */
export function bgpSession(nodeName: string, peer: string, status: Record<string, unknown>): CustomObject {
  return {
    apiVersion: "ironlb.io/v1beta1",
    kind: "BGPSessionState",
    metadata: { namespace: NS, name: `${peer}.${nodeName}` },
    status: {
      node: nodeName,
      peer: "192.0.2.1",
      peerName: peer,
      bgpStatus: "Established",
      bfdStatus: "N/A",
      advertisedPrefixes: 0,
      ...status,
    },
  };
}

export function objects(parts: Partial<ClusterObjects> = {}): ClusterObjects {
  return {
    services: [],
    namespaces: [],
    ironlbConfig: [],
    metallbConfig: [],
    l2Statuses: [],
    bgpStatuses: [],
    bgpSessions: [],
    endpointSlices: [],
    nodes: [],
    leases: [],
    ...parts,
  };
}

export function doctorInputs(parts: Partial<DoctorInputs> = {}): DoctorInputs {
  return {
    ...objects(parts),
    kubeProxyConfigMap: undefined,
    metallbConfigMap: undefined,
    webhooks: [],
    ...parts,
  };
}
