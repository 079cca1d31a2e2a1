import type { KubernetesObject } from "@kubernetes/client-node";

/** Which collection on the API server: the REST coordinates of a resource type. */
export interface ResourceRef {
  /** API group; "" for the core group (Services, Namespaces, Nodes, ...). */
  readonly group: string;
  readonly version: string;
  /** Lower-case plural as in the URL, e.g. "services", "ipaddresspools". */
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export const coreResources = {
  services: { group: "", version: "v1", plural: "services", kind: "Service", namespaced: true },
  namespaces: { group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false },
  nodes: { group: "", version: "v1", plural: "nodes", kind: "Node", namespaced: false },
  configMaps: { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true },
  secrets: { group: "", version: "v1", plural: "secrets", kind: "Secret", namespaced: true },
  pods: { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true },
  endpointSlices: {
    group: "discovery.k8s.io",
    version: "v1",
    plural: "endpointslices",
    kind: "EndpointSlice",
    namespaced: true,
  },
  leases: { group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", namespaced: true },
  customResourceDefinitions: {
    group: "apiextensions.k8s.io",
    version: "v1",
    plural: "customresourcedefinitions",
    kind: "CustomResourceDefinition",
    namespaced: false,
  },
} as const satisfies Record<string, ResourceRef>;

/** "services", "leases.coordination.k8s.io/v1": how logs and errors name a resource type. */
export function describeResource(ref: ResourceRef): string {
  return ref.group === "" ? ref.plural : `${ref.plural}.${ref.group}/${ref.version}`;
}

/**
 * The URL path of a collection: across all namespaces when `namespace` is undefined (or the
 * resource is cluster-scoped), else within that namespace.
 */
export function collectionPath(ref: ResourceRef, namespace?: string): string {
  const prefix = ref.group === "" ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  const scope =
    ref.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${prefix}${scope}/${ref.plural}`;
}

export function objectPath(ref: ResourceRef, name: string, namespace?: string): string {
  if (ref.namespaced && namespace === undefined) {
    throw new RangeError(`${describeResource(ref)} is namespaced: a namespace is required for ${name}`);
  }
  return `${collectionPath(ref, namespace)}/${encodeURIComponent(name)}`;
}

/** The cache and work-queue key of an object: "namespace/name", or "name" if cluster-scoped. */
export function objectKey(object: KubernetesObject): string {
  const name = object.metadata?.name ?? "";
  const namespace = object.metadata?.namespace;
  return namespace === undefined || namespace === "" ? name : `${namespace}/${name}`;
}

export function parseObjectKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf("/");
  return slash < 0
    ? { namespace: undefined, name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
