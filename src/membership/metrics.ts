/**
 * Membership metrics:
 *   ironlb_membership_packets_dropped_total{reason}  malformed | wrong_key | bad_tag | replay | stale | undecodable
 *   ironlb_membership_packets_sent_total, ironlb_membership_packets_received_total (accepted ones)
 *   ironlb_membership_members{state}                 alive | suspect | dead | left, as this speaker sees them
 *   ironlb_membership_local_health                   Lifeguard's score (0 = healthy)
 *   ironlb_membership_refutations_total              times this speaker had to refute a suspicion of itself
 *   ironlb_membership_probe_failures_total           probe rounds that ended without an ack
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { MemberState } from "./protocol.js";
import { DROP_REASONS, type DropReason } from "./wire.js";

export interface MembershipMetrics {
  dropped(reason: DropReason): void;
  sent(): void;
  received(): void;
  members(counts: Readonly<Record<MemberState, number>>): void;
  localHealth(score: number): void;
  refuted(): void;
  probeFailed(): void;
}

export function membershipPromMetrics(registry: Registry): MembershipMetrics {
  const dropped = new Counter({
    name: "ironlb_membership_packets_dropped_total",
    help: "Membership datagrams dropped: wrong key, bad tag, replayed, stale, malformed or undecodable",
    labelNames: ["reason"],
    registers: [registry],
  });
  for (const reason of DROP_REASONS) dropped.inc({ reason }, 0);
  const sent = new Counter({
    name: "ironlb_membership_packets_sent_total",
    help: "Membership datagrams sent",
    registers: [registry],
  });
  const received = new Counter({
    name: "ironlb_membership_packets_received_total",
    help: "Membership datagrams received and accepted",
    registers: [registry],
  });
  const members = new Gauge({
    name: "ironlb_membership_members",
    help: "Members by state, as this speaker sees them (itself included)",
    labelNames: ["state"],
    registers: [registry],
  });
  const health = new Gauge({
    name: "ironlb_membership_local_health",
    help: "Lifeguard local health score: 0 when healthy; probes slow down by (score + 1)",
    registers: [registry],
  });
  health.set(0);
  const refutations = new Counter({
    name: "ironlb_membership_refutations_total",
    help: "Suspicions or deaths of this speaker it had to refute",
    registers: [registry],
  });
  const probeFailures = new Counter({
    name: "ironlb_membership_probe_failures_total",
    help: "Probe rounds that ended without an ack, direct or indirect",
    registers: [registry],
  });
  return {
    dropped: (reason) => {
      dropped.inc({ reason });
    },
    sent: () => {
      sent.inc();
    },
    received: () => {
      received.inc();
    },
    members: (counts) => {
      for (const [state, count] of Object.entries(counts)) members.set({ state }, count);
    },
    localHealth: (score) => {
      health.set(score);
    },
    refuted: () => {
      refutations.inc();
    },
    probeFailed: () => {
      probeFailures.inc();
    },
  };
}
