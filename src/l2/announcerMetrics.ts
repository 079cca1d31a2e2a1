/**
 * The announcer's Prometheus metrics, mirroring MetalLB's layer 2 names:
 * ironlb_layer2_requests_received{ip,interface}, ironlb_layer2_responses_sent{ip,interface},
 * ironlb_layer2_gratuitous_sent{ip}, plus ironlb_layer2_packets_dropped{protocol,reason} (the
 * bounded set of reasons a received packet got no answer) and
 * ironlb_layer2_send_errors{interface,kind}, and ironlb_layer2_claims_seen{ip,interface} (another host
 * claimed an announced address; it is announced again).
 */
import { Counter, type Registry } from "prom-client";
import type { AnnouncerMetrics } from "./announcer.js";

export function announcerPromMetrics(registry: Registry): AnnouncerMetrics {
  const requests = new Counter({
    name: "ironlb_layer2_requests_received",
    help: "ARP requests and Neighbor Solicitations received for an announced address",
    labelNames: ["ip", "interface"],
    registers: [registry],
  });
  const responses = new Counter({
    name: "ironlb_layer2_responses_sent",
    help: "ARP replies and Neighbor Advertisements sent for an announced address",
    labelNames: ["ip", "interface"],
    registers: [registry],
  });
  const gratuitous = new Counter({
    name: "ironlb_layer2_gratuitous_sent",
    help: "Gratuitous ARP and unsolicited Neighbor Advertisement packets sent on takeover",
    labelNames: ["ip"],
    registers: [registry],
  });
  const dropped = new Counter({
    name: "ironlb_layer2_packets_dropped",
    help: "Received ARP/NDP packets not answered, by reason (malformed, not announced, not for us…)",
    labelNames: ["protocol", "reason"],
    registers: [registry],
  });
  const sendErrors = new Counter({
    name: "ironlb_layer2_send_errors",
    help: "Replies or takeover announcements the kernel refused to send",
    labelNames: ["interface", "kind"],
    registers: [registry],
  });
  const claims = new Counter({
    name: "ironlb_layer2_claims_seen",
    help: "Gratuitous ARP, ARP replies or Neighbor Advertisements from another host for an announced address",
    labelNames: ["ip", "interface"],
    registers: [registry],
  });
  return {
    requestReceived: (ip, ifname) => {
      requests.inc({ ip, interface: ifname });
    },
    responseSent: (ip, ifname) => {
      responses.inc({ ip, interface: ifname });
    },
    gratuitousSent: (ip) => {
      gratuitous.inc({ ip });
    },
    dropped: (protocol, reason) => {
      dropped.inc({ protocol, reason });
    },
    sendFailed: (ifname, kind) => {
      sendErrors.inc({ interface: ifname, kind });
    },
    claimSeen: (ip, ifname) => {
      claims.inc({ ip, interface: ifname });
    },
  };
}
