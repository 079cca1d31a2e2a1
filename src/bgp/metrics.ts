/**
 * Prometheus metrics of the BGP sessions, named like MetalLB's (with `ironlb_`), `peer` being the
 * peer's address:
 *   ironlb_bgp_session_up{peer}                      1 while Established
 *   ironlb_bgp_announced_prefixes_total{peer}        prefixes the peer has from us (a gauge, as MetalLB's)
 *   ironlb_bgp_updates_sent_total{peer}              UPDATE messages sent (End-of-RIB included)
 *   ironlb_bgp_updates_received_total{peer}
 *   ironlb_bgp_notifications_sent_total{peer,code,subcode}
 *   ironlb_bgp_notifications_received_total{peer,code,subcode}
 *   ironlb_bgp_update_problems_total{peer,action}    RFC 7606 problems survived in received UPDATEs
 * Gauges are read from the manager at scrape time, so a removed peer disappears with its session.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import { formatIP } from "../net/ip.js";
import type { ManagerObserver, PeerSessionStatus } from "./manager.js";
import type { SessionObserver } from "./session.js";

export function bgpPromMetrics(
  registry: Registry,
  status: () => readonly PeerSessionStatus[],
): ManagerObserver {
  new Gauge({
    name: "ironlb_bgp_session_up",
    help: "1 while the BGP session with the peer is Established, else 0",
    labelNames: ["peer"],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of status()) this.set({ peer: s.address }, s.state === "Established" ? 1 : 0);
    },
  });
  new Gauge({
    name: "ironlb_bgp_announced_prefixes_total",
    help: "Prefixes currently advertised to the peer",
    labelNames: ["peer"],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of status()) this.set({ peer: s.address }, s.advertisedPrefixes);
    },
  });
  const updatesSent = new Counter({
    name: "ironlb_bgp_updates_sent_total",
    help: "BGP UPDATE messages sent to the peer",
    labelNames: ["peer"],
    registers: [registry],
  });
  const updatesReceived = new Counter({
    name: "ironlb_bgp_updates_received_total",
    help: "BGP UPDATE messages received from the peer",
    labelNames: ["peer"],
    registers: [registry],
  });
  const notificationsSent = new Counter({
    name: "ironlb_bgp_notifications_sent_total",
    help: "BGP NOTIFICATION messages sent to the peer, by error code and subcode",
    labelNames: ["peer", "code", "subcode"],
    registers: [registry],
  });
  const notificationsReceived = new Counter({
    name: "ironlb_bgp_notifications_received_total",
    help: "BGP NOTIFICATION messages received from the peer, by error code and subcode",
    labelNames: ["peer", "code", "subcode"],
    registers: [registry],
  });
  const updateProblems = new Counter({
    name: "ironlb_bgp_update_problems_total",
    help: "Malformed attributes survived in received UPDATEs (RFC 7606), by the action taken",
    labelNames: ["peer", "action"],
    registers: [registry],
  });
  return {
    forPeer(spec): SessionObserver {
      const peer = formatIP(spec.endpoint.address);
      return {
        messageSent(m) {
          if (m.type === "update") updatesSent.inc({ peer });
          else if (m.type === "notification")
            notificationsSent.inc({ peer, code: String(m.code), subcode: String(m.subcode) });
        },
        messageReceived(m) {
          if (m.type === "update") updatesReceived.inc({ peer });
          else if (m.type === "notification")
            notificationsReceived.inc({ peer, code: String(m.code), subcode: String(m.subcode) });
        },
        updateProblems(problems) {
          for (const p of problems) updateProblems.inc({ peer, action: p.action });
        },
      };
    },
  };
}
