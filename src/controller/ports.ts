/**
 * The controller core's edges: what it reads (informer caches) and what it writes (the API).
 * The Kubernetes adapter implements them with client-node; unit tests with in-memory fakes.
 */
import type { Labels } from "../api/labelSelector.js";
import type { ConfigObjects } from "./configSource.js";
import type { CustomObject, ServiceObject } from "./objects.js";
import type { PoolStatusCounts } from "./poolStatus.js";
import type { ServiceEvent } from "./serviceState.js";

/** Read access to the informer caches. */
export interface ControllerCaches {
  /** The Service "namespace/name", or undefined when it does not exist. */
  service(key: string): ServiceObject | undefined;
  services(): Iterable<ServiceObject>;
  /** Labels of a namespace; empty when unknown. */
  namespaceLabels(namespace: string): Labels;
  configObjects(): ConfigObjects;
  /** The ironlb.io IPAddressPool of that name in the controller's namespace. */
  ipAddressPool(name: string): CustomObject | undefined;
}

/** Writes to the API. Every call checks `signal` first: once it aborts, nothing more is written. */
export interface ControllerWriter {
  /** A fresh read (after a conflict); undefined when the Service is gone. */
  getService(namespace: string, name: string, signal: AbortSignal): Promise<ServiceObject | undefined>;
  /**
   * Replaces the Service's status through the status subresource, conditional on the object's
   * resourceVersion. Throws WriteConflictError on 409, ObjectGoneError on 404.
   */
  replaceServiceStatus(service: ServiceObject, signal: AbortSignal): Promise<ServiceObject>;
  /**
   * Merge-patches metadata.annotations (null removes); resolves to the Service as patched.
   * Throws ObjectGoneError on 404.
   */
  patchServiceAnnotations(
    namespace: string,
    name: string,
    annotations: Readonly<Record<string, string | null>>,
    signal: AbortSignal,
  ): Promise<ServiceObject>;
  /** Records an Event about the Service; best effort (never throws). */
  recordServiceEvent(service: ServiceObject, event: ServiceEvent): void;
  /** Merge-patches IPAddressPool status through its status subresource. */
  patchPoolStatus(
    namespace: string,
    name: string,
    counts: PoolStatusCounts,
    signal: AbortSignal,
  ): Promise<void>;
}

/** The work queue as the core sees it. */
export interface KeyQueue {
  add(key: string): void;
  addAfter(key: string, delayMs: number): void;
}

export class WriteConflictError extends Error {
  override readonly name = "WriteConflictError";
  readonly code = "WRITE_CONFLICT";
}

export class ObjectGoneError extends Error {
  override readonly name = "ObjectGoneError";
  readonly code = "OBJECT_GONE";
}

/** Thrown by writers when asked to write after leadership (or the process) ended. */
export class WriteAbortedError extends Error {
  override readonly name = "WriteAbortedError";
  readonly code = "WRITE_ABORTED";
}
