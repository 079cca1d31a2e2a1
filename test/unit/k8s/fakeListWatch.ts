import type { KubernetesObject } from "@kubernetes/client-node";
import {
  KubeHttpError,
  type ListPage,
  type ListQuery,
  type ListWatchClient,
  type WatchEvent,
  type WatchQuery,
} from "../../../src/k8s/listWatch.js";
import { objectKey } from "../../../src/k8s/resource.js";

interface ActiveWatch {
  readonly query: WatchQuery;
  readonly onEvent: (event: WatchEvent) => void;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * An in-memory stand-in for one collection on the API server: objects with resourceVersions,
 * paginated lists, watches that receive changes, and knobs to make calls fail.
 */
export class FakeListWatch implements ListWatchClient {
  private readonly objects = new Map<string, KubernetesObject>();
  private version = 100;
  private active: ActiveWatch | undefined;
  /** Whether the resource type is served (false: every call answers 404). */
  served = true;
  /** Errors thrown by the next list calls, in order. */
  readonly listFailures: Error[] = [];
  /** Errors thrown by the next watch calls at once, in order. */
  readonly watchFailures: Error[] = [];
  /** The continue token expires after this many pages (410 on the next page). */
  expireContinueAfterPages: number | undefined;
  readonly listCalls: ListQuery[] = [];
  readonly watchCalls: WatchQuery[] = [];

  put(name: string, namespace?: string, data: Record<string, unknown> = {}): KubernetesObject {
    const metadata = { name, resourceVersion: String(++this.version), ...(namespace ? { namespace } : {}) };
    const object = wire({ apiVersion: "v1", kind: "Thing", metadata, ...data });
    const key = objectKey(object);
    const existed = this.objects.has(key);
    this.objects.set(key, object);
    this.active?.onEvent({ type: existed ? "MODIFIED" : "ADDED", object });
    return object;
  }

  remove(key: string): void {
    const object = this.objects.get(key);
    if (object === undefined) throw new Error(`no ${key}`);
    this.objects.delete(key);
    const deleted = structuredClone(object);
    if (deleted.metadata !== undefined) deleted.metadata.resourceVersion = String(++this.version);
    this.active?.onEvent({ type: "DELETED", object: deleted });
  }

  /** Change objects without telling the current watch (as if events were missed). */
  silently(change: () => void): void {
    const watch = this.active;
    this.active = undefined;
    change();
    this.active = watch;
  }

  bookmark(): void {
    this.active?.onEvent({
      type: "BOOKMARK",
      object: wire({ kind: "Thing", metadata: { resourceVersion: String(++this.version) } }),
    });
  }

  watching(): boolean {
    return this.active !== undefined;
  }

  /** End the current watch cleanly (server-side timeout). */
  endWatch(): void {
    const watch = this.active;
    this.active = undefined;
    watch?.resolve();
  }

  /** Break the current watch with `error`. */
  failWatch(error: Error): void {
    const watch = this.active;
    this.active = undefined;
    watch?.reject(error);
  }

  currentVersion(): string {
    return String(this.version);
  }

  list(_path: string, query: ListQuery, signal: AbortSignal): Promise<ListPage> {
    this.listCalls.push(query);
    if (signal.aborted) return Promise.reject(new Error("aborted"));
    const failure = this.listFailures.shift();
    if (failure !== undefined) return Promise.reject(failure);
    if (!this.served) return Promise.reject(new KubeHttpError(404, "the server could not find the resource"));
    const all = [...this.objects.values()];
    const start = query.continue === undefined ? 0 : Number(query.continue);
    const page = query.continue === undefined ? 0 : start / (query.limit ?? 1);
    if (this.expireContinueAfterPages !== undefined && query.continue !== undefined) {
      if (page >= this.expireContinueAfterPages) {
        return Promise.reject(new KubeHttpError(410, "continue token expired", "Expired"));
      }
    }
    const end = query.limit === undefined ? all.length : Math.min(all.length, start + query.limit);
    return Promise.resolve({
      items: all.slice(start, end).map((o) => structuredClone(o)),
      resourceVersion: this.currentVersion(),
      continue: end < all.length ? String(end) : undefined,
    });
  }

  watch(
    _path: string,
    query: WatchQuery,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    this.watchCalls.push(query);
    const failure = this.watchFailures.shift();
    if (failure !== undefined) return Promise.reject(failure);
    if (!this.served) return Promise.reject(new KubeHttpError(404, "not found"));
    return new Promise<void>((resolve, reject) => {
      const watch: ActiveWatch = { query, onEvent, resolve, reject };
      this.active = watch;
      signal.addEventListener("abort", () => {
        if (this.active === watch) this.active = undefined;
        resolve();
      });
    });
  }
}

/** An object as it arrives over the wire: plain JSON, not client-node class instances. */
function wire(value: object): KubernetesObject {
  return value;
}
