/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
/**
 * The Kubernetes side of the lab: the objects it creates (pure builders) and the calls that put
 * them in place. The lab's API server runs alone, with no controller-manager: the lab writes
 * Nodes and EndpointSlices itself, as kubelet and the EndpointSlice controller would.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type {
  KubernetesObject,
  V1CustomResourceDefinition,
  V1EndpointSlice,
  V1Node,
  V1NodeStatus,
  V1Service,
} from "@kubernetes/client-node";
import { parse } from "yaml";
import { DEFAULT_NAMESPACE } from "../api/schema/common.js";
import { isConflict, isNotFound, requestOptions, type KubeClients } from "../k8s/client.js";
import { SPEAKER_LEASE_PREFIX } from "../membership/lease.js";
import { BACKEND_PORT, LAB_POOL_RANGES } from "./addressing.js";
import { waitFor } from "./processes.js";
import type { LabNode } from "./topology.js";

export const IRONLB_NAMESPACE = DEFAULT_NAMESPACE;
export const LAB_POOL_NAME = "lab";
export const LAB_L2ADVERTISEMENT_NAME = "lab";
export const DEMO_SERVICE = { name: "demo", namespace: "default" } as const;
const MANAGED_BY = "ironlb-lab";
const API_TIMEOUT_MS = 15_000;
/** Per call: the timeout signal starts when the options are made. */
const bounded = (): ReturnType<typeof requestOptions> => requestOptions({ timeoutMs: API_TIMEOUT_MS });

/** deploy/crds, the manifests users apply (same relative path from src/lab and dist/lab). */
export const CRD_DIR = fileURLToPath(new URL("../../deploy/crds/", import.meta.url));

// ---------------------------------------------------------------------------------------------
// Objects

/** A Node as kubelet would register it: InternalIPs of both families, Ready. */
export function nodeObject(node: Pick<LabNode, "nodeName" | "ipv4" | "ipv6">): V1Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: node.nodeName,
      labels: { "kubernetes.io/hostname": node.nodeName, "kubernetes.io/os": "linux" },
    },
    spec: {},
  };
}

export function nodeStatus(node: Pick<LabNode, "nodeName" | "ipv4" | "ipv6">): V1NodeStatus {
  return {
    addresses: [
      { type: "InternalIP", address: node.ipv4 },
      { type: "InternalIP", address: node.ipv6 },
      { type: "Hostname", address: node.nodeName },
    ],
    conditions: [
      {
        type: "Ready",
        status: "True",
        reason: "KubeletReady",
        message: "lab node",
        lastHeartbeatTime: new Date(),
        lastTransitionTime: new Date(),
      },
    ],
  };
}

export interface IronlbObject extends KubernetesObject {
  readonly spec: Record<string, unknown>;
}

export function poolObject(
  name = LAB_POOL_NAME,
  addresses: readonly string[] = LAB_POOL_RANGES,
): IronlbObject {
  return {
    apiVersion: "ironlb.io/v1beta1",
    kind: "IPAddressPool",
    metadata: { name, namespace: IRONLB_NAMESPACE },
    spec: { addresses: [...addresses] },
  };
}

export interface L2AdvertisementOptions {
  readonly name?: string;
  readonly pools?: readonly string[];
  /** L2Advertisement.interfaces: answer only on these (default: every eligible interface). */
  readonly interfaces?: readonly string[];
}

export function l2AdvertisementObject(options: L2AdvertisementOptions = {}): IronlbObject {
  return {
    apiVersion: "ironlb.io/v1beta1",
    kind: "L2Advertisement",
    metadata: { name: options.name ?? LAB_L2ADVERTISEMENT_NAME, namespace: IRONLB_NAMESPACE },
    spec: {
      ipAddressPools: [...(options.pools ?? [LAB_POOL_NAME])],
      ...(options.interfaces === undefined ? {} : { interfaces: [...options.interfaces] }),
    },
  };
}

export type IPFamilyName = "IPv4" | "IPv6";

export interface LabServiceSpec {
  readonly name: string;
  readonly namespace?: string;
  /** Default both (RequireDualStack). */
  readonly families?: readonly IPFamilyName[];
  readonly externalTrafficPolicy?: "Cluster" | "Local";
  /** Nodes with a ready endpoint (backend) for this Service; default every node. */
  readonly endpointNodes?: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly loadBalancerClass?: string;
}

