/**
 * An in-memory stand-in for the API server and informer caches behind ControllerCore: Services
 * with resourceVersions (a stale write gets a conflict), status and annotation writes applied to
 * the stored object, Events recorded, and a queue drained by calling reconcile.
 */
import type { Labels } from "../../../src/api/labelSelector.js";
import { ControllerCore, type ControllerCoreOptions } from "../../../src/controller/core.js";
import type { CustomObject, ServiceObject } from "../../../src/controller/objects.js";
import { objectKey } from "../../../src/controller/objects.js";
import type { PoolStatusCounts } from "../../../src/controller/poolStatus.js";
import {
  ObjectGoneError,
  WriteConflictError,
  type ControllerCaches,
  type ControllerWriter,
  type KeyQueue,
} from "../../../src/controller/ports.js";
import type { ServiceEvent } from "../../../src/controller/serviceState.js";
import { createLogger } from "../../../src/runtime/logger.js";

export class FakeCluster implements ControllerCaches, ControllerWriter, KeyQueue {
  readonly servicesByKey = new Map<string, ServiceObject>();
  readonly namespaces = new Map<string, Labels>();
  ironlb: CustomObject[] = [];
  metallb: CustomObject[] = [];
  readonly events: { service: string; event: ServiceEvent }[] = [];
  readonly poolStatus = new Map<string, PoolStatusCounts>();
  readonly queued = new Set<string>();
  readonly delayed = new Set<string>();
  /** Number of status writes and annotation patches, to check that settled Services cost nothing. */
  writes = 0;
  private version = 1;
  /** When set, the cache returns this stale copy for the key (to provoke a conflict). */
  readonly staleCache = new Map<string, ServiceObject>();
  /** Every version each Service had, oldest first (to serve a lagging cache). */
  readonly versions = new Map<string, ServiceObject[]>();

  // ── test helpers ──
  put(svc: ServiceObject): void {
    const key = objectKey(svc);
    this.servicesByKey.set(key, this.bump(svc));
  }

  remove(key: string): void {
    this.servicesByKey.delete(key);
  }

  /** The stored Service; `key` is "namespace/name" or "name" in namespace default. */
  get(key: string): ServiceObject {
    const svc = this.servicesByKey.get(key.includes("/") ? key : `default/${key}`);
    if (svc === undefined) throw new Error(`no Service ${key}`);
    return svc;
  }

  ips(key: string): string[] {
    return (this.get(key).status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? "");
  }

  private bump(svc: ServiceObject): ServiceObject {
    this.version++;
    const next = { ...svc, metadata: { ...svc.metadata, resourceVersion: String(this.version) } };
    const key = objectKey(svc);
    this.versions.set(key, [...(this.versions.get(key) ?? []), next]);
    return next;
  }

  // ── ControllerCaches ──
  service(key: string): ServiceObject | undefined {
    return this.staleCache.get(key) ?? this.servicesByKey.get(key);
  }
  services(): Iterable<ServiceObject> {
    return [...this.servicesByKey.values()];
  }
  namespaceLabels(namespace: string): Labels {
    return this.namespaces.get(namespace) ?? {};
  }
  configObjects() {
    return { ironlb: this.ironlb, metallb: this.metallb };
  }
  ipAddressPool(name: string): CustomObject | undefined {
    const obj = this.ironlb.find((o) => o.kind === "IPAddressPool" && o.metadata?.name === name);
    if (obj === undefined) return undefined;
    const status = this.poolStatus.get(name);
    return status === undefined
      ? obj
      : { ...obj, status: Object.fromEntries(Object.entries(status).map(([k, v]) => [k, Number(v)])) };
  }

  // ── ControllerWriter ──
  getService(namespace: string, name: string): Promise<ServiceObject | undefined> {
    this.staleCache.delete(`${namespace}/${name}`);
    return Promise.resolve(this.servicesByKey.get(`${namespace}/${name}`));
  }
  replaceServiceStatus(svc: ServiceObject): Promise<ServiceObject> {
    const key = objectKey(svc);
    const stored = this.servicesByKey.get(key);
    if (stored === undefined) return Promise.reject(new ObjectGoneError(key));
    if (stored.metadata?.resourceVersion !== svc.metadata?.resourceVersion) {
      return Promise.reject(new WriteConflictError(key));
    }
    this.writes++;
    const next = this.bump({ ...stored, status: svc.status });
    this.servicesByKey.set(key, next);
    return Promise.resolve(next);
  }
  patchServiceAnnotations(
    namespace: string,
    name: string,
    patch: Readonly<Record<string, string | null>>,
  ): Promise<ServiceObject> {
    const key = `${namespace}/${name}`;
    const stored = this.servicesByKey.get(key);
    if (stored === undefined) return Promise.reject(new ObjectGoneError(key));
    this.writes++;
    const merged = { ...stored.metadata?.annotations, ...patch };
    const annotations = Object.fromEntries(
      Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== null),
    );
    const next = this.bump({ ...stored, metadata: { ...stored.metadata, annotations } });
    this.servicesByKey.set(key, next);
    return Promise.resolve(next);
  }
  recordServiceEvent(svc: ServiceObject, event: ServiceEvent): void {
    this.events.push({ service: objectKey(svc), event });
  }
  patchPoolStatus(_namespace: string, name: string, counts: PoolStatusCounts): Promise<void> {
    this.poolStatus.set(name, counts);
    return Promise.resolve();
  }

  // ── KeyQueue ──
  add(key: string): void {
    this.queued.add(key);
  }
  addAfter(key: string): void {
    this.delayed.add(key);
  }

  /** A core for one term, started (existing assignments loaded). */
  startCore(options: Partial<ControllerCoreOptions> = {}): ControllerCore {
    const core = new ControllerCore({
      namespace: "ironlb-system",
      caches: this,
      writer: this,
      queue: this,
      logger: createLogger({ level: "silent" }),
      now: () => new Date("2026-03-01T12:00:00Z"),
      ...options,
    });
    core.start();
    return core;
  }

  /** Reconciles queued keys (delayed ones too) until nothing is left. */
  async drain(core: ControllerCore, signal = new AbortController().signal): Promise<void> {
    for (let rounds = 0; this.queued.size + this.delayed.size > 0; rounds++) {
      if (rounds > 10_000) throw new Error("queue does not drain");
      const next = this.queued.size > 0 ? this.queued : this.delayed;
      const key = next.values().next().value as string;
      next.delete(key);
      await core.reconcile(key, signal);
    }
  }
}
