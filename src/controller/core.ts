/**
 * The controller's reconcile logic, free of Kubernetes client code: it reads the informer caches
 * through ControllerCaches, decides with the pure allocator and planners, and writes through
 * ControllerWriter. One ControllerCore serves one leadership term: it starts by loading every
 * existing assignment (restart safety) before anything new is allocated.
 */
import type { IronLBConfig } from "../api/configTypes.js";
import { Allocator } from "../ipam/allocator.js";
import type { AllocationFailureCode } from "../ipam/reasons.js";
import { serviceKey as requestKey, type ServiceRequest } from "../ipam/service.js";
import type { Logger } from "../runtime/logger.js";
import type { ReconcileResult } from "../runtime/workers.js";
import { assembleConfig, ConfigTracker } from "./configSource.js";
import { parseWorkKey, poolWorkKey, serviceWorkKey } from "./keys.js";
import { objectKey, type ServiceObject } from "./objects.js";
import { poolStatusCounts, poolStatusDiffers } from "./poolStatus.js";
import {
  ObjectGoneError,
  WriteAbortedError,
  WriteConflictError,
  type ControllerCaches,
  type ControllerWriter,
  type KeyQueue,
} from "./ports.js";
import { interpretService, type NotOursReason, type ServiceClassOptions } from "./serviceRequest.js";
import {
  desiredForOutcome,
  desiredWhenNotOurs,
  ingressIPs,
  planService,
  type AllocationOutcome,
  type DesiredServiceState,
} from "./serviceState.js";

export interface CoreMetrics {
  allocationFailure(code: AllocationFailureCode): void;
  configStale(stale: boolean): void;
}

export interface ControllerCoreOptions extends ServiceClassOptions {
  /** The namespace of IronLB's configuration objects. */
  readonly namespace: string;
  readonly caches: ControllerCaches;
  readonly writer: ControllerWriter;
  readonly queue: KeyQueue;
  readonly logger: Logger;
  readonly metrics?: CoreMetrics;
  /** Wall clock for condition timestamps. */
  readonly now?: () => Date;
  /** Delay that batches IPAddressPool status writes; default 1 s. */
  readonly poolStatusDelayMs?: number;
  /** Shared across terms so a rejected configuration is not re-validated every term. */
  readonly configTracker?: ConfigTracker;
}

export interface LoadSummary {
  /** Services whose existing addresses were loaded into the allocator. */
  readonly loaded: number;
  /** Services whose existing addresses could not be kept (they are re-allocated by reconcile). */
  readonly rejected: readonly {
    readonly service: string;
    readonly ips: readonly string[];
    readonly reason: string;
  }[];
}

/** Attempts at one Service write before the key goes back to the queue with backoff. */
const MAX_CONFLICT_RETRIES = 5;

export class ControllerCore {
  private readonly allocator = new Allocator();
  private readonly tracker: ConfigTracker;
  private config: IronLBConfig | undefined;
  /** Services whose last allocation failed: retried whenever addresses are freed. */
  private readonly waiting = new Set<string>();
  /**
   * Per Service, the resourceVersions our own last writes made obsolete. The informer cache lags
   * behind a write; a cached object at one of these versions is older than what we wrote, and
   * writing from it again would only repeat the write (or conflict). Its update event follows.
   */
  private readonly superseded = new Map<string, ReadonlySet<string>>();
  private readonly now: () => Date;
  private readonly poolStatusDelayMs: number;
  private started = false;

  constructor(private readonly options: ControllerCoreOptions) {
    this.tracker = options.configTracker ?? new ConfigTracker();
    this.now = options.now ?? (() => new Date());
    this.poolStatusDelayMs = options.poolStatusDelayMs ?? 1000;
  }

  /** The configuration in force (undefined before a valid one was seen). */
  get configuration(): IronLBConfig | undefined {
    return this.config;
  }

  get configStale(): boolean {
    return this.tracker.stale;
  }

  /** Read-only view of the allocator, for metrics. */
  get allocations(): Pick<Allocator, "poolNames" | "poolStats" | "assignmentOf" | "size"> {
    return this.allocator;
  }

  /**
   * Call once the caches have synced and before any reconcile: applies the configuration, loads
   * every existing assignment from Service status (oldest Service first, so when two Services
   * claim one address the older keeps it), then queues every Service and pool.
   */
  start(): LoadSummary {
    if (this.started) throw new Error("ControllerCore.start called twice");
    this.started = true;
    this.refreshConfig();
    const summary = this.config === undefined ? { loaded: 0, rejected: [] } : this.loadAssignments();
    this.enqueueEverything();
    return summary;
  }

  /** Reconciles one work key (see keys.ts). */
  async reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult | undefined> {
    const work = parseWorkKey(key);
    switch (work.kind) {
      case "config":
        this.reconcileConfig();
        return undefined;
      case "pool":
        await this.reconcilePoolStatus(work.name, signal);
        return undefined;
      case "service":
        await this.reconcileService(work.serviceKey, signal);
        return undefined;
    }
  }

