/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
/**
 * The Kubernetes edge of the controller: informer caches behind ControllerCaches, and the API
 * writes behind ControllerWriter (status subresource with resourceVersion, merge patches, Events).
 */
import { hostname } from "node:os";
import {
  Observable,
  PatchStrategy,
  setHeaderOptions,
  type ConfigurationOptions,
  type EventsV1Event,
  type V1Service,
} from "@kubernetes/client-node";
import type { Labels } from "../api/labelSelector.js";
import { API_GROUP, API_VERSION } from "../api/schema/common.js";
import { apiStatusCode, requestOptions, type KubeClients } from "../k8s/client.js";
import { cachedConfigObjects, type ConfigInformers } from "../k8s/configInformers.js";
import type { Informer } from "../k8s/informer.js";
import { coreResources } from "../k8s/resource.js";
import type { Logger } from "../runtime/logger.js";
import type { ConfigObjects } from "./configSource.js";
import type { CustomObject, ServiceObject } from "./objects.js";
import { poolStatusJSON, type PoolStatusCounts } from "./poolStatus.js";
import {
  ObjectGoneError,
  WriteAbortedError,
  WriteConflictError,
  type ControllerCaches,
  type ControllerWriter,
} from "./ports.js";
import type { ServiceEvent } from "./serviceState.js";

export const SERVICES = coreResources.services;
export const NAMESPACES = coreResources.namespaces;

export interface ControllerInformers extends ConfigInformers {
  readonly services: Informer;
  readonly namespaces: Informer;
}

/** ControllerCaches read from informer caches (raw JSON objects: timestamps are strings). */
export class InformerCaches implements ControllerCaches {
  constructor(
    private readonly informers: ControllerInformers,
    private readonly namespace: string,
  ) {}

  service(key: string): ServiceObject | undefined {
    return this.informers.services.get(key);
  }

  services(): Iterable<ServiceObject> {
    return this.informers.services.list() as ServiceObject[];
  }

  namespaceLabels(namespace: string): Labels {
    return this.informers.namespaces.get(namespace)?.metadata?.labels ?? {};
  }

  configObjects(): ConfigObjects {
    return cachedConfigObjects(this.informers);
  }

  ipAddressPool(name: string): CustomObject | undefined {
    // IRONLB_CONFIG_RESOURCES starts with IPAddressPool.
    return this.informers.ironlb[0]?.get(`${this.namespace}/${name}`);
  }
}

export interface KubeWriterOptions {
  readonly clients: KubeClients;
  readonly logger: Logger;
  /** Bound on each API call; default 10 s. */
  readonly timeoutMs?: number;
  /** Events waiting to be sent beyond this are dropped (Events are best effort); default 2000. */
  readonly maxPendingEvents?: number;
  /** Concurrent Event creations; default 2. */
  readonly eventConcurrency?: number;
  /** Reporting instance of Events; default the host name. */
  readonly instance?: string;
  /** Stops the Event sender. */
  readonly signal: AbortSignal;
}

export const REPORTING_CONTROLLER = "ironlb.io/controller";

/** ControllerWriter over client-node. */
export class KubeWriter implements ControllerWriter {
  private readonly timeoutMs: number;
  private readonly events: EventSender;

  constructor(private readonly options: KubeWriterOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.events = new EventSender(options);
  }

  async getService(namespace: string, name: string, signal: AbortSignal): Promise<ServiceObject | undefined> {
    try {
      return await this.options.clients.core.readNamespacedService({ namespace, name }, this.control(signal));
    } catch (error) {
      if (apiStatusCode(error) === 404) return undefined;
      throw error;
    }
  }

  async replaceServiceStatus(service: ServiceObject, signal: AbortSignal): Promise<ServiceObject> {
    const namespace = service.metadata?.namespace ?? "";
    const name = service.metadata?.name ?? "";
    this.check(signal);
    try {
      return await this.options.clients.core.replaceNamespacedServiceStatus(
        // Timestamps may be strings (raw informer objects); the serializer passes them through.
        { namespace, name, body: service as V1Service },
        this.control(signal),
      );
    } catch (error) {
      throw translate(error, `${namespace}/${name}`);
    }
  }

