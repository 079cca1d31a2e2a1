import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/runtime/clock.js";
import { ItemExponentialRateLimiter } from "../../../src/runtime/rateLimiter.js";
import { WorkQueue } from "../../../src/runtime/workqueue.js";
import { workQueuePromMetrics } from "../../../src/runtime/workqueueMetrics.js";

describe("workQueuePromMetrics", () => {
  it("exports depth, adds, retries and durations per queue name on one registry", async () => {
    const registry = new Registry();
    const clock = new ManualClock();
    const services = new WorkQueue({
      clock,
      metrics: workQueuePromMetrics(registry, "services"),
      rateLimiter: new ItemExponentialRateLimiter(5, 1000),
    });
    const pools = new WorkQueue({ clock, metrics: workQueuePromMetrics(registry, "pools") });
    services.add("a");
    services.add("b");
    services.add("a");
    pools.add("p");
    await clock.advance(250);
    const key = services.tryGet() ?? "";
    await clock.advance(50);
    services.done(key);
    services.addRateLimited(key);

    const text = await registry.metrics();
    expect(text).toContain('ironlb_workqueue_depth{name="services"} 1');
    expect(text).toContain('ironlb_workqueue_depth{name="pools"} 1');
    expect(text).toContain('ironlb_workqueue_adds_total{name="services"} 2');
    expect(text).toContain('ironlb_workqueue_adds_total{name="pools"} 1');
    expect(text).toContain('ironlb_workqueue_retries_total{name="services"} 1');
    expect(text).toContain('ironlb_workqueue_queue_duration_seconds_sum{name="services"} 0.25');
    expect(text).toContain('ironlb_workqueue_work_duration_seconds_sum{name="services"} 0.05');
    expect(text).toContain('ironlb_workqueue_queue_duration_seconds_bucket{le="0.5",name="services"} 1');
  });
});
