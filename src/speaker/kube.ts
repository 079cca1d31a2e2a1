/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
/**
 * The speaker's Kubernetes edge: the informers it watches, the snapshot it builds from their
 * caches (configuration validated as a whole, the last good one kept when the current one is
 * invalid), the ServiceL2Status writes and the `nodeAssigned` Events. Handlers only signal;
 * the core decides.
 */
import {
  V1MicroTime,
  type CustomObjectsApi,
  type EventsV1Api,
  type EventsV1Event,
  type V1EndpointSlice,
  type V1Node,
  type V1Service,
} from "@kubernetes/client-node";
import type { ConfigError } from "../api/configError.js";
import type { ServiceL2StatusStatus } from "../api/schema/serviceStatus.js";
import { snapshotFromKubernetes } from "../announce/kubernetes.js";
import type { AnnouncementSnapshot } from "../announce/snapshot.js";
import { assembleConfig, ConfigTracker } from "../controller/configSource.js";
import { requestOptions } from "../k8s/client.js";
import {
  cachedConfigObjects,
  createConfigInformers,
  informerMaker,
  ironlbResource,
  type ConfigInformers,
} from "../k8s/configInformers.js";
import type { Informer } from "../k8s/informer.js";
import type { ListWatchClient } from "../k8s/listWatch.js";
import { coreResources } from "../k8s/resource.js";
import { SPEAKER_LEASE_SELECTOR } from "../membership/lease.js";
import type { Logger } from "../runtime/logger.js";
import type { LiveSpeakers } from "./liveSpeakers.js";
import type { AnnouncedService } from "./nodePlan.js";
import { statusObjectWriter, type StatusObjectWriter, type StatusOwnerRef } from "./statusObjectApi.js";
import { nodeLabelSelector } from "./statusObjects.js";

export const SERVICE_L2_STATUSES = ironlbResource("servicel2statuses", "ServiceL2Status");

export interface SpeakerInformers extends ConfigInformers {
  readonly services: Informer<V1Service>;
  readonly endpointSlices: Informer<V1EndpointSlice>;
  readonly nodes: Informer<V1Node>;
  readonly leases: Informer;
  readonly statuses: Informer;
  /** Every informer the first decision must wait for. */
  readonly all: readonly Informer[];
}

export interface SpeakerInformerOptions {
  readonly client: ListWatchClient;
  readonly namespace: string;
  readonly node: string;
  readonly logger?: Logger;
  readonly onError?: (error: unknown) => void;
}

export function createSpeakerInformers(options: SpeakerInformerOptions): SpeakerInformers {
  const { client, namespace, logger, onError } = options;
  const make = informerMaker({ client, logger, onError });
  const services = make<V1Service>(coreResources.services);
  const endpointSlices = make<V1EndpointSlice>(coreResources.endpointSlices);
  const nodes = make<V1Node>(coreResources.nodes);
  const leases = make(coreResources.leases, { namespace, labelSelector: SPEAKER_LEASE_SELECTOR });
  // Optional: without the ServiceL2Status CRD the speaker still announces (status is information).
  const statuses = make(SERVICE_L2_STATUSES, {
    namespace,
    labelSelector: nodeLabelSelector(options.node),
    optional: true,
  });
  const config = createConfigInformers(make, namespace);
  return {
    services,
    endpointSlices,
    nodes,
    leases,
    statuses,
    ...config,
    all: [services, endpointSlices, nodes, leases, statuses, ...config.ironlb, ...config.metallb],
  };
}

// ---------------------------------------------------------------------------------------------
// The snapshot

export interface KubeSnapshotSourceOptions {
  readonly informers: SpeakerInformers;
  readonly liveSpeakers: LiveSpeakers;
  readonly namespace: string;
  readonly lbClass?: string | undefined;
  readonly logger?: Logger;
  /** Told whether the configuration in force is stale (the current one invalid). */
  readonly onConfigStale?: (stale: boolean) => void;
}

/**
 * Builds the announcement snapshot from the caches. Undefined until every informer has synced
 * and a valid configuration has been seen; afterwards an invalid configuration keeps the last
 * good one in force (logged once per distinct set of errors, and reported as stale).
 */
export class KubeSnapshotSource {
  private readonly tracker = new ConfigTracker();
  private lastErrors = "";

  constructor(private readonly options: KubeSnapshotSourceOptions) {}

  synced(): boolean {
    return this.options.informers.all.every((i) => i.hasSynced());
  }

  snapshot(): AnnouncementSnapshot | undefined {
    if (!this.synced()) return undefined;
    const config = this.currentConfig();
    if (config === undefined) return undefined;
    const { informers } = this.options;
    return snapshotFromKubernetes({
      config,
      services: informers.services.list(),
      endpointSlices: informers.endpointSlices.list(),
      nodes: informers.nodes.list(),
      liveSpeakers: this.options.liveSpeakers.current(),
      lbClass: this.options.lbClass,
    });
  }

  /** True while the cluster's configuration is invalid. */
  stale(): boolean {
    return this.tracker.stale;
  }