export function serviceObject(spec: LabServiceSpec): V1Service {
  const families = spec.families ?? ["IPv4", "IPv6"];
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: spec.name,
      namespace: spec.namespace ?? DEMO_SERVICE.namespace,
      labels: { "app.kubernetes.io/managed-by": MANAGED_BY },
      ...(spec.annotations === undefined ? {} : { annotations: { ...spec.annotations } }),
    },
    spec: {
      type: "LoadBalancer",
      ipFamilyPolicy: families.length > 1 ? "RequireDualStack" : "SingleStack",
      ipFamilies: [...families],
      externalTrafficPolicy: spec.externalTrafficPolicy ?? "Cluster",
      ports: [{ name: "http", protocol: "TCP", port: BACKEND_PORT, targetPort: BACKEND_PORT }],
      ...(spec.loadBalancerClass === undefined ? {} : { loadBalancerClass: spec.loadBalancerClass }),
    },
  };
}

/** One EndpointSlice per family, an endpoint (the node's own address) on each endpoint node. */
export function endpointSliceObjects(spec: LabServiceSpec, nodes: readonly LabNode[]): V1EndpointSlice[] {
  const families = spec.families ?? ["IPv4", "IPv6"];
  const wanted = new Set(spec.endpointNodes ?? nodes.map((node) => node.nodeName));
  const members = nodes.filter((node) => wanted.has(node.nodeName));
  return families.map((family) => ({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: `${spec.name}-${family.toLowerCase()}`,
      namespace: spec.namespace ?? DEMO_SERVICE.namespace,
      labels: {
        "kubernetes.io/service-name": spec.name,
        "endpointslice.kubernetes.io/managed-by": MANAGED_BY,
      },
    },
    addressType: family,
    endpoints: members.map((node) => ({
      addresses: [family === "IPv4" ? node.ipv4 : node.ipv6],
      nodeName: node.nodeName,
      conditions: { ready: true, serving: true, terminating: false },
    })),
    ports: [{ name: "http", protocol: "TCP", port: BACKEND_PORT }],
  }));
}

// ---------------------------------------------------------------------------------------------
// API calls

async function ignoreConflict(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
}

