/**
 * The announcer's sockets on a real node: the native addon's AF_PACKET socket for ARP and raw
 * ICMPv6 socket for NDP, bound to the link's ifindex (a name could meanwhile point at a new
 * link). Kept apart from announcer.ts so the announcer itself loads without the addon.
 */
import { Icmp6Socket, PacketSocket } from "../native/index.js";
import { ETHERTYPE_ARP } from "./codec/ethernet.js";
import { ICMPV6_NEIGHBOR_ADVERTISEMENT, ICMPV6_NEIGHBOR_SOLICITATION } from "./codec/ndp.js";
import type { AnnouncerIO } from "./announcer.js";

export const nativeAnnouncerIO: AnnouncerIO = {
  openArp: (link, { onReceive, onError }) =>
    PacketSocket.open({
      interface: link.ifindex,
      etherType: ETHERTYPE_ARP,
      onFrames: onReceive,
      onError,
    }),
  openNdp: (link, { onReceive, onError }) =>
    Icmp6Socket.open({
      interface: link.ifindex,
      // Solicitations to answer; advertisements to notice another host claiming our addresses.
      icmpTypes: [ICMPV6_NEIGHBOR_SOLICITATION, ICMPV6_NEIGHBOR_ADVERTISEMENT],
      onMessages: onReceive,
      onError,
    }),
};