  private currentConfig() {
    const { informers, namespace, logger } = this.options;
    const assembled = assembleConfig(cachedConfigObjects(informers), namespace);
    const update = this.tracker.update(assembled);
    if (update.kind === "applied") {
      logger?.info({ warnings: update.warnings.map(String) }, "configuration loaded");
      this.lastErrors = "";
    } else if (update.kind === "rejected") {
      const errors = describeErrors(update.errors);
      if (errors !== this.lastErrors) {
        logger?.error(
          { errors: update.errors.map(String), usingLastGood: update.lastGood !== undefined },
          update.lastGood === undefined
            ? "configuration is invalid and there is no earlier valid one: announcing nothing"
            : "configuration is invalid: keeping the last valid configuration",
        );
        this.lastErrors = errors;
      }
    }
    this.options.onConfigStale?.(this.tracker.stale);
    return this.tracker.current;
  }
}

const describeErrors = (errors: readonly ConfigError[]): string => errors.map(String).join("\n");

// ---------------------------------------------------------------------------------------------
// ServiceL2Status writes

/**
 * ServiceL2Status writes through the custom objects API (statusObjectApi.ts). `owner` returns
 * this node's Node (for ownerReferences) when known. The speaker reads the objects back through
 * its informer, so no list here.
 */
export function kubeStatusApi(
  api: CustomObjectsApi,
  namespace: string,
  owner: () => StatusOwnerRef | undefined,
): StatusObjectWriter<ServiceL2StatusStatus> {
  const { group, version, plural } = SERVICE_L2_STATUSES;
  const at = { group, version, plural, namespace };
  return statusObjectWriter<ServiceL2StatusStatus>(
    { kind: SERVICE_L2_STATUSES.kind, namespace, owner },
    {
      create: (body, signal) => api.createNamespacedCustomObject({ ...at, body }, requestOptions({ signal })),
      replaceStatus: (name, body, signal) =>
        api.replaceNamespacedCustomObjectStatus({ ...at, name, body }, requestOptions({ signal })),
      delete: (name, signal) => api.deleteNamespacedCustomObject({ ...at, name }, requestOptions({ signal })),
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Events

export const NODE_ASSIGNED_REASON = "nodeAssigned";

export interface EventRecorderOptions {
  readonly api: EventsV1Api;
  readonly node: string;
  /** The Service object (for its uid), from the informer cache. */
  readonly service: (key: string) => V1Service | undefined;
  readonly logger?: Logger;
  /** Events beyond this many in flight are dropped (they are best effort); default 100. */
  readonly maxInFlight?: number;
}

/** `<object>.<hex nanoseconds>`; `sequence` keeps Events of the same millisecond apart. */
function eventName(objectName: string, at: Date, sequence: number): string {
  const stamp = (BigInt(at.getTime()) * 1_000_000n + BigInt(sequence % 1_000_000)).toString(16);
  return `${objectName}.${stamp}`;
}

/** Sends `nodeAssigned` Events (events.k8s.io/v1) on Services, best effort, never blocking the caller. */
export function kubeEventRecorder(options: EventRecorderOptions): {
  nodeAssigned(service: AnnouncedService): void;
  idle(): Promise<void>;
} {
  const inFlight = new Set<Promise<void>>();
  const max = options.maxInFlight ?? 100;
  let sequence = 0;
  return {
    nodeAssigned(announced) {
      if (inFlight.size >= max) {
        options.logger?.warn({ service: announced.key }, "too many Events in flight; dropping one");
        return;
      }
      const svc = options.service(announced.key);
      const now = new Date();
      const body: EventsV1Event = {
        apiVersion: "events.k8s.io/v1",
        kind: "Event",
        // client-go's naming: the object's name and the time in hex (generateName with a
        // trailing dot is rejected as an invalid subdomain).
        metadata: { name: eventName(announced.name, now, sequence++), namespace: announced.namespace },
        eventTime: new V1MicroTime(now),
        reportingController: "ironlb.io/speaker",
        reportingInstance: `ironlb-speaker-${options.node}`.slice(0, 128),
        action: "Announce",
        reason: NODE_ASSIGNED_REASON,
        type: "Normal",
        note: `node ${options.node} answers ARP/NDP for ${announced.ips.join(", ")} on ${
          announced.interfaces.join(", ") || "no interface"
        }`.slice(0, 1024),
        regarding: {
          apiVersion: "v1",
          kind: "Service",
          namespace: announced.namespace,
          name: announced.name,
          ...(svc?.metadata?.uid === undefined ? {} : { uid: svc.metadata.uid }),
          ...(svc?.metadata?.resourceVersion === undefined
            ? {}
            : { resourceVersion: svc.metadata.resourceVersion }),
        },
      };
      const sending = options.api
        .createNamespacedEvent(
          { namespace: announced.namespace, body },
          requestOptions({ timeoutMs: 10_000 }),
        )
        .then(
          () => undefined,
          (error: unknown) => {
            options.logger?.warn(
              { err: error, service: announced.key },
              "cannot record the nodeAssigned Event",
            );
          },
        )
        .finally(() => inFlight.delete(sending));
      inFlight.add(sending);
    },
    async idle() {
      await Promise.all([...inFlight]);
    },
  };
}
