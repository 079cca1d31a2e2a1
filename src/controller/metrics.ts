/**
 * The controller's Prometheus metrics. Allocator gauges are computed at scrape time from the
 * allocator of the current leadership term, so they never drift from what it holds.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { PoolStats } from "../ipam/allocator.js";
import type { AllocationFailureCode } from "../ipam/reasons.js";
import type { ReconcileOutcome } from "../runtime/workers.js";
import type { CoreMetrics } from "./core.js";

/** What the gauges read at scrape time; undefined while this replica holds no allocator. */
export interface AllocatorView {
  poolNames(): string[];
  poolStats(name: string): PoolStats | undefined;
}

export interface ControllerMetricsSources {
  allocator(): AllocatorView | undefined;
  queueDepth(): number;
}

export class ControllerMetrics implements CoreMetrics {
  private readonly failures: Counter<"reason">;
  private readonly reconcileDuration: Histogram<"kind" | "outcome">;
  private readonly apiErrors: Counter<"code">;
  private readonly stale: Gauge;
  private readonly leader: Gauge;

  constructor(registry: Registry, sources: ControllerMetricsSources) {
    const registers = [registry];
    const perPool = (pick: (s: PoolStats, family: "IPv4" | "IPv6") => bigint) =>
      function (this: Gauge<"pool" | "family">): void {
        this.reset();
        const view = sources.allocator();
        if (view === undefined) return;
        for (const pool of view.poolNames()) {
          const stats = view.poolStats(pool);
          if (stats === undefined) continue;
          for (const family of ["IPv4", "IPv6"] as const) {
            this.set({ pool, family }, Number(pick(stats, family)));
          }
        }
      };
    new Gauge({
      name: "ironlb_allocator_addresses_total",
      help: "Addresses in each pool, per family",
      labelNames: ["pool", "family"],
      registers,
      collect: perPool((s, f) =>
        f === "IPv4" ? s.assignedIPv4 + s.availableIPv4 : s.assignedIPv6 + s.availableIPv6,
      ),
    });
    new Gauge({
      name: "ironlb_allocator_addresses_in_use_total",
      help: "Addresses of each pool assigned to Services (a shared address counts once), per family",
      labelNames: ["pool", "family"],
      registers,
      collect: perPool((s, f) => (f === "IPv4" ? s.assignedIPv4 : s.assignedIPv6)),
    });
    this.failures = new Counter({
      name: "ironlb_allocator_allocation_failures_total",
      help: "Allocations that failed, by the allocator's typed reason (counted when a Service's failure changes)",
      labelNames: ["reason"],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: "ironlb_controller_reconcile_duration_seconds",
      help: "Time spent reconciling one work key (kind: service, pool, config)",
      labelNames: ["kind", "outcome"],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });
    new Gauge({
      name: "ironlb_controller_queue_depth",
      help: "Work keys waiting to be reconciled",
      registers,
      collect(this: Gauge) {
        this.set(sources.queueDepth());
      },
    });
    this.apiErrors = new Counter({
      name: "ironlb_k8s_api_errors_total",
      help: "Failed Kubernetes API calls, by HTTP status (0: no response)",
      labelNames: ["code"],
      registers,
    });
    this.stale = new Gauge({
      name: "ironlb_config_stale",
      help: "1 while the configuration in the cluster is invalid and the last good one is used",
      registers,
    });
    this.leader = new Gauge({
      name: "ironlb_controller_leader",
      help: "1 while this replica is the leader (the only one that writes)",
      registers,
    });
  }

  allocationFailure(code: AllocationFailureCode): void {
    this.failures.inc({ reason: code });
  }

  configStale(stale: boolean): void {
    this.stale.set(stale ? 1 : 0);
  }

  reconciled(key: string, outcome: ReconcileOutcome, durationMs: number): void {
    const kind = key.slice(0, Math.max(0, key.indexOf("/"))) || key;
    this.reconcileDuration.observe({ kind, outcome }, durationMs / 1000);
  }

  apiError(code: number): void {
    this.apiErrors.inc({ code: String(code) });
  }

  leading(isLeader: boolean): void {
    this.leader.set(isLeader ? 1 : 0);
  }
}
