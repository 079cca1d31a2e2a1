// Client-side probe for the end-to-end test: sends a unicast Neighbor Solicitation WITHOUT a
// Source Link-Layer Address option (a reachability probe some routers send; MetalLB drops
// them) to TARGET and reports the Neighbor Advertisement that comes back.
// Usage (inside the client namespace): nativeL2Client.ts IFNAME SOURCE TARGET
import {
  decodeNdp,
  encodeNeighborSolicitation,
  ICMPV6_NEIGHBOR_ADVERTISEMENT,
} from "../../src/l2/codec/ndp.js";
import { Icmp6Socket } from "../../src/native/index.js";
import { formatIP, parseIP } from "../../src/net/ip.js";

const [ifname = "", sourceText = "", targetText = ""] = process.argv.slice(2);
const source = parseIP(sourceText);
const target = parseIP(targetText);

const socket = Icmp6Socket.open({
  interface: ifname,
  icmpTypes: [ICMPV6_NEIGHBOR_ADVERTISEMENT],
  onMessages: (messages) => {
    for (const message of messages) {
      const na = decodeNdp(message.data, message);
      if (!na.ok || na.value.kind !== "neighbor-advertisement" || na.value.target.value !== target.value)
        continue;
      process.stdout.write(
        `${JSON.stringify({
          advertisement: {
            solicited: na.value.solicited,
            override: na.value.override,
            targetLinkLayer: na.value.targetLinkLayer,
            destination: formatIP(na.value.destination),
            hopLimit: na.value.hopLimit,
          },
        })}\n`,
      );
      finish(0);
    }
  },
});
const timer = setTimeout(() => {
  process.stdout.write(`${JSON.stringify({ advertisement: null })}\n`);
  finish(1);
}, 3000);
function finish(code: number): void {
  clearTimeout(timer);
  socket.close();
  process.exitCode = code;
}

socket.send(encodeNeighborSolicitation({ target }, { source, destination: target }), target, source);
