import type { KubernetesObject } from "@kubernetes/client-node";
import { Backoff, type BackoffPolicy } from "../runtime/backoff.js";
import { sleep, systemClock, type Clock, type TimerHandle } from "../runtime/clock.js";
import type { Logger } from "../runtime/logger.js";
import { apiStatusCode } from "./client.js";
import type { ListWatchClient, WatchEvent } from "./listWatch.js";
import { collectionPath, describeResource, objectKey, type ResourceRef } from "./resource.js";

/**
 * Reactions to cache changes. They must only record that something changed (enqueue a key):
 * they run inside the informer's event delivery, so slow work would stall every later event.
 * A handler that throws (or returns a rejected promise) is logged and ignored.
 */
export interface InformerHandlers<T> {
  onAdd?(object: T): void;
  /** Also called with oldObject === newObject on every periodic resync. */
  onUpdate?(oldObject: T, newObject: T): void;
  /** `object` is the last state seen (after a relist, the last cached state). */
  onDelete?(object: T): void;
}

export type InformerState = "idle" | "listing" | "watching" | "backoff" | "absent" | "stopped";

export interface InformerOptions<T extends KubernetesObject> {
  readonly resource: ResourceRef;
  readonly client: ListWatchClient;
  /** Only this namespace (namespaced resources); default all namespaces. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly handlers?: InformerHandlers<T>;
  /** Call onUpdate(obj, obj) for every cached object this often; default never. */
  readonly resyncPeriodMs?: number;
  /**
   * For resources that may not exist, such as metallb.io CRs whose CRDs may not be installed:
   * a 404 on the list means "not served", the cache is empty and counts as synced, and the
   * informer looks again every `optionalRecheckMs` (default 60 s). If the CRD disappears later,
   * the cached objects are deleted (handlers see onDelete) and the informer waits again.
   */
  readonly optional?: boolean;
  readonly optionalRecheckMs?: number;
  /** Restart backoff after failures; default 500 ms doubling to 30 s, ±50 % jitter. */
  readonly backoff?: BackoffPolicy;
  /** List page size; default 500. */
  readonly pageSize?: number;
  /** Server-side watch timeout; default a random 300–600 s per watch, as client-go does. */
  readonly watchTimeoutSeconds?: number;
  /** Turn a raw JSON object into T (e.g. to check its shape); default: used as is. */
  readonly decode?: (raw: KubernetesObject) => T;
  /** Called with every list/watch failure (for an API-errors metric). Must not throw. */
  readonly onError?: (error: unknown) => void;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly random?: () => number;
}

export class InformerError extends Error {
  override readonly name = "InformerError";
  readonly code = "ERR_INFORMER";
}

const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000, multiplier: 2, jitter: 0.5 };
/** A watch that ends sooner than this without any event counts as a failure for backoff. */
const HEALTHY_WATCH_MS = 1000;

/**
 * A list+watch cache of one resource type with a supervisor: any failure (API server down,
 * RBAC, a broken stream, 410 Gone) is followed by a jittered backoff and a resumed watch or a
 * relist; it never stops until its signal aborts. The cache survives restarts, so get() and
 * list() keep answering from the last known state while the API server is away.
 */
export class Informer<T extends KubernetesObject = KubernetesObject> {
  private cache = new Map<string, T>();
  private resourceVersion = "";
  private synced = false;
  private absent = false;
  private running = false;
  private currentState: InformerState = "idle";
  private failure: unknown;
  private restartCount = 0;
  private readonly handlerSets: InformerHandlers<T>[] = [];
  private syncWaiters: (() => void)[] = [];
  private readonly path: string;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly backoff: Backoff;
  private readonly decode: (raw: KubernetesObject) => T;
  private readonly logger: Logger | undefined;

