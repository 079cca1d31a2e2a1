/**
 * Keeps this node's BGP status objects of one kind equal to the latest desired list:
 * level-triggered (each pass lists the node's objects and plans the writes), one pass at a time,
 * a failed pass retried with backoff. Status is information, never on the data path: nothing here
 * blocks a session or an advertisement. The API calls themselves live in one small adapter per
 * kind (bgpSessionStateApi.ts, bgpServiceStatusApi.ts) built with `customObjectStatusApi`.
 */
import { linkedSignal } from "../runtime/abort.js";
import { Backoff } from "../runtime/backoff.js";
import { systemClock, type Clock, type TimerHandle } from "../runtime/clock.js";
import type { Logger } from "../runtime/logger.js";
import { planObjectWrites, type DesiredObject, type ExistingObject } from "./bgpStatus.js";

export interface ObjectStatusApi<S> {
  /** This node's objects of the kind. */
  list(signal: AbortSignal): Promise<readonly ExistingObject[]>;
  /** Creates the object and sets its status; resolves also when it exists already. */
  create(desired: DesiredObject<S>, signal: AbortSignal): Promise<void>;
  updateStatus(desired: DesiredObject<S>, resourceVersion: string, signal: AbortSignal): Promise<void>;
  /** Resolves also when it is gone already. */
  delete(name: string, signal: AbortSignal): Promise<void>;
}

export interface ObjectStatusSyncOptions<S> {
  readonly kind: string;
  readonly api: ObjectStatusApi<S>;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Bound of each API call; default 10 s. */
  readonly callTimeoutMs?: number;
}

export class ObjectStatusSync<S> {
  private desired: readonly DesiredObject<S>[] | undefined;
  private running = false;
  private dirty = false;
  private stopped = false;
  private retryTimer: TimerHandle | undefined;
  private idleWaiters: (() => void)[] = [];
  private readonly abort = new AbortController();
  private readonly clock: Clock;
  private readonly backoff: Backoff;

  constructor(private readonly options: ObjectStatusSyncOptions<S>) {
    this.clock = options.clock ?? systemClock;
    this.backoff = new Backoff({ initialMs: 500, maxMs: 30_000 }, { clock: this.clock });
  }

  desire(objects: readonly DesiredObject<S>[]): void {
    this.desired = objects;
    this.kick();
  }

  kick(): void {
    if (this.stopped || this.desired === undefined) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    if (this.retryTimer !== undefined) return;
    void this.pass();
  }

  /** Resolves when no pass is running or waiting to retry. */
  idle(): Promise<void> {
    if (!this.running && this.retryTimer === undefined) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    if (this.retryTimer !== undefined) this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.wakeIdle();
  }

  private async pass(): Promise<void> {
    this.running = true;
    this.dirty = false;
    let ok = false;
    try {
      ok = await this.writeOnce();
    } finally {
      this.running = false;
    }
    if (this.isStopped()) {
      this.wakeIdle();
      return;
    }
    if (!ok) {
      this.retryTimer = this.clock.setTimeout(() => {
        this.retryTimer = undefined;
        this.kick();
        this.wakeIdle();
      }, this.backoff.nextDelay());
      return;
    }
    this.backoff.reset();
    if (this.changedDuringPass()) {
      void this.pass();
      return;
    }
    this.wakeIdle();
  }

