/**
 * Prometheus metrics of the BFD sessions (named like MetalLB's, with `ironlb_`); `peer` is the
 * peer's address:
 *   ironlb_bfd_session_up{peer}                         1 while Up (read from the manager at scrape)
 *   ironlb_bfd_control_packets_sent_total{peer}
 *   ironlb_bfd_control_packets_received_total{peer}     valid packets matched to a session
 *   ironlb_bfd_session_up_events_total{peer}
 *   ironlb_bfd_session_down_events_total{peer}          Up → Down or AdminDown
 *   ironlb_bfd_packets_dropped_total{reason}            failed §6.8.6 checks or no session (packet.ts)
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { BfdObserver, BfdSessionView } from "./manager.js";

export function bfdPromMetrics(registry: Registry, status: () => readonly BfdSessionView[]): BfdObserver {
  new Gauge({
    name: "ironlb_bfd_session_up",
    help: "1 while the BFD session with the peer is Up, else 0",
    labelNames: ["peer"],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of status()) this.set({ peer: s.peer }, s.state === "Up" ? 1 : 0);
    },
  });
  const counter = (name: string, help: string, labelNames: string[]) =>
    new Counter({ name, help, labelNames, registers: [registry] });
  const sent = counter("ironlb_bfd_control_packets_sent_total", "BFD control packets sent to the peer", [
    "peer",
  ]);
  const received = counter(
    "ironlb_bfd_control_packets_received_total",
    "Valid BFD control packets received from the peer",
    ["peer"],
  );
  const upEvents = counter("ironlb_bfd_session_up_events_total", "Times the BFD session came Up", ["peer"]);
  const downEvents = counter(
    "ironlb_bfd_session_down_events_total",
    "Times the BFD session went from Up to Down",
    ["peer"],
  );
  const dropped = counter(
    "ironlb_bfd_packets_dropped_total",
    "Received BFD packets dropped, by reason (RFC 5880 6.8.6 checks, no matching session)",
    ["reason"],
  );
  return {
    packetSent: (peer) => {
      sent.inc({ peer });
    },
    packetReceived: (peer) => {
      received.inc({ peer });
    },
    packetDropped: (reason) => {
      dropped.inc({ reason });
    },
    stateChanged: (peer, change) => {
      if (change.to === "Up") upEvents.inc({ peer });
      if (change.from === "Up") downEvents.inc({ peer });
    },
  };
}

/** One observer that calls each of `observers` in turn. */
export function combineBfdObservers(observers: readonly BfdObserver[]): BfdObserver {
  return {
    stateChanged: (peer, change) => {
      for (const o of observers) o.stateChanged?.(peer, change);
    },
    packetSent: (peer) => {
      for (const o of observers) o.packetSent?.(peer);
    },
    packetReceived: (peer) => {
      for (const o of observers) o.packetReceived?.(peer);
    },
    packetDropped: (reason) => {
      for (const o of observers) o.packetDropped?.(reason);
    },
    socketError: (peer, error) => {
      for (const o of observers) o.socketError?.(peer, error);
    },
    ttlUnchecked: (local, multiHop) => {
      for (const o of observers) o.ttlUnchecked?.(local, multiHop);
    },
  };
}