  constructor(private readonly options: InformerOptions<T>) {
    if (options.namespace !== undefined && !options.resource.namespaced) {
      throw new InformerError(
        `${describeResource(options.resource)} is cluster-scoped; namespace not allowed`,
      );
    }
    this.path = collectionPath(options.resource, options.namespace);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.backoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF, {
      clock: this.clock,
      random: this.random,
    });
    this.decode = options.decode ?? ((raw) => raw as T);
    this.logger = options.logger?.child({ resource: describeResource(options.resource) });
    if (options.handlers !== undefined) this.handlerSets.push(options.handlers);
  }

  /** Add handlers; objects already cached are replayed to them as adds. Returns a remover. */
  addHandlers(handlers: InformerHandlers<T>): () => void {
    this.handlerSets.push(handlers);
    for (const object of this.cache.values()) this.invoke(handlers, "onAdd", object);
    return () => {
      const index = this.handlerSets.indexOf(handlers);
      if (index >= 0) this.handlerSets.splice(index, 1);
    };
  }

  /** Run in the background until `signal` aborts. */
  start(signal: AbortSignal): void {
    void this.run(signal);
  }

  /** Run until `signal` aborts. Never rejects (failures are retried, not thrown). */
  async run(signal: AbortSignal): Promise<void> {
    if (this.running) throw new InformerError(`informer for ${this.path} is already running`);
    this.running = true;
    const resync = this.startResync(signal);
    try {
      await this.supervise(signal);
    } finally {
      if (resync !== undefined) this.clock.clearTimeout(resync.handle());
      this.running = false;
      this.currentState = "stopped";
    }
  }

  /** True once the first list has been applied (or, for an optional resource, found absent). */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true when synced, false if `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (signal?.aborted === true) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.syncWaiters = this.syncWaiters.filter((w) => w !== onSynced);
        resolve(false);
      };
      const onSynced = (): void => {
        signal?.removeEventListener("abort", onAbort);
        resolve(true);
      };
      this.syncWaiters.push(onSynced);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Cached objects, optionally of one namespace. */
  list(namespace?: string): T[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  /** The cached object with key "namespace/name" (or "name" when cluster-scoped). */
  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  keys(): string[] {
    return [...this.cache.keys()];
  }

  size(): number {
    return this.cache.size;
  }

  state(): InformerState {
    return this.currentState;
  }

  /** The last list/watch failure, if any. */
  lastError(): unknown {
    return this.failure;
  }

  /** How many times the informer backed off and restarted after a failure. */
  restarts(): number {
    return this.restartCount;
  }

  /** The resourceVersion the next watch resumes from ("" = relist). */
  lastResourceVersion(): string {
    return this.resourceVersion;
  }

  private async supervise(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let watchStartedAt: number | undefined;
      let eventsSeen = 0;
      let failed: unknown;
      let gone = false;
      try {
        if (this.resourceVersion === "") {
          this.currentState = "listing";
          const listed = await this.listAll(signal);
          if (isAborted(signal)) break;
          if (listed === "absent") {
            this.becomeAbsent();
            await sleep(this.clock, this.options.optionalRecheckMs ?? 60_000, signal);
            continue;
          }
          if (this.absent) this.logger?.info("resource is served now");
          this.absent = false;
          this.replace(listed.items);
          this.resourceVersion = listed.resourceVersion;
          this.markSynced();
        }
        this.currentState = "watching";
        watchStartedAt = this.clock.now();
        await this.options.client.watch(
          this.path,
          {
            resourceVersion: this.resourceVersion,
            timeoutSeconds: this.options.watchTimeoutSeconds ?? Math.floor(300 + this.random() * 300),
            labelSelector: this.options.labelSelector,
            fieldSelector: this.options.fieldSelector,
          },
          (event) => {
            eventsSeen++;
            this.apply(event);
          },
          signal,
        );
      } catch (error) {
        if (isAborted(signal)) break;
        const status = apiStatusCode(error);
        if (status === 410) {
          // Our resourceVersion is older than etcd keeps: relist (cache diffed, not dropped).
          gone = true;
          this.resourceVersion = "";
        } else {
          failed = error;
          // 404 on a watch: the type went away (CRD deleted); relist to find out.
          if (status === 404 && watchStartedAt !== undefined) this.resourceVersion = "";
        }
      }
      if (isAborted(signal)) break;
      const quick =
        watchStartedAt === undefined ||
        (this.clock.now() - watchStartedAt < HEALTHY_WATCH_MS && eventsSeen === 0);
      if (failed !== undefined) {
        this.recordFailure(failed);
        if (!quick) this.backoff.reset();
        this.currentState = "backoff";
        await this.backoff.wait(signal);
      } else if (quick) {
        // A watch that ends at once (or 410s at once) must not turn into a hot loop.
        this.currentState = "backoff";
        await this.backoff.wait(signal);
      } else {
        this.backoff.reset();
        if (gone) this.logger?.debug("watch expired (410 Gone); relisting");
      }
    }
  }

  private async listAll(
    signal: AbortSignal,
  ): Promise<{ items: KubernetesObject[]; resourceVersion: string } | "absent"> {
    const selectors = {
      labelSelector: this.options.labelSelector,
      fieldSelector: this.options.fieldSelector,
    };
    const items: KubernetesObject[] = [];
    let continueToken: string | undefined;
    try {
      for (;;) {
        const page = await this.options.client.list(
          this.path,
          { ...selectors, limit: this.options.pageSize ?? 500, continue: continueToken },
          signal,
        );
        items.push(...page.items);
        if (page.continue === undefined) return { items, resourceVersion: page.resourceVersion };
        continueToken = page.continue;
      }
    } catch (error) {
      const status = apiStatusCode(error);
      if (status === 404 && this.options.optional === true) return "absent";
      if (status === 410 && continueToken !== undefined) {
        // The continue token expired between pages: take one unpaged, consistent list instead.
        const page = await this.options.client.list(this.path, selectors, signal);
        return { items: page.items, resourceVersion: page.resourceVersion };
      }
      throw error;
    }
  }

  private apply(event: WatchEvent): void {
    const version = event.object.metadata?.resourceVersion;
    if (event.type === "BOOKMARK") {
      if (version !== undefined) this.resourceVersion = version;
      return;
    }
    const object = this.decode(event.object);
    const key = objectKey(object);
    const previous = this.cache.get(key);
    if (event.type === "DELETED") {
      this.cache.delete(key);
      this.emit("onDelete", object);
    } else {
      this.cache.set(key, object);
      if (previous === undefined) this.emit("onAdd", object);
      else if (!sameVersion(previous, object)) this.emitUpdate(previous, object);
    }
    if (version !== undefined) this.resourceVersion = version;
  }

  /** Make the cache equal to a fresh list, telling handlers what changed since the last one. */
  private replace(rawItems: readonly KubernetesObject[]): void {
    const next = new Map<string, T>();
    for (const raw of rawItems) {
      const object = this.decode(raw);
      next.set(objectKey(object), object);
    }
    const previous = this.cache;
    this.cache = next;
    for (const [key, object] of next) {
      const old = previous.get(key);
      if (old === undefined) this.emit("onAdd", object);
      else if (!sameVersion(old, object)) this.emitUpdate(old, object);
    }
    for (const [key, old] of previous) if (!next.has(key)) this.emit("onDelete", old);
  }

  private becomeAbsent(): void {
    if (!this.absent) this.logger?.info("resource not served (404); will check again later");
    this.absent = true;
    this.currentState = "absent";
    this.replace([]);
    this.resourceVersion = "";
    this.markSynced();
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private recordFailure(error: unknown): void {
    this.failure = error;
    this.restartCount++;
    this.logger?.warn(
      { err: error, restarts: this.restartCount },
      "list/watch failed; restarting with backoff",
    );
    try {
      this.options.onError?.(error);
    } catch {
      // An observer must not break the supervisor.
    }
  }

  private startResync(signal: AbortSignal): { handle(): TimerHandle } | undefined {
    const period = this.options.resyncPeriodMs;
    if (period === undefined || period <= 0) return undefined;
    let handle: TimerHandle;
    const tick = (): void => {
      if (signal.aborted) return;
      if (this.synced && !this.absent) {
        for (const object of this.cache.values()) this.emitUpdate(object, object);
      }
      handle = this.clock.setTimeout(tick, period);
    };
    handle = this.clock.setTimeout(tick, period);
    return { handle: () => handle };
  }

  private emit(kind: "onAdd" | "onDelete", object: T): void {
    for (const handlers of this.handlerSets) this.invoke(handlers, kind, object);
  }

  private emitUpdate(oldObject: T, newObject: T): void {
    for (const handlers of this.handlerSets) {
      this.guard(() => handlers.onUpdate?.(oldObject, newObject));
    }
  }

  private invoke(handlers: InformerHandlers<T>, kind: "onAdd" | "onDelete", object: T): void {
    this.guard(() => handlers[kind]?.(object));
  }

  /** Run a handler so that neither a throw nor a rejected promise escapes. */
  private guard(call: () => unknown): void {
    try {
      const result = call();
      if (result instanceof Promise) {
        result.catch((error: unknown) => {
          this.logger?.error({ err: error }, "informer handler failed");
        });
      }
    } catch (error) {
      this.logger?.error({ err: error }, "informer handler failed");
    }
  }
}

/** Reads the flag through a call, so the compiler does not assume it is unchanged by awaits. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

function sameVersion(a: KubernetesObject, b: KubernetesObject): boolean {
  const version = a.metadata?.resourceVersion;
  return version !== undefined && version === b.metadata?.resourceVersion;
}

/** Resolves true when every informer has synced, false if `signal` aborts first. */
export async function waitForCacheSync(
  informers: readonly Pick<Informer, "waitForSync">[],
  signal?: AbortSignal,
): Promise<boolean> {
  const results = await Promise.all(informers.map((i) => i.waitForSync(signal)));
  return results.every(Boolean);
}
