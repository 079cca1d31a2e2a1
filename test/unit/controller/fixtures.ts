import type { ServiceObject } from "../../../src/controller/objects.js";

export interface ServiceOptions {
  type?: string;
  loadBalancerClass?: string;
  loadBalancerIP?: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  ipFamilies?: string[];
  ipFamilyPolicy?: string;
  ports?: { port: number; protocol?: string }[];
  selector?: Record<string, string>;
  externalTrafficPolicy?: string;
  ingress?: string[];
  conditions?: NonNullable<NonNullable<ServiceObject["status"]>["conditions"]>;
  generation?: number;
  created?: Date;
  deleting?: boolean;
}

/** A Service object as the API would return it; `key` is "namespace/name" or "name" (default). */
export function service(key: string, o: ServiceOptions = {}): ServiceObject {
  const [namespace, name] = key.includes("/") ? (key.split("/") as [string, string]) : ["default", key];
  return {
    metadata: {
      name,
      namespace,
      uid: `uid-${namespace}-${name}`,
      resourceVersion: "1",
      ...(o.generation !== undefined && { generation: o.generation }),
      ...(o.labels !== undefined && { labels: o.labels }),
      ...(o.annotations !== undefined && { annotations: o.annotations }),
      creationTimestamp: o.created ?? new Date("2026-01-01T00:00:00Z"),
      ...(o.deleting === true && { deletionTimestamp: new Date("2026-01-02T00:00:00Z") }),
    },
    spec: {
      type: o.type ?? "LoadBalancer",
      ...(o.loadBalancerClass !== undefined && { loadBalancerClass: o.loadBalancerClass }),
      ...(o.loadBalancerIP !== undefined && { loadBalancerIP: o.loadBalancerIP }),
      ipFamilies: o.ipFamilies ?? ["IPv4"],
      ipFamilyPolicy: o.ipFamilyPolicy ?? "SingleStack",
      ports: o.ports ?? [{ port: 80, protocol: "TCP" }],
      ...(o.selector !== undefined && { selector: o.selector }),
      ...(o.externalTrafficPolicy !== undefined && { externalTrafficPolicy: o.externalTrafficPolicy }),
    },
    status: {
      loadBalancer:
        o.ingress === undefined ? {} : { ingress: o.ingress.map((ip) => ({ ip, ipMode: "VIP" })) },
      ...(o.conditions !== undefined && { conditions: o.conditions }),
    },
  };
}

/** An ironlb.io IPAddressPool object. */
export function poolObject(
  name: string,
  addresses: string[],
  spec: Record<string, unknown> = {},
  namespace = "ironlb-system",
): {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: unknown;
  status?: unknown;
} {
  return {
    apiVersion: "ironlb.io/v1beta1",
    kind: "IPAddressPool",
    metadata: { name, namespace },
    spec: { addresses, ...spec },
  };
}