  // ── configuration ─────────────────────────────────────────────────────────────────────────

  private refreshConfig(): boolean {
    const assembled = assembleConfig(this.options.caches.configObjects(), this.options.namespace);
    for (const issue of assembled.conversionIssues) {
      if (issue.severity === "dropped") {
        this.options.logger.warn(
          { source: issue.source, path: issue.path },
          `MetalLB configuration: ${issue.message}`,
        );
      }
    }
    const update = this.tracker.update(assembled);
    this.options.metrics?.configStale(this.tracker.stale);
    switch (update.kind) {
      case "unchanged":
        if (this.config === undefined && this.tracker.current !== undefined)
          return this.apply(this.tracker.current);
        return false;
      case "rejected":
        this.options.logger.error(
          { errors: update.errors.map((e) => e.toString()), keptLastGood: update.lastGood !== undefined },
          "the IronLB configuration in the cluster is invalid; keeping the last good configuration",
        );
        if (this.config === undefined && update.lastGood !== undefined) return this.apply(update.lastGood);
        return false;
      case "applied":
        for (const w of update.warnings)
          this.options.logger.warn({ warning: w.toString() }, "configuration warning");
        return this.apply(update.config);
    }
  }

  private apply(config: IronLBConfig): boolean {
    const evictions = this.allocator.setPools(config.pools);
    this.config = config;
    for (const e of evictions) {
      this.options.logger.info(
        { service: e.assignment.key, ips: e.assignment.ips, pool: e.assignment.pool, reason: e.reason.code },
        `configuration change evicts the Service's addresses: ${e.reason.message}`,
      );
    }
    this.options.logger.info(
      { pools: config.pools.map((p) => p.name), evicted: evictions.length },
      "configuration applied",
    );
    return true;
  }

  private reconcileConfig(): void {
    if (!this.refreshConfig()) return;
    // Pools changed: any Service may now get, keep or lose addresses.
    this.enqueueEverything();
  }

  private enqueueEverything(): void {
    const { queue, caches } = this.options;
    for (const svc of caches.services()) queue.add(serviceWorkKey(objectKey(svc)));
    for (const pool of this.allocator.poolNames()) queue.add(poolWorkKey(pool));
  }

  // ── restart safety ────────────────────────────────────────────────────────────────────────

  private loadAssignments(): LoadSummary {
    const candidates: { svc: ServiceObject; request: ServiceRequest; ips: string[] }[] = [];
    for (const svc of this.options.caches.services()) {
      const ips = ingressIPs(svc);
      if (ips.length === 0) continue;
      const intent = this.intentOf(svc);
      if (!intent.ours) continue;
      candidates.push({ svc, request: intent.request, ips });
    }
    candidates.sort((a, b) => compareAge(a.svc, b.svc));
    const rejected: { service: string; ips: string[]; reason: string }[] = [];
    let loaded = 0;
    for (const c of candidates) {
      const result = this.allocator.assign(c.request, c.ips);
      if (result.ok) loaded++;
      else rejected.push({ service: requestKey(c.request), ips: c.ips, reason: result.reason.message });
    }
    for (const r of rejected) {
      this.options.logger.warn(r, "existing assignment not kept; the Service will be re-allocated");
    }
    this.options.logger.info({ loaded, rejected: rejected.length }, "existing assignments loaded");
    return { loaded, rejected };
  }

  // ── Services ──────────────────────────────────────────────────────────────────────────────

  private intentOf(svc: ServiceObject | undefined): ReturnType<typeof interpretService> {
    const namespace = svc?.metadata?.namespace ?? "";
    return interpretService(svc, this.options.caches.namespaceLabels(namespace), this.options);
  }