  private async call<T>(
    what: string,
    name: string,
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T | Error> {
    const bounded = linkedSignal(this.abort.signal, {
      timeoutMs: this.options.callTimeoutMs ?? 10_000,
      clock: this.clock,
    });
    try {
      return await run(bounded.signal);
    } catch (error) {
      if (!this.stopped)
        this.options.logger?.warn({ err: error, object: name }, `cannot ${what} ${this.options.kind}`);
      return error instanceof Error ? error : new Error(String(error));
    } finally {
      bounded.dispose();
    }
  }

  /** One pass; true when every call succeeded. */
  private async writeOnce(): Promise<boolean> {
    const { api } = this.options;
    const existing = await this.call("list", "*", (signal) => api.list(signal));
    if (existing instanceof Error) return false;
    const writes = planObjectWrites(existing, this.desired ?? []);
    let ok = true;
    const track = (result: unknown): void => {
      if (result instanceof Error) ok = false;
    };
    for (const d of writes.create)
      track(await this.call("create", d.name, (signal) => api.create(d, signal)));
    for (const u of writes.update) {
      track(
        await this.call("update", u.desired.name, (signal) =>
          api.updateStatus(u.desired, u.resourceVersion, signal),
        ),
      );
    }
    for (const name of writes.delete)
      track(await this.call("delete", name, (signal) => api.delete(name, signal)));
    return ok;
  }

  private isStopped(): boolean {
    return this.stopped;
  }

  private changedDuringPass(): boolean {
    return this.dirty;
  }

  private wakeIdle(): void {
    if (this.running || this.retryTimer !== undefined) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}

export interface StatusOwnerRef {
  readonly name: string;
  readonly uid: string;
}

/** The calls one kind's adapter makes (each a single CustomObjectsApi call). */
export interface CustomObjectCalls {
  list(labelSelector: string, signal: AbortSignal): Promise<unknown>;
  create(body: Record<string, unknown>, signal: AbortSignal): Promise<unknown>;
  replaceStatus(name: string, body: Record<string, unknown>, signal: AbortSignal): Promise<unknown>;
  delete(name: string, signal: AbortSignal): Promise<unknown>;
}

export interface CustomObjectStatusOptions {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  /** Selects this node's objects. */
  readonly labelSelector: string;
  /** This node's Node, owner of the objects (they go with it), when known. */
  readonly owner: () => StatusOwnerRef | undefined;
  readonly isConflict: (error: unknown) => boolean;
  readonly isNotFound: (error: unknown) => boolean;
}

/**
 * An ObjectStatusApi over custom objects with a status subresource: create sends the object (the
 * API drops status on create), then its status is written.
 */
export function customObjectStatusApi<S>(
  options: CustomObjectStatusOptions,
  calls: CustomObjectCalls,
): ObjectStatusApi<S> {
  const body = (d: DesiredObject<S>, resourceVersion?: string): Record<string, unknown> => {
    const owner = options.owner();
    return {
      apiVersion: options.apiVersion,
      kind: options.kind,
      metadata: {
        name: d.name,
        namespace: options.namespace,
        labels: d.labels,
        ...(resourceVersion === undefined ? {} : { resourceVersion }),
        ...(owner === undefined
          ? {}
          : { ownerReferences: [{ apiVersion: "v1", kind: "Node", name: owner.name, uid: owner.uid }] }),
      },
      spec: {},
      status: d.status,
    };
  };
  return {
    async list(signal) {
      try {
        const result = (await calls.list(options.labelSelector, signal)) as { items?: ExistingObject[] };
        return result.items ?? [];
      } catch (error) {
        // Without the CRD there is nothing of ours to clean up (and nothing to write until it comes).
        if (options.isNotFound(error)) return [];
        throw error;
      }
    },
    async create(d, signal) {
      let resourceVersion: string | undefined;
      try {
        const created = (await calls.create(body(d), signal)) as { metadata?: { resourceVersion?: string } };
        resourceVersion = created.metadata?.resourceVersion;
      } catch (error) {
        // Created meanwhile (a previous pass that timed out): the next pass updates it.
        if (options.isConflict(error)) return;
        throw error;
      }
      await calls.replaceStatus(d.name, body(d, resourceVersion), signal);
    },
    async updateStatus(d, resourceVersion, signal) {
      await calls.replaceStatus(d.name, body(d, resourceVersion), signal);
    },
    async delete(name, signal) {
      try {
        await calls.delete(name, signal);
      } catch (error) {
        if (!options.isNotFound(error)) throw error;
      }
    },
  };
}
