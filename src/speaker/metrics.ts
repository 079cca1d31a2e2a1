/**
 * The speaker's own Prometheus metrics (the announcer's are in l2/announcerMetrics.ts):
 * ironlb_speaker_announced{service,ip,node} 1 per address this node announces,
 * ironlb_config_stale 1 while the cluster's configuration is invalid and the last good one is
 * used, ironlb_speaker_live_speakers (nodes whose speaker is alive, as this speaker sees it),
 * ironlb_speaker_lease_renew_failures_total.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { AnnouncedService } from "./nodePlan.js";

export interface SpeakerMetrics {
  announced(node: string, services: readonly AnnouncedService[]): void;
  configStale(stale: boolean): void;
  liveSpeakers(count: number): void;
  leaseRenewFailed(): void;
}

export function speakerPromMetrics(registry: Registry): SpeakerMetrics {
  const announced = new Gauge({
    name: "ironlb_speaker_announced",
    help: "1 for each Service address this node answers ARP/NDP for",
    labelNames: ["service", "ip", "node"],
    registers: [registry],
  });
  const stale = new Gauge({
    name: "ironlb_config_stale",
    help: "1 when the current configuration is invalid and the last valid one is in force",
    registers: [registry],
  });
  stale.set(0);
  const live = new Gauge({
    name: "ironlb_speaker_live_speakers",
    help: "Nodes whose speaker is alive, as seen by this speaker",
    registers: [registry],
  });
  const renewFailures = new Counter({
    name: "ironlb_speaker_lease_renew_failures_total",
    help: "Failed renewals of this speaker's liveness Lease",
    registers: [registry],
  });
  return {
    announced: (node, services) => {
      announced.reset();
      for (const service of services) {
        for (const ip of service.ips) announced.set({ service: service.key, ip, node }, 1);
      }
    },
    configStale: (value) => {
      stale.set(value ? 1 : 0);
    },
    liveSpeakers: (count) => {
      live.set(count);
    },
    leaseRenewFailed: () => {
      renewFailures.inc();
    },
  };
}
