/**
 * The I/O edge of `ironlb status` and `ironlb doctor`: one paginated list call per resource (no
 * per-Service call), plus the few single objects the doctor reads. A collection whose CRD is not
 * installed reads as empty (MetalLB's CRDs, or IronLB's status kinds on an older install).
 */
import { setMaxListeners } from "node:events";
import type {
  KubeConfig,
  KubernetesObject,
  V1EndpointSlice,
  V1Node,
  V1Service,
} from "@kubernetes/client-node";
import { IRONLB_CONFIG_RESOURCES, METALLB_CONFIG_RESOURCES } from "../k8s/configInformers.js";
import type { CustomObject, NamespaceObject } from "../controller/objects.js";
import { httpListWatch, KubeHttpError, type ListWatchClient } from "../k8s/listWatch.js";
import { collectionPath, coreResources, objectPath, type ResourceRef } from "../k8s/resource.js";
import { SPEAKER_LEASE_SELECTOR, type SpeakerLease } from "../membership/lease.js";
import type { ClusterObjects, ConfigMapObject } from "./cluster.js";

/** Items per list page: large enough for few round trips, small enough for the API server's memory. */
export const PAGE_SIZE = 500;

const ironlbStatus = (plural: string, kind: string): ResourceRef => ({
  group: "ironlb.io",
  version: "v1beta1",
  plural,
  kind,
  namespaced: true,
});

/** The API server could not be reached or refused us: exit code 2 in the CLI. */
export class ClusterReadError extends Error {
  override readonly name = "ClusterReadError";
  readonly code = "ERR_CLUSTER_READ";
}

export class ClusterReader {
  readonly client: ListWatchClient;
  /** List calls made (pages), in all and per collection path. */
  calls = 0;
  readonly pages = new Map<string, number>();

  constructor(
    readonly config: KubeConfig,
    private readonly signal: AbortSignal,
    private readonly pageSize = PAGE_SIZE,
  ) {
    this.client = httpListWatch(config);
    // Every list call (about twenty run at once) listens on this one signal.
    setMaxListeners(0, signal);
  }

  /** Every item of a collection, page by page; [] when the resource type does not exist. */
  async list<T>(ref: ResourceRef, namespace?: string, labelSelector?: string): Promise<T[]> {
    const path = collectionPath(ref, namespace);
    const items: KubernetesObject[] = [];
    let next: string | undefined;
    try {
      do {
        this.calls++;
        this.pages.set(path, (this.pages.get(path) ?? 0) + 1);
        const page = await this.client.list(
          path,
          { limit: this.pageSize, continue: next, labelSelector },
          this.signal,
        );
        items.push(...page.items);
        next = page.continue;
      } while (next !== undefined);
    } catch (error) {
      if (error instanceof KubeHttpError && error.statusCode === 404) return [];
      throw new ClusterReadError(
        `cannot list ${path}: ${error instanceof Error ? error.message : String(error)}`,
        {
          cause: error,
        },
      );
    }
    return items as T[];
  }

  /** One object, or undefined when it (or its type) does not exist or may not be read. */
  async get<T>(ref: ResourceRef, name: string, namespace?: string): Promise<T | undefined> {
    const path = objectPath(ref, name, namespace);
    // A single GET is a list-shaped call on the raw client: reuse its transport through a field selector.
    const collection = collectionPath(ref, namespace);
    try {
      this.calls++;
      const page = await this.client.list(
        collection,
        { fieldSelector: `metadata.name=${name}` },
        this.signal,
      );
      return page.items[0] as T | undefined;
    } catch (error) {
      if (error instanceof KubeHttpError && (error.statusCode === 404 || error.statusCode === 403))
        return undefined;
      throw new ClusterReadError(
        `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  async clusterObjects(namespace: string): Promise<ClusterObjects> {
    const [
      services,
      namespaces,
      nodes,
      endpointSlices,
      leases,
      l2Statuses,
      bgpStatuses,
      bgpSessions,
      ironlb,
      metallb,
    ] = await Promise.all([
      this.list<V1Service>(coreResources.services),
      this.list<NamespaceObject>(coreResources.namespaces),
      this.list<V1Node>(coreResources.nodes),
      this.list<V1EndpointSlice>(coreResources.endpointSlices),
      this.list<SpeakerLease>(coreResources.leases, namespace, SPEAKER_LEASE_SELECTOR),
      this.list<CustomObject>(ironlbStatus("servicel2statuses", "ServiceL2Status"), namespace),
      this.list<CustomObject>(ironlbStatus("servicebgpstatuses", "ServiceBGPStatus"), namespace),
      this.list<CustomObject>(ironlbStatus("bgpsessionstates", "BGPSessionState"), namespace),
      Promise.all(IRONLB_CONFIG_RESOURCES.map((r) => this.listKind(r, namespace))),
      Promise.all(METALLB_CONFIG_RESOURCES.map((r) => this.listKind(r))),
    ]);
    return {
      services,
      namespaces,
      nodes,
      endpointSlices,
      leases,
      l2Statuses,
      bgpStatuses,
      bgpSessions,
      ironlbConfig: ironlb.flat(),
      metallbConfig: metallb.flat(),
    };
  }

  /** A list's items carry no apiVersion/kind; put them back for the configuration code. */
  private async listKind(ref: ResourceRef, namespace?: string): Promise<CustomObject[]> {
    const items = await this.list<CustomObject>(ref, namespace);
    return items.map((o) => ({ ...o, apiVersion: `${ref.group}/${ref.version}`, kind: ref.kind }));
  }

  configMap(namespace: string, name: string): Promise<ConfigMapObject | undefined> {
    return this.get<ConfigMapObject>(coreResources.configMaps, name, namespace);
  }
}
