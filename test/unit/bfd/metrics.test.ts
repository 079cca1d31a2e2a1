import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { BfdSessionView } from "../../../src/bfd/manager.js";
import { bfdPromMetrics } from "../../../src/bfd/metrics.js";

const view = (peer: string, state: BfdSessionView["state"]): BfdSessionView => ({
  peer,
  local: "192.0.2.11",
  multiHop: false,
  clients: 1,
  ttlChecked: true,
  state,
  localDiag: 0,
  remoteState: state,
  localDiscriminator: 1,
  remoteDiscriminator: 2,
  transmitIntervalMs: 300,
  detectionTimeMs: 900,
  pollInProgress: false,
});

describe("BFD metrics", () => {
  it("session up gauge from the manager's status; counters from the observer", async () => {
    const registry = new Registry();
    const sessions = [view("192.0.2.1", "Up"), view("2001:db8:1::1", "Down")];
    const o = bfdPromMetrics(registry, () => sessions);
    o.packetSent?.("192.0.2.1");
    o.packetSent?.("192.0.2.1");
    o.packetReceived?.("192.0.2.1");
    o.packetDropped?.("badVersion");
    o.stateChanged?.("192.0.2.1", { from: "Init", to: "Up", diag: 0, peerAdminDown: false });
    o.stateChanged?.("192.0.2.1", { from: "Up", to: "Down", diag: 1, peerAdminDown: false });
    o.stateChanged?.("192.0.2.1", { from: "Down", to: "Init", diag: 1, peerAdminDown: false });
    const text = await registry.metrics();
    for (const line of [
      'ironlb_bfd_session_up{peer="192.0.2.1"} 1',
      'ironlb_bfd_session_up{peer="2001:db8:1::1"} 0',
      'ironlb_bfd_control_packets_sent_total{peer="192.0.2.1"} 2',
      'ironlb_bfd_control_packets_received_total{peer="192.0.2.1"} 1',
      'ironlb_bfd_session_up_events_total{peer="192.0.2.1"} 1',
      'ironlb_bfd_session_down_events_total{peer="192.0.2.1"} 1',
      'ironlb_bfd_packets_dropped_total{reason="badVersion"} 1',
    ])
      expect(text).toContain(line);
  });
});
