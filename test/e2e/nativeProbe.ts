// Runs inside a network namespace holding the veth pair ilb-pa <-> ilb-pb (set up by
// nativeSockets.test.ts) and exercises the addon's sockets against the kernel, printing one
// JSON object with what it observed. Each step waits with a bounded poll, never a bare sleep.
import { encodeArp } from "../../src/l2/codec/arp.js";
import { encodeEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV6 } from "../../src/l2/codec/ethernet.js";
import {
  encodeIpv6,
  ipv6MulticastMac,
  NEXT_HEADER_ICMPV6,
  solicitedNodeAddress,
} from "../../src/l2/codec/ipv6.js";
import {
  decodeNdp,
  decodeNdpPacket,
  encodeNeighborSolicitation,
  encodeNeighborAdvertisement,
} from "../../src/l2/codec/ndp.js";
import { Icmp6Socket, PacketSocket, type ReceivedFrame, type ReceivedIcmp6 } from "../../src/native/index.js";
import { formatIP, parseIP } from "../../src/net/ip.js";

const A = "ilb-pa";
const B = "ilb-pb";
const VIP = parseIP("2001:db8:1::200");
const B_ADDRESS = parseIP("2001:db8:1::2");
const A_ADDRESS = parseIP("2001:db8:1::1");
/** Not on any interface; ilb-pa has a static neighbour entry for it pointing at ilb-pb's MAC. */
const OFF_HOST = parseIP("2001:db8:1::99");

