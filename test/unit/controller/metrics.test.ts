import { Registry } from "prom-client";
import { describe, expect, test } from "vitest";
import { ControllerMetrics } from "../../../src/controller/metrics.js";
import type { PoolStats } from "../../../src/ipam/allocator.js";

const stats = (a4: bigint, f4: bigint, a6: bigint, f6: bigint): PoolStats => ({
  assignedIPv4: a4,
  availableIPv4: f4,
  assignedIPv6: a6,
  availableIPv6: f6,
});

describe("ControllerMetrics", () => {
  test("allocator gauges are read at scrape time from the current allocator", async () => {
    const registry = new Registry();
    const pools = new Map([
      ["lan", stats(3n, 7n, 1n, 255n)],
      ["bgp", stats(0n, 16n, 0n, 0n)],
    ]);
    let view: { poolNames(): string[]; poolStats(n: string): PoolStats | undefined } | undefined = {
      poolNames: () => [...pools.keys()],
      poolStats: (n) => pools.get(n),
    };
    let depth = 4;
    const metrics = new ControllerMetrics(registry, { allocator: () => view, queueDepth: () => depth });
    metrics.allocationFailure("PoolExhausted");
    metrics.allocationFailure("PoolExhausted");
    metrics.configStale(true);
    metrics.apiError(409);
    metrics.reconciled("service/default/web", "success", 12);
    metrics.leading(true);

    const text = await registry.metrics();
    for (const line of [
      'ironlb_allocator_addresses_total{pool="lan",family="IPv4"} 10',
      'ironlb_allocator_addresses_total{pool="lan",family="IPv6"} 256',
      'ironlb_allocator_addresses_in_use_total{pool="lan",family="IPv4"} 3',
      'ironlb_allocator_addresses_in_use_total{pool="bgp",family="IPv4"} 0',
      'ironlb_allocator_allocation_failures_total{reason="PoolExhausted"} 2',
      "ironlb_controller_queue_depth 4",
      'ironlb_k8s_api_errors_total{code="409"} 1',
      "ironlb_config_stale 1",
      "ironlb_controller_leader 1",
      'ironlb_controller_reconcile_duration_seconds_count{kind="service",outcome="success"} 1',
    ]) {
      expect(text.split("\n")).toContain(line);
    }

    // A standby holds no allocator: the per-pool series disappear rather than go stale.
    view = undefined;
    depth = 0;
    const standby = await registry.metrics();
    expect(standby).not.toContain("ironlb_allocator_addresses_total{");
    expect(standby.split("\n")).toContain("ironlb_controller_queue_depth 0");
  });
});