/** Applies deploy/crds and waits until every CRD is Established. */
export async function installCrds(clients: KubeClients, timeoutMs = 60_000): Promise<void> {
  const crds = readdirSync(CRD_DIR)
    .filter((file) => file.endsWith(".yaml"))
    .map((file) => parse(readFileSync(join(CRD_DIR, file), "utf8")) as V1CustomResourceDefinition);
  for (const crd of crds) {
    await ignoreConflict(() =>
      clients.apiextensions.createCustomResourceDefinition({ body: crd }, bounded()),
    );
  }
  for (const crd of crds) {
    const name = crd.metadata?.name ?? "";
    await waitFor(
      `CRD ${name} to be established`,
      async () => {
        const read = await clients.apiextensions.readCustomResourceDefinition({ name }, bounded());
        const established = read.status?.conditions?.find((c) => c.type === "Established");
        return established?.status === "True" ? true : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }
}

export async function ensureNamespace(clients: KubeClients, name: string): Promise<void> {
  await ignoreConflict(() =>
    clients.core.createNamespace(
      { body: { apiVersion: "v1", kind: "Namespace", metadata: { name } } },
      bounded(),
    ),
  );
}

/** Registers the lab's nodes (object, then status: the API server ignores status on create). */
export async function registerNodes(clients: KubeClients, nodes: readonly LabNode[]): Promise<void> {
  for (const node of nodes) {
    await ignoreConflict(() => clients.core.createNode({ body: nodeObject(node) }, bounded()));
    const current = await clients.core.readNode({ name: node.nodeName }, bounded());
    current.status = nodeStatus(node);
    await clients.core.replaceNodeStatus({ name: node.nodeName, body: current }, bounded());
  }
}

/** `desired` carrying `current`'s resourceVersion, for a replace (an update without races). */
function withResourceVersion<T extends KubernetesObject>(desired: T, current: KubernetesObject): T {
  const body = structuredClone(desired);
  body.metadata = Object.assign({}, body.metadata, { resourceVersion: current.metadata?.resourceVersion });
  return body;
}

/** Creates an ironlb.io object, or replaces the spec of the existing one. */
export async function applyIronlbObject(clients: KubeClients, object: IronlbObject): Promise<void> {
  const plural = `${(object.kind ?? "").toLowerCase()}s`;
  const name = object.metadata?.name ?? "";
  const coordinates = { group: "ironlb.io", version: "v1beta1", namespace: IRONLB_NAMESPACE, plural };
  try {
    await clients.customObjects.createNamespacedCustomObject({ ...coordinates, body: object }, bounded());
  } catch (error) {
    if (!isConflict(error)) throw error;
    const current = (await clients.customObjects.getNamespacedCustomObject(
      { ...coordinates, name },
      bounded(),
    )) as KubernetesObject;
    await clients.customObjects.replaceNamespacedCustomObject(
      { ...coordinates, name, body: withResourceVersion(object, current) },
      bounded(),
    );
  }
}

export async function deleteIronlbObject(
  clients: KubeClients,
  kindPlural: string,
  name: string,
): Promise<void> {
  try {
    await clients.customObjects.deleteNamespacedCustomObject(
      { group: "ironlb.io", version: "v1beta1", namespace: IRONLB_NAMESPACE, plural: kindPlural, name },
      bounded(),
    );
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Creates the Service and its EndpointSlices (replacing slices of an earlier Service of that name). */
export async function createLabService(
  clients: KubeClients,
  spec: LabServiceSpec,
  nodes: readonly LabNode[],
): Promise<void> {
  const namespace = spec.namespace ?? DEMO_SERVICE.namespace;
  await setEndpoints(clients, spec, nodes);
  await clients.core.createNamespacedService({ namespace, body: serviceObject(spec) }, bounded());
}

/** Replaces the Service's EndpointSlices so exactly `spec.endpointNodes` have an endpoint. */
export async function setEndpoints(
  clients: KubeClients,
  spec: LabServiceSpec,
  nodes: readonly LabNode[],
): Promise<void> {
  const namespace = spec.namespace ?? DEMO_SERVICE.namespace;
  for (const slice of endpointSliceObjects(spec, nodes)) {
    const name = slice.metadata?.name ?? "";
    try {
      const current = await clients.discovery.readNamespacedEndpointSlice({ name, namespace }, bounded());
      await clients.discovery.replaceNamespacedEndpointSlice(
        { name, namespace, body: withResourceVersion(slice, current) },
        bounded(),
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await clients.discovery.createNamespacedEndpointSlice({ namespace, body: slice }, bounded());
    }
  }
}

/** Deletes the Service and its slices (the lab has no garbage collector to do it). */
export async function deleteLabService(clients: KubeClients, name: string, namespace: string): Promise<void> {
  for (const remove of [
    () => clients.core.deleteNamespacedService({ name, namespace }, bounded()),
    () =>
      clients.discovery.deleteCollectionNamespacedEndpointSlice(
        { namespace, labelSelector: `kubernetes.io/service-name=${name}` },
        bounded(),
      ),
  ]) {
    try {
      await remove();
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}

/** The Service's LoadBalancer IPs (empty until the controller has assigned them). */
export async function serviceIngressIPs(
  clients: KubeClients,
  name: string,
  namespace: string,
): Promise<string[]> {
  const service = await clients.core.readNamespacedService({ name, namespace }, bounded());
  return (service.status?.loadBalancer?.ingress ?? []).flatMap((ingress) =>
    ingress.ip === undefined ? [] : [ingress.ip],
  );
}

/** One ServiceL2Status, reduced to what the lab reports. */
export interface Announcement {
  readonly serviceNamespace: string;
  readonly serviceName: string;
  readonly node: string;
  readonly interfaces: readonly string[];
}

interface ServiceL2StatusLike {
  readonly status?: {
    readonly node?: string;
    readonly serviceName?: string;
    readonly serviceNamespace?: string;
    readonly interfaces?: readonly { readonly name?: string }[];
  };
}

/** Who announces what, from the speakers' ServiceL2Status objects. */
export async function announcements(clients: KubeClients): Promise<Announcement[]> {
  const list = (await clients.customObjects.listNamespacedCustomObject(
    { group: "ironlb.io", version: "v1beta1", namespace: IRONLB_NAMESPACE, plural: "servicel2statuses" },
    bounded(),
  )) as { items?: ServiceL2StatusLike[] };
  return (list.items ?? [])
    .flatMap((item): Announcement[] => {
      const status = item.status;
      if (status?.node === undefined || status.serviceName === undefined) return [];
      return [
        {
          serviceNamespace: status.serviceNamespace ?? "",
          serviceName: status.serviceName,
          node: status.node,
          interfaces: (status.interfaces ?? []).flatMap((i) => (i.name === undefined ? [] : [i.name])),
        },
      ];
    })
    .sort((a, b) =>
      `${a.serviceNamespace}/${a.serviceName}/${a.node}`.localeCompare(
        `${b.serviceNamespace}/${b.serviceName}/${b.node}`,
      ),
    );
}

/** Nodes whose speaker Lease (src/membership/lease.ts) exists, with its last renewal. */
export async function speakerLeases(clients: KubeClients): Promise<Map<string, Date | undefined>> {
  const leases = await clients.coordination.listNamespacedLease({ namespace: IRONLB_NAMESPACE }, bounded());
  const out = new Map<string, Date | undefined>();
  for (const lease of leases.items) {
    const holder = lease.spec?.holderIdentity;
    if (holder === undefined || !(lease.metadata?.name ?? "").startsWith(SPEAKER_LEASE_PREFIX)) continue;
    out.set(holder, lease.spec?.renewTime);
  }
  return out;
}
