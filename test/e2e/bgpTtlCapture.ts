// Runs inside the router namespace of bgpTtl.test.ts: captures the IPv4 and IPv6 TCP packets to or
// from port 179 arriving on one interface (AF_PACKET through the native addon, before the router
// forwards or answers them) and prints one JSON line per packet with its TTL / hop limit as it
// arrived. Prints {"ready":true} once both sockets are open; runs until SIGTERM.
import { PacketSocket, type ReceivedFrame } from "../../src/native/index.js";
import { formatIP } from "../../src/net/ip.js";

const ifname = process.argv[2] ?? "ilb-eth0";
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const TCP = 6;
const BGP_PORT = 179;

const print = (message: unknown): void => {
  process.stdout.write(`${JSON.stringify(message)}\n`);
};

const ipv6Text = (bytes: Buffer): string =>
  formatIP({ family: "IPv6", value: BigInt(`0x${bytes.toString("hex")}`) });

/** The TCP packet's addresses, TTL and ports, or undefined when it is not TCP to/from port 179. */
function describe(frame: Buffer): Record<string, unknown> | undefined {
  const etherType = frame.readUInt16BE(12);
  let family: 4 | 6;
  let ttl: number;
  let src: string;
  let dst: string;
  let tcp: number;
  if (etherType === ETHERTYPE_IPV4 && frame.length >= 34) {
    if (frame[23] !== TCP) return undefined;
    family = 4;
    ttl = frame[22] ?? 0;
    src = [...frame.subarray(26, 30)].join(".");
    dst = [...frame.subarray(30, 34)].join(".");
    tcp = 14 + ((frame[14] ?? 0) & 0x0f) * 4;
  } else if (etherType === ETHERTYPE_IPV6 && frame.length >= 54) {
    // The lab's BGP packets carry no extension headers.
    if (frame[20] !== TCP) return undefined;
    family = 6;
    ttl = frame[21] ?? 0;
    src = ipv6Text(frame.subarray(22, 38));
    dst = ipv6Text(frame.subarray(38, 54));
    tcp = 54;
  } else {
    return undefined;
  }
  if (frame.length < tcp + 14) return undefined;
  const sport = frame.readUInt16BE(tcp);
  const dport = frame.readUInt16BE(tcp + 2);
  if (sport !== BGP_PORT && dport !== BGP_PORT) return undefined;
  const syn = ((frame[tcp + 13] ?? 0) & 0x02) !== 0;
  return { family, src, dst, ttl, sport, dport, syn };
}

const onFrames = (frames: ReceivedFrame[]): void => {
  for (const frame of frames) {
    const packet = describe(frame.data);
    if (packet !== undefined) print(packet);
  }
};

const sockets = [ETHERTYPE_IPV4, ETHERTYPE_IPV6].map((etherType) =>
  PacketSocket.open({ interface: ifname, etherType, onFrames }),
);
print({ ready: true });
process.once("SIGTERM", () => {
  for (const socket of sockets) socket.close();
  process.exit(0);
});