async function until(condition: () => boolean, timeoutMs = 2000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

const settle = (): Promise<boolean> => until(() => false, 200);

function reasonOf(result: { ok: boolean; reason?: string }): string {
  return result.ok ? "ok" : (result.reason ?? "?");
}

async function main(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};

  // --- AF_PACKET: identity, batches, own frames, close -----------------------------------------
  const bFrames: ReceivedFrame[] = [];
  const bBatchSizes: number[] = [];
  const b = PacketSocket.open({
    interface: B,
    etherType: ETHERTYPE_ARP,
    maxBatch: 16,
    onFrames: (frames) => {
      bBatchSizes.push(frames.length);
      bFrames.push(...frames);
    },
  });
  const aOwn: ReceivedFrame[] = [];
  const a = PacketSocket.open({ interface: A, etherType: ETHERTYPE_ARP, onFrames: (f) => aOwn.push(...f) });
  const bIpv6Frames: ReceivedFrame[] = [];
  const bIpv6 = PacketSocket.open({
    interface: B,
    etherType: ETHERTYPE_IPV6,
    onFrames: (f) => bIpv6Frames.push(...f),
  });
  out["info"] = {
    a: { ifname: a.ifname, ifindex: a.ifindex, mac: a.mac },
    b: { ifname: b.ifname, ifindex: b.ifindex, mac: b.mac },
  };
  const byIndex = PacketSocket.open({
    interface: b.ifindex,
    etherType: ETHERTYPE_ARP,
    onFrames: () => undefined,
  });
  out["openedByIndex"] = { ifname: byIndex.ifname, mac: byIndex.mac };
  byIndex.close();

  const SENT = 150;
  const frame = encodeEthernet({
    destination: "ff:ff:ff:ff:ff:ff",
    source: a.mac,
    etherType: ETHERTYPE_ARP,
    payload: encodeArp({
      operation: "request",
      senderMac: a.mac,
      senderIp: parseIP("192.0.2.1"),
      targetMac: "00:00:00:00:00:00",
      targetIp: parseIP("192.0.2.200"),
    }),
  });
  for (let i = 0; i < SENT; i++) a.send(frame);
  await until(() => bFrames.length >= SENT);
  await settle();
  out["batch"] = {
    sent: SENT,
    received: bFrames.length,
    batchSizes: bBatchSizes,
    packetTypes: [...new Set(bFrames.map((f) => f.packetType))],
    identical: bFrames.every((f) => f.data.equals(frame)),
    ownFramesSeenBySender: aOwn.length,
  };

  const receivedBeforeClose = bFrames.length;
  b.close();
  b.close(); // idempotent
  for (let i = 0; i < 10; i++) a.send(frame);
  await settle();
  let sendAfterClose = "no error";
  try {
    b.send(frame);
  } catch (error) {
    sendAfterClose = error instanceof Error ? error.message : String(error);
  }
  out["close"] = {
    deliveredAfterClose: bFrames.length - receivedBeforeClose,
    closed: b.closed,
    sendAfterClose,
  };

  // --- raw ICMPv6 ---------------------------------------------------------------------------------
  const bMessages: ReceivedIcmp6[] = [];
  const ib = Icmp6Socket.open({
    interface: B,
    icmpTypes: [135, 136],
    onMessages: (m) => bMessages.push(...m),
  });
  const ia = Icmp6Socket.open({ interface: A, icmpTypes: [136], onMessages: () => undefined });
  const group = solicitedNodeAddress(VIP);
  ib.joinGroup(group);
  ib.joinGroup(group); // counted: one leave must not drop the membership

  // The checksum we compute uses a placeholder source; the kernel recomputes it for the
  // real one, which decodeNdp below verifies.
  const ns = encodeNeighborSolicitation({ target: VIP }, { source: A_ADDRESS, destination: group });
  const echoRequest = Buffer.from([128, 0, 0, 0, 0, 1, 0, 1]);
  ia.send(echoRequest, parseIP("ff02::1"));
  ia.send(ns, group);
  const isGroupNs = (m: ReceivedIcmp6): boolean => m.data[0] === 135 && m.destination.value === group.value;
  await until(() => bMessages.some(isGroupNs));
  await settle();
  const first = bMessages.find(isGroupNs);
  out["multicastNs"] = {
    types: [...new Set(bMessages.map((m) => m.data[0]))],
    hopLimit: first?.hopLimit,
    destination: first === undefined ? undefined : formatIP(first.destination),
    source: first === undefined ? undefined : formatIP(first.source),
    ifindexIsB: first?.ifindex === ib.ifindex,
    decode: first === undefined ? undefined : reasonOf(decodeNdp(first.data, first)),
  };

  // An NS with hop limit 64, crafted on the AF_PACKET side: the hop limit is reported as is.
  bMessages.length = 0;
  const aIpv6 = PacketSocket.open({ interface: A, etherType: ETHERTYPE_IPV6, onFrames: () => undefined });
  const craftedSource = A_ADDRESS;
  const crafted = (hopLimit: number, destination = group, destinationMac = ipv6MulticastMac(group)): Buffer =>
    encodeEthernet({
      destination: destinationMac,
      source: a.mac,
      etherType: ETHERTYPE_IPV6,
      payload: encodeIpv6({
        source: craftedSource,
        destination,
        nextHeader: NEXT_HEADER_ICMPV6,
        hopLimit,
        payload: encodeNeighborSolicitation({ target: VIP }, { source: craftedSource, destination }),
      }),
    });
  aIpv6.send(crafted(64));
  await until(() => bMessages.some(isGroupNs));
  const low = bMessages.find(isGroupNs);
  out["hopLimit64"] = {
    hopLimit: low?.hopLimit,
    decode: low === undefined ? undefined : reasonOf(decodeNdp(low.data, low)),
  };

  // A unicast NS to an address of ilb-pb, without a source link-layer option, reaches the socket.
  bMessages.length = 0;
  aIpv6.send(crafted(255, B_ADDRESS, b.mac));
  await until(() => bMessages.some((m) => m.destination.value === B_ADDRESS.value));
  const unicast = bMessages.find((m) => m.destination.value === B_ADDRESS.value);
  out["unicastNs"] = {
    received: unicast !== undefined,
    decode: unicast === undefined ? undefined : reasonOf(decodeNdp(unicast.data, unicast)),
  };

  // Leave: after both joins are matched, NS to the group no longer arrive.
  ib.leaveGroup(group);
  bMessages.length = 0;
  ia.send(ns, group);
  await until(() => bMessages.some(isGroupNs));
  const afterOneLeave = bMessages.filter(isGroupNs).length;
  ib.leaveGroup(group);
  bMessages.length = 0;
  ia.send(ns, group);
  await settle();
  await settle();
  out["leave"] = {
    afterOneLeave,
    afterBothLeaves: bMessages.filter(isGroupNs).length,
    joined: ib.joinedGroups().size,
  };

  // Sending with a chosen source: captured on ilb-pb's wire, hop limit 255, kernel checksum.
  bIpv6Frames.length = 0;
  const na = encodeNeighborAdvertisement(
    { target: A_ADDRESS, solicited: true, override: true, targetLinkLayer: a.mac },
    { source: A_ADDRESS, destination: OFF_HOST },
  );
  ia.send(na, OFF_HOST, A_ADDRESS);
  await until(() => bIpv6Frames.some((f) => f.data.length > 54 && f.data[54] === 136));
  const wire = bIpv6Frames.find((f) => f.data.length > 54 && f.data[54] === 136);
  const wirePacket = wire === undefined ? undefined : decodeNdpPacket(wire.data.subarray(14));
  out["sentWithSource"] = {
    captured: wire !== undefined,
    decode: wirePacket === undefined ? undefined : reasonOf(wirePacket),
    source: wirePacket?.ok === true ? formatIP(wirePacket.value.source) : undefined,
    destination: wirePacket?.ok === true ? formatIP(wirePacket.value.destination) : undefined,
    hopLimit: wirePacket?.ok === true ? wirePacket.value.hopLimit : undefined,
  };

  // Errors carry code and syscall.
  const errors: Record<string, unknown> = {};
  const capture = (name: string, fn: () => void): void => {
    try {
      fn();
      errors[name] = "no error";
    } catch (error) {
      const e = error as { name?: string; code?: string; syscall?: string; errno?: number; message?: string };
      errors[name] = { name: e.name, code: e.code, syscall: e.syscall, errno: e.errno, message: e.message };
    }
  };
  capture("noSuchInterface", () =>
    PacketSocket.open({ interface: "ilb-nothere", etherType: 0x0806, onFrames: () => undefined }),
  );
  capture("icmpNoSuchInterface", () =>
    Icmp6Socket.open({ interface: "ilb-nothere", icmpTypes: [135], onMessages: () => undefined }),
  );
  capture("notEthernet", () =>
    PacketSocket.open({ interface: "lo", etherType: 0x0806, onFrames: () => undefined }),
  );
  capture("sendToIpv4", () => {
    ia.send(ns, parseIP("192.0.2.1"));
  });
  out["errors"] = errors;

  for (const socket of [a, aIpv6, bIpv6, ia, ib]) socket.close();
  return out;
}

main().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
