// A minimal Layer 2 speaker for the end-to-end test: the native sockets plus the pure
// responder and takeover logic, answering ARP/NDP for the addresses on the command line.
// Usage (inside a network namespace): nativeL2Responder.ts IFNAME IP [IP…]
// Prints JSON lines: {"ready":…} once listening, {"replied":…} per reply, {"counters":…} on SIGTERM.
import { networkInterfaces } from "node:os";
import { ETHERTYPE_ARP } from "../../src/l2/codec/ethernet.js";
import { solicitedNodeAddress } from "../../src/l2/codec/ipv6.js";
import { ICMPV6_NEIGHBOR_SOLICITATION } from "../../src/l2/codec/ndp.js";
import {
  AnnouncementSet,
  ResponderCounters,
  respondToArp,
  respondToNeighborSolicitation,
} from "../../src/l2/responder.js";
import { gratuitousArp, TakeoverSchedule, unsolicitedAdvertisement } from "../../src/l2/responderTakeover.js";
import { Icmp6Socket, PacketSocket } from "../../src/native/index.js";
import { formatIP, parseIP, type IPAddr } from "../../src/net/ip.js";

const [ifname, ...addressTexts] = process.argv.slice(2);
if (ifname === undefined || addressTexts.length === 0) {
  process.stderr.write("usage: nativeL2Responder.ts IFNAME IP [IP…]\n");
  process.exit(2);
}
const addresses = addressTexts.map(parseIP);
const announced = new AnnouncementSet(addresses.map((ip) => ({ ip })));
const counters = new ResponderCounters();
const emit = (message: object): void => {
  process.stdout.write(`${JSON.stringify(message)}\n`);
};

const linkLocal = networkInterfaces()[ifname]?.find(
  (a) => a.family === "IPv6" && a.address.startsWith("fe80:"),
);
if (linkLocal === undefined) throw new Error(`${ifname} has no IPv6 link-local address`);
const sourceAddress = parseIP(linkLocal.address.split("%")[0] ?? "");

const arpSocket: PacketSocket = PacketSocket.open({
  interface: ifname,
  etherType: ETHERTYPE_ARP,
  onFrames: (frames) => {
    for (const frame of frames) {
      const decision = respondToArp(frame.data, { name: ifname, mac: arpSocket.mac }, announced);
      counters.record(decision);
      if (decision.action === "reply") {
        arpSocket.send(decision.frame);
        emit({ replied: "arp", ip: formatIP(decision.ip), to: decision.requester });
      }
    }
  },
});
const mac = arpSocket.mac;

const ndpSocket = Icmp6Socket.open({
  interface: ifname,
  icmpTypes: [ICMPV6_NEIGHBOR_SOLICITATION],
  onMessages: (messages) => {
    for (const message of messages) {
      const decision = respondToNeighborSolicitation(
        message,
        { name: ifname, mac, sourceAddress },
        announced,
      );
      counters.record(decision);
      if (decision.action === "reply") {
        ndpSocket.send(decision.message, decision.destination, decision.source);
        emit({ replied: "ndp", ip: formatIP(decision.ip), to: formatIP(decision.destination) });
      }
    }
  },
});
const ipv6Addresses = addresses.filter((ip) => ip.family === "IPv6");
for (const ip of ipv6Addresses) ndpSocket.joinGroup(solicitedNodeAddress(ip));

// Takeover: announce every address now and on the schedule after.
const schedule = new TakeoverSchedule();
const byKey = new Map<string, IPAddr>(addresses.map((ip) => [formatIP(ip), ip]));
for (const key of byKey.keys()) schedule.start(key, Date.now());
let timer: NodeJS.Timeout | undefined;
function announceDue(): void {
  for (const key of schedule.due(Date.now())) {
    const ip = byKey.get(key);
    if (ip === undefined) continue;
    if (ip.family === "IPv4") {
      arpSocket.send(gratuitousArp(mac, ip, "request"));
      arpSocket.send(gratuitousArp(mac, ip, "reply"));
    } else {
      const na = unsolicitedAdvertisement(mac, ip, sourceAddress);
      ndpSocket.send(na.message, na.destination, na.source);
    }
    emit({ announced: key });
  }
  const next = schedule.nextDueAt();
  timer = next === undefined ? undefined : setTimeout(announceDue, Math.max(0, next - Date.now()));
}
announceDue();

emit({ ready: true, ifname, mac, sourceAddress: formatIP(sourceAddress) });

process.on("SIGTERM", () => {
  clearTimeout(timer);
  arpSocket.close();
  ndpSocket.close();
  emit({
    counters: {
      received: counters.received,
      replied: counters.replied,
      ignored: Object.fromEntries(counters.ignored),
    },
  });
  process.exit(0);
});