  async patchServiceAnnotations(
    namespace: string,
    name: string,
    annotations: Readonly<Record<string, string | null>>,
    signal: AbortSignal,
  ): Promise<ServiceObject> {
    this.check(signal);
    try {
      return await this.options.clients.core.patchNamespacedService(
        { namespace, name, body: { metadata: { annotations } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch, this.control(signal)),
      );
    } catch (error) {
      throw translate(error, `${namespace}/${name}`);
    }
  }

  recordServiceEvent(service: ServiceObject, event: ServiceEvent): void {
    this.events.enqueue(service, event);
  }

  async patchPoolStatus(
    namespace: string,
    name: string,
    counts: PoolStatusCounts,
    signal: AbortSignal,
  ): Promise<void> {
    this.check(signal);
    // Exact int64 text: a JavaScript number would round the largest counts (see poolStatus.ts).
    const body = `{"status":${poolStatusJSON(counts)}}`;
    const options = withRawBody(
      body,
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch, this.control(signal)),
    );
    try {
      await this.options.clients.customObjects.patchNamespacedCustomObjectStatus(
        { group: API_GROUP, version: API_VERSION, plural: "ipaddresspools", namespace, name, body: {} },
        options,
      );
    } catch (error) {
      throw translate(error, `${namespace}/${name}`);
    }
  }

  private control(signal: AbortSignal): ConfigurationOptions {
    return requestOptions({ signal, timeoutMs: this.timeoutMs });
  }

  private check(signal: AbortSignal): void {
    if (signal.aborted)
      throw new WriteAbortedError("not writing: stopped (leadership lost or shutting down)");
  }
}

function translate(error: unknown, what: string): unknown {
  const status = apiStatusCode(error);
  if (status === 409)
    return new WriteConflictError(`${what}: the object changed (409 Conflict)`, { cause: error });
  if (status === 404) return new ObjectGoneError(`${what}: not found`, { cause: error });
  return error;
}

/** Replaces the request body with `text` (after the generated client serialised its own). */
function withRawBody(text: string, options: ConfigurationOptions): ConfigurationOptions {
  return {
    ...options,
    middleware: [
      ...(options.middleware ?? []),
      {
        pre: (context) => {
          context.setBody(text);
          return new Observable(Promise.resolve(context));
        },
        post: (response) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: "append",
  };
}

/**
 * Sends events.k8s.io/v1 Events in the background with bounded concurrency; a backlog beyond
 * `maxPendingEvents` drops the oldest (a burst of thousands of allocations must not hold the
 * reconcile loop or grow memory without bound). Once `signal` aborts nothing more is sent.
 */
class EventSender {
  private readonly pending: { service: ServiceObject; event: ServiceEvent }[] = [];
  private active = 0;
  private dropped = 0;
  private readonly max: number;
  private readonly concurrency: number;
  private readonly instance: string;

  constructor(private readonly options: KubeWriterOptions) {
    this.max = options.maxPendingEvents ?? 2000;
    this.concurrency = options.eventConcurrency ?? 2;
    this.instance = options.instance ?? process.env.POD_NAME ?? hostname();
  }

  enqueue(service: ServiceObject, event: ServiceEvent): void {
    if (this.options.signal.aborted) return;
    this.pending.push({ service, event });
    if (this.pending.length > this.max) {
      this.pending.shift();
      if (this.dropped++ % 1000 === 0)
        this.options.logger.warn({ dropped: this.dropped }, "Event backlog full; dropping Events");
    }
    this.pump();
  }

  private pump(): void {
    while (this.active < this.concurrency && this.pending.length > 0 && !this.options.signal.aborted) {
      const next = this.pending.shift();
      if (next === undefined) break;
      this.active++;
      void this.send(next.service, next.event).finally(() => {
        this.active--;
        this.pump();
      });
    }
  }

  private async send(service: ServiceObject, event: ServiceEvent): Promise<void> {
    const meta = service.metadata ?? {};
    const namespace = meta.namespace ?? "default";
    const body: EventsV1Event = {
      metadata: { name: eventName(meta.name ?? "service"), namespace },
      // MicroTime wants exactly six fractional digits; the serializer passes a string through.
      eventTime: microTime(new Date()) as unknown as Date,
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.instance,
      action: event.action,
      reason: event.reason,
      type: event.type,
      note: event.note.slice(0, 1024),
      regarding: {
        apiVersion: "v1",
        kind: "Service",
        namespace,
        name: meta.name ?? "",
        ...(meta.uid !== undefined && { uid: meta.uid }),
        ...(meta.resourceVersion !== undefined && { resourceVersion: meta.resourceVersion }),
      },
    };
    try {
      await this.options.clients.events.createNamespacedEvent(
        { namespace, body },
        requestOptions({ signal: this.options.signal, timeoutMs: 10_000 }),
      );
    } catch (error) {
      if (this.options.signal.aborted) return;
      this.options.logger.debug(
        { err: error, service: `${namespace}/${meta.name ?? ""}`, reason: event.reason },
        "could not record Event",
      );
    }
  }
}

/** A unique Event name after its object, as client-go makes them ("web.1a2b3c…"). */
function eventName(objectName: string): string {
  const suffix = `${Date.now().toString(16)}${Math.floor(Math.random() * 0x10000)
    .toString(16)
    .padStart(4, "0")}`;
  return `${objectName}.${suffix}`;
}

/** RFC 3339 with microseconds, as metav1.MicroTime parses it. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}