  private async reconcileService(key: string, signal: AbortSignal): Promise<void> {
    // Without any valid configuration nothing may be decided: an empty allocator would clear
    // every Service's addresses.
    if (this.config === undefined) return;
    let svc = this.options.caches.service(key);
    const obsolete = this.superseded.get(key);
    if (obsolete !== undefined) {
      const version = svc?.metadata?.resourceVersion;
      if (version !== undefined && obsolete.has(version)) return;
      this.superseded.delete(key);
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await this.reconcileServiceOnce(key, svc, signal);
        return;
      } catch (error) {
        if (error instanceof ObjectGoneError) return; // its deletion event reconciles it again
        if (!(error instanceof WriteConflictError) || attempt >= MAX_CONFLICT_RETRIES) throw error;
        const { namespace, name } = splitServiceKey(key);
        svc = await this.options.writer.getService(namespace, name, signal);
      }
    }
  }

  private async reconcileServiceOnce(
    key: string,
    svc: ServiceObject | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const intent = this.intentOf(svc);
    if (!intent.ours) {
      const held = this.allocator.assignmentOf(key);
      this.waiting.delete(key);
      if (held !== undefined) {
        this.allocator.release(key);
        this.addressesFreed(held.pool);
      }
      // A Service being deleted only gives its addresses back: nobody reads its status any more.
      if (svc === undefined || intent.why.code === "Deleted") return;
      await this.write(svc, desiredWhenNotOurs(svc, held !== undefined), signal, intent.why, held?.ips);
      return;
    }
    const before = this.allocator.assignmentOf(key);
    const result = this.allocator.allocate(intent.request);
    let outcome: AllocationOutcome;
    if (result.ok) {
      this.waiting.delete(key);
      outcome = { ok: true, ips: result.ips, pool: result.pool };
      if (result.changed) this.schedulePoolStatus(result.pool);
    } else {
      this.waiting.add(key);
      outcome = { ok: false, reason: result.reason };
    }
    if (before !== undefined && (!result.ok || result.changed)) this.addressesFreed(before.pool);
    if (svc === undefined) return;
    const plan = await this.write(svc, desiredForOutcome(outcome), signal);
    if (!outcome.ok && plan) this.options.metrics?.allocationFailure(outcome.reason.code);
  }

  /** Brings the Service to `desired`; returns whether a failure Event was recorded. */
  private async write(
    svc: ServiceObject,
    desired: DesiredServiceState,
    signal: AbortSignal,
    notOurs?: NotOursReason,
    releasedIPs?: readonly string[],
  ): Promise<boolean> {
    const plan = planService(svc, desired, this.now(), notOurs, releasedIPs);
    const meta = svc.metadata ?? {};
    const versions = [meta.resourceVersion];
    if (plan.status !== undefined) {
      if (signal.aborted) throw new WriteAbortedError("stopped before writing Service status");
      const written = await this.options.writer.replaceServiceStatus({ ...svc, status: plan.status }, signal);
      versions.push(written.metadata?.resourceVersion);
    }
    if (plan.annotations !== undefined) {
      if (signal.aborted) throw new WriteAbortedError("stopped before writing Service annotations");
      const patched = await this.options.writer.patchServiceAnnotations(
        meta.namespace ?? "",
        meta.name ?? "",
        plan.annotations,
        signal,
      );
      versions.push(patched.metadata?.resourceVersion);
    }
    if (versions.length > 1) {
      // Every version but the last one written is now obsolete (a patch that changed nothing
      // returns the version it found, which must not count as obsolete).
      const latest = versions.at(-1);
      const obsolete = versions.filter((v): v is string => v !== undefined && v !== latest);
      this.superseded.set(objectKey(svc), new Set(obsolete));
    }
    for (const event of plan.events) this.options.writer.recordServiceEvent(svc, event);
    if (plan.status !== undefined || plan.annotations !== undefined) {
      this.options.logger.debug(
        {
          service: objectKey(svc),
          ips: desired.ingressIPs,
          pool: desired.pool,
          condition: desired.condition?.reason,
        },
        "service updated",
      );
    }
    return plan.events.some((e) => e.reason === "AllocationFailed");
  }

  /** Addresses went back to a pool: Services waiting for one try again. */
  private addressesFreed(pool: string): void {
    this.schedulePoolStatus(pool);
    for (const key of this.waiting) this.options.queue.add(serviceWorkKey(key));
  }

  // ── IPAddressPool status ──────────────────────────────────────────────────────────────────

  private schedulePoolStatus(pool: string): void {
    this.options.queue.addAfter(poolWorkKey(pool), this.poolStatusDelayMs);
  }

  private async reconcilePoolStatus(name: string, signal: AbortSignal): Promise<void> {
    const stats = this.allocator.poolStats(name);
    const obj = this.options.caches.ipAddressPool(name);
    // MetalLB pools (converted) have no IronLB object to write to.
    if (stats === undefined || obj === undefined) return;
    const counts = poolStatusCounts(stats);
    if (!poolStatusDiffers(obj.status, counts)) return;
    if (signal.aborted) throw new WriteAbortedError("stopped before writing pool status");
    try {
      await this.options.writer.patchPoolStatus(
        obj.metadata?.namespace ?? this.options.namespace,
        name,
        counts,
        signal,
      );
    } catch (error) {
      if (!(error instanceof ObjectGoneError)) throw error;
    }
  }
}

function timeOf(t: Date | string | undefined): number {
  if (t === undefined) return 0;
  const ms = typeof t === "string" ? Date.parse(t) : t.getTime();
  return Number.isNaN(ms) ? 0 : ms;
}

function splitServiceKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf("/");
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** Oldest first by creationTimestamp, then by key, for a deterministic load order. */
function compareAge(a: ServiceObject, b: ServiceObject): number {
  const ta = timeOf(a.metadata?.creationTimestamp);
  const tb = timeOf(b.metadata?.creationTimestamp);
  if (ta !== tb) return ta - tb;
  const ka = objectKey(a);
  const kb = objectKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
