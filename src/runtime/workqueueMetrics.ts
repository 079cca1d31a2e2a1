import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { WorkQueueMetrics } from "./workqueue.js";

const LATENCY_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60];

/**
 * Prometheus metrics for one named work queue, registered on `registry` (shared by every queue
 * on that registry, told apart by the `name` label):
 * ironlb_workqueue_depth, ironlb_workqueue_adds_total, ironlb_workqueue_retries_total,
 * ironlb_workqueue_queue_duration_seconds, ironlb_workqueue_work_duration_seconds.
 */
export function workQueuePromMetrics(registry: Registry, queueName: string): WorkQueueMetrics {
  const depth = getOrCreate(registry, "ironlb_workqueue_depth", () => {
    return new Gauge({
      name: "ironlb_workqueue_depth",
      help: "Keys waiting in the work queue",
      labelNames: ["name"],
      registers: [registry],
    });
  });
  const adds = getOrCreate(registry, "ironlb_workqueue_adds_total", () => {
    return new Counter({
      name: "ironlb_workqueue_adds_total",
      help: "Keys added to the work queue (coalesced adds not counted)",
      labelNames: ["name"],
      registers: [registry],
    });
  });
  const retries = getOrCreate(registry, "ironlb_workqueue_retries_total", () => {
    return new Counter({
      name: "ironlb_workqueue_retries_total",
      help: "Keys re-queued with backoff after a failed reconcile",
      labelNames: ["name"],
      registers: [registry],
    });
  });
  const queueDuration = getOrCreate(registry, "ironlb_workqueue_queue_duration_seconds", () => {
    return new Histogram({
      name: "ironlb_workqueue_queue_duration_seconds",
      help: "Time a key waits in the work queue before it is processed",
      labelNames: ["name"],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [registry],
    });
  });
  const workDuration = getOrCreate(registry, "ironlb_workqueue_work_duration_seconds", () => {
    return new Histogram({
      name: "ironlb_workqueue_work_duration_seconds",
      help: "Time spent processing one key",
      labelNames: ["name"],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [registry],
    });
  });
  const labels = { name: queueName };
  return {
    depth: (value) => {
      depth.set(labels, value);
    },
    added: () => {
      adds.inc(labels);
    },
    retried: () => {
      retries.inc(labels);
    },
    queueLatency: (ms) => {
      queueDuration.observe(labels, ms / 1000);
    },
    workDuration: (ms) => {
      workDuration.observe(labels, ms / 1000);
    },
  };
}

function getOrCreate<M>(registry: Registry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}
