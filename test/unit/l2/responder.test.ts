import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseIP, type IPAddr } from "../../../src/net/ip.js";
import { decodeArp, encodeArp, type ArpPacket } from "../../../src/l2/codec/arp.js";
import {
  decodeEthernet,
  encodeEthernet,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV6,
} from "../../../src/l2/codec/ethernet.js";
import {
  pseudoHeaderChecksum,
  NEXT_HEADER_ICMPV6,
  solicitedNodeAddress,
} from "../../../src/l2/codec/ipv6.js";
import { macFromBytes, type MacAddress } from "../../../src/l2/codec/mac.js";
import {
  decodeNdp,
  encodeNeighborAdvertisement,
  encodeNeighborSolicitation,
  type NdpAddressing,
} from "../../../src/l2/codec/ndp.js";
import {
  AnnouncementSet,
  respondToArp,
  respondToNeighborSolicitation,
  ResponderCounters,
  type ArpDecision,
  type NdpDecision,
  type NdpResponderInterface,
  type ReceivedNdpMessage,
} from "../../../src/l2/responder.js";

const ip = parseIP;
const OUR_MAC = "02:00:5e:00:53:01";
const CLIENT_MAC = "02:00:5e:00:53:0a";
const OTHER_MAC = "02:00:5e:00:53:0b";
const VIP4 = ip("192.0.2.200");
const VIP4_ETH1_ONLY = ip("192.0.2.201");
const CLIENT4 = ip("192.0.2.10");
const VIP6 = ip("2001:db8:1::200");
const CLIENT6 = ip("2001:db8:1::10");
const LINK_LOCAL = ip("fe80::5eff:fe00:5301");

const announced = new AnnouncementSet([
  { ip: VIP4 },
  { ip: VIP4_ETH1_ONLY, interfaces: ["eth1"] },
  { ip: VIP6 },
]);
const eth0 = { name: "eth0", mac: OUR_MAC };
const eth1 = { name: "eth1", mac: OUR_MAC };

// ---------------------------------------------------------------------------------------------
// ARP

function arpFrame(
  packet: Partial<ArpPacket>,
  ethernet: { destination?: MacAddress; source?: MacAddress; etherType?: number } = {},
): Buffer {
  const arp: ArpPacket = {
    operation: "request",
    senderMac: CLIENT_MAC,
    senderIp: CLIENT4,
    targetMac: "00:00:00:00:00:00",
    targetIp: VIP4,
    ...packet,
  };
  return encodeEthernet({
    destination: ethernet.destination ?? "ff:ff:ff:ff:ff:ff",
    source: ethernet.source ?? arp.senderMac,
    etherType: ethernet.etherType ?? ETHERTYPE_ARP,
    payload: encodeArp(arp),
  });
}

function decodeArpReply(decision: ArpDecision): { destination: string; source: string; arp: ArpPacket } {
  if (decision.action !== "reply") throw new Error(`expected a reply, got ${decision.reason}`);
  const ethernet = decodeEthernet(decision.frame);
  if (!ethernet.ok) throw new Error(ethernet.detail);
  const arp = decodeArp(ethernet.value.payload);
  if (!arp.ok) throw new Error(arp.detail);
  return { destination: ethernet.value.destination, source: ethernet.value.source, arp: arp.value };
}

describe("ARP responder: requests it answers", () => {
  // [description, frame, interface, announced address asked for, requester's IP]
  const cases: [string, Buffer, typeof eth0, IPAddr, IPAddr][] = [
    ["a broadcast request for an announced address", arpFrame({}), eth0, VIP4, CLIENT4],
    [
      "a request unicast to our MAC (a cache refresh)",
      arpFrame({}, { destination: OUR_MAC }),
      eth0,
      VIP4,
      CLIENT4,
    ],
    [
      "a request for an address announced only on this interface",
      arpFrame({ targetIp: VIP4_ETH1_ONLY }),
      eth1,
      VIP4_ETH1_ONLY,
      CLIENT4,
    ],
    ["an RFC 5227 probe (sender 0.0.0.0)", arpFrame({ senderIp: ip("0.0.0.0") }), eth0, VIP4, ip("0.0.0.0")],
    [
      "a request padded to the Ethernet minimum with trailing bytes",
      Buffer.concat([arpFrame({}), Buffer.alloc(4, 0xee)]),
      eth0,
      VIP4,
      CLIENT4,
    ],
  ];
  for (const [description, frame, iface, askedFor, requesterIp] of cases) {
    it(`replies to ${description}, unicast to the requester, with our MAC`, () => {
      const decision = respondToArp(frame, iface, announced);
      expect(decodeArpReply(decision)).toEqual({
        destination: CLIENT_MAC,
        source: OUR_MAC,
        arp: {
          operation: "reply",
          senderMac: OUR_MAC,
          senderIp: askedFor,
          targetMac: CLIENT_MAC,
          targetIp: requesterIp,
        },
      });
      expect(decision).toMatchObject({ ip: askedFor, requester: CLIENT_MAC });
    });
  }

  it("answers the Linux kernel's own request (captured frame)", () => {
    const kernel = Buffer.from(
      "ffffffffffff02000000000a0806000108000604000102000000000ac000020a000000000000c00002c8",
      "hex",
    );
    const reply = decodeArpReply(respondToArp(kernel, eth0, announced));
    expect(reply.destination).toBe("02:00:00:00:00:0a");
    expect(reply.arp.senderIp).toEqual(VIP4);
  });
});

describe("ARP responder: frames it ignores", () => {
  const cases: [string, Uint8Array, typeof eth0, string][] = [
    [
      "a request for an address nobody announced",
      arpFrame({ targetIp: ip("192.0.2.99") }),
      eth0,
      "not-announced",
    ],
    [
      "a request arriving on an interface the address is not announced on",
      arpFrame({ targetIp: VIP4_ETH1_ONLY }),
      eth0,
      "not-announced",
    ],
    [
      "an ARP reply",
      arpFrame({ operation: "reply", targetMac: OUR_MAC }, { destination: OUR_MAC }),
      eth0,
      "not-request",
    ],
    ["a frame we sent (Ethernet source ours)", arpFrame({ senderMac: OUR_MAC }), eth0, "own-frame"],
    [
      "a request whose ARP sender MAC is ours",
      arpFrame({ senderMac: OUR_MAC }, { source: OTHER_MAC }),
      eth0,
      "own-frame",
    ],
    ["a request unicast to another station", arpFrame({}, { destination: OTHER_MAC }), eth0, "not-for-us"],
    [
      "another host's gratuitous announcement of the address",
      arpFrame({ senderIp: VIP4, senderMac: OTHER_MAC }),
      eth0,
      "gratuitous",
    ],
    ["an IPv6 frame", arpFrame({}, { etherType: ETHERTYPE_IPV6 }), eth0, "not-arp"],
    ["an empty frame", new Uint8Array(0), eth0, "truncated"],
    ["a frame cut inside the ARP header", arpFrame({}).subarray(0, 30), eth0, "truncated"],
    ["an ARP packet with hardware length 8", Buffer.from(arpFrame({})).fill(8, 18, 19), eth0, "wrong-length"],
  ];
  for (const [description, frame, iface, reason] of cases) {
    it(`ignores ${description} (${reason})`, () => {
      expect(respondToArp(frame, iface, announced)).toEqual({ action: "ignore", reason });
    });
  }
});

// ---------------------------------------------------------------------------------------------
// NDP

const ndpIface: NdpResponderInterface = { name: "eth0", mac: OUR_MAC, sourceAddress: LINK_LOCAL };

function ns(
  addressing: Partial<NdpAddressing> & { target?: IPAddr; sourceLinkLayer?: MacAddress | undefined },
): ReceivedNdpMessage {
  const target = addressing.target ?? VIP6;
  const source = addressing.source ?? CLIENT6;
  const destination = addressing.destination ?? solicitedNodeAddress(target);
  const sourceLinkLayer = "sourceLinkLayer" in addressing ? addressing.sourceLinkLayer : CLIENT_MAC;
  const data = encodeNeighborSolicitation({ target, sourceLinkLayer }, { source, destination });
  return { data, source, destination, hopLimit: addressing.hopLimit ?? 255 };
}

function decodeNdpReply(decision: NdpDecision) {
  if (decision.action !== "reply") throw new Error(`expected a reply, got ${decision.reason}`);
  const na = decodeNdp(decision.message, decision);
  if (!na.ok) throw new Error(`${na.reason}: ${na.detail}`);
  return na.value;
}

describe("NDP responder: solicitations it answers", () => {
  const solicited = {
    kind: "neighbor-advertisement",
    target: VIP6,
    router: false,
    override: true,
    targetLinkLayer: OUR_MAC,
  };
  const cases: [string, ReceivedNdpMessage, IPAddr, boolean][] = [
    ["a multicast NS to the solicited-node group", ns({}), CLIENT6, true],
    [
      "a unicast reachability probe with a source link-layer option",
      ns({ destination: VIP6 }),
      CLIENT6,
      true,
    ],
    [
      "a unicast reachability probe WITHOUT a source link-layer option",
      ns({ destination: VIP6, sourceLinkLayer: undefined }),
      CLIENT6,
      true,
    ],
    ["a multicast NS without a source link-layer option", ns({ sourceLinkLayer: undefined }), CLIENT6, true],
    [
      "a probe from a link-local source",
      ns({ source: ip("fe80::1"), destination: VIP6 }),
      ip("fe80::1"),
      true,
    ],
    [
      "a DAD probe (source ::) — answered to all-nodes, Solicited clear",
      ns({ source: ip("::"), sourceLinkLayer: undefined }),
      ip("ff02::1"),
      false,
    ],
  ];
  for (const [description, received, replyTo, isSolicited] of cases) {
    it(`answers ${description}`, () => {
      const decision = respondToNeighborSolicitation(received, ndpIface, announced);
      expect(decision).toMatchObject({
        action: "reply",
        source: LINK_LOCAL,
        destination: replyTo,
        hopLimit: 255,
        ip: VIP6,
      });
      expect(decodeNdpReply(decision)).toMatchObject({ ...solicited, solicited: isSolicited });
    });
  }

  it("answers the Linux kernel's own NS (captured packet)", () => {
    const packet = Buffer.from(
      "6000000000203aff20010db8000100000000000000000010ff0200000000000000000001ff000200870018110000000020010db8000100000000000000000200010102000000000a",
      "hex",
    );
    const received = {
      data: packet.subarray(40),
      source: CLIENT6,
      destination: ip("ff02::1:ff00:200"),
      hopLimit: 255,
    };
    const decision = respondToNeighborSolicitation(received, ndpIface, announced);
    expect(decision).toMatchObject({ action: "reply", destination: CLIENT6 });
  });

  it("computes the reply's checksum over the reply's own source and destination", () => {
    const decision = respondToNeighborSolicitation(ns({}), ndpIface, announced);
    if (decision.action !== "reply") throw new Error(decision.reason);
    expect(pseudoHeaderChecksum(LINK_LOCAL, CLIENT6, NEXT_HEADER_ICMPV6, decision.message)).toBe(0);
  });
});

describe("NDP responder: messages it ignores", () => {
  const badChecksum = ns({});
  const corrupted = { ...badChecksum, data: Buffer.from(badChecksum.data).fill(0x42, 30, 31) };
  const advertisement: ReceivedNdpMessage = {
    data: encodeNeighborAdvertisement(
      { target: VIP6, solicited: false, override: true },
      { source: CLIENT6, destination: ip("ff02::1") },
    ),
    source: CLIENT6,
    destination: ip("ff02::1"),
    hopLimit: 255,
  };
  const cases: [string, ReceivedNdpMessage, string][] = [
    ["an NS that crossed a router (hop limit 254)", ns({ hopLimit: 254 }), "wrong-hop-limit"],
    ["an NS with hop limit 1", ns({ destination: VIP6, hopLimit: 1 }), "wrong-hop-limit"],
    ["an NS with a bad checksum", corrupted, "bad-checksum"],
    ["an NS for an address nobody announced", ns({ target: ip("2001:db8:1::99") }), "not-announced"],
    [
      "an NS sent to another target's solicited-node group",
      ns({ destination: solicitedNodeAddress(ip("2001:db8:1::1:201")) }),
      "not-for-us",
    ],
    ["an NS from ourselves (source link-layer option ours)", ns({ sourceLinkLayer: OUR_MAC }), "own-frame"],
    ["a Neighbor Advertisement", advertisement, "not-solicitation"],
    ["a 10-byte message", { ...ns({}), data: ns({}).data.subarray(0, 10) }, "truncated"],
    ["a DAD probe carrying a source link-layer option", ns({ source: ip("::") }), "malformed"],
  ];
  for (const [description, received, reason] of cases) {
    it(`ignores ${description} (${reason})`, () => {
      expect(respondToNeighborSolicitation(received, ndpIface, announced)).toEqual({
        action: "ignore",
        reason,
      });
    });
  }

  it("ignores an NS for an address announced only on another interface", () => {
    const only = new AnnouncementSet([{ ip: VIP6, interfaces: ["eth1"] }]);
    expect(respondToNeighborSolicitation(ns({}), ndpIface, only)).toEqual({
      action: "ignore",
      reason: "not-announced",
    });
    expect(respondToNeighborSolicitation(ns({}), { ...ndpIface, name: "eth1" }, only).action).toBe("reply");
  });
});

describe("AnnouncementSet", () => {
  it("keeps families apart (192.0.2.200 is not ::c000:2c8)", () => {
    const set = new AnnouncementSet([{ ip: VIP4 }]);
    expect(set.isAnnounced(VIP4, "eth0")).toBe(true);
    expect(set.isAnnounced({ family: "IPv6", value: VIP4.value }, "eth0")).toBe(false);
  });
  it("merges interface lists of the same address; 'every interface' wins", () => {
    const merged = new AnnouncementSet([
      { ip: VIP4, interfaces: ["eth0"] },
      { ip: VIP4, interfaces: ["eth1"] },
      { ip: VIP6, interfaces: ["eth0"] },
      { ip: VIP6 },
    ]);
    expect(["eth0", "eth1", "eth2"].map((i) => merged.isAnnounced(VIP4, i))).toEqual([true, true, false]);
    expect(merged.isAnnounced(VIP6, "eth2")).toBe(true);
    expect(merged.size).toBe(2);
  });
});

describe("ResponderCounters", () => {
  it("counts replies and each ignore reason", () => {
    const counters = new ResponderCounters();
    const frames = [arpFrame({}), arpFrame({}), arpFrame({ targetIp: ip("192.0.2.99") }), new Uint8Array(3)];
    for (const frame of frames) counters.record(respondToArp(frame, eth0, announced));
    counters.record(respondToNeighborSolicitation(ns({ hopLimit: 64 }), ndpIface, announced));
    expect(counters.received).toBe(5);
    expect(counters.replied).toBe(2);
    expect(counters.ignoredFor("not-announced")).toBe(1);
    expect(counters.ignoredFor("truncated")).toBe(1);
    expect(counters.ignoredFor("wrong-hop-limit")).toBe(1);
    expect(counters.ignoredFor("own-frame")).toBe(0);
  });
});

describe("responder properties", () => {
  const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => macFromBytes(b));
  const ipv4 = fc.constantFrom(VIP4, VIP4_ETH1_ONLY, CLIENT4, ip("0.0.0.0"), ip("192.0.2.99"));
  const ipv6 = fc.constantFrom(VIP6, CLIENT6, ip("::"), ip("2001:db8:1::99"), LINK_LOCAL);

  it("never throws on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.integer({ min: 0, max: 255 }), (bytes, hopLimit) => {
        respondToArp(bytes, eth0, announced);
        respondToNeighborSolicitation(
          { data: bytes, source: CLIENT6, destination: VIP6, hopLimit },
          ndpIface,
          announced,
        );
      }),
      { numRuns: 2000 },
    );
  });

  it("ARP: replies only for addresses announced on the interface, only to requests from others", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        mac,
        ipv4,
        ipv4,
        fc.constantFrom(eth0, eth1),
        (isRequest, sender, senderIp, targetIp, iface) => {
          const frame = arpFrame({
            operation: isRequest ? "request" : "reply",
            senderMac: sender,
            senderIp,
            targetIp,
          });
          const decision = respondToArp(frame, iface, announced);
          if (decision.action === "reply") {
            expect(isRequest).toBe(true);
            expect(sender).not.toBe(OUR_MAC);
            expect(announced.isAnnounced(targetIp, iface.name)).toBe(true);
            expect(decodeArpReply(decision).destination).toBe(sender);
          }
        },
      ),
    );
  });

  it("NDP: every reply is a valid NA for an announced target, Override set, our MAC", () => {
    fc.assert(
      fc.property(
        ipv6,
        ipv6,
        fc.option(mac, { nil: undefined }),
        fc.boolean(),
        (target, source, lla, toGroup) => {
          const destination = toGroup ? solicitedNodeAddress(target) : target;
          const received = ns({ target, source, destination, sourceLinkLayer: lla });
          const decision = respondToNeighborSolicitation(received, ndpIface, announced);
          if (decision.action === "reply") {
            expect(announced.isAnnounced(target, "eth0")).toBe(true);
            expect(decodeNdpReply(decision)).toMatchObject({
              target,
              override: true,
              targetLinkLayer: OUR_MAC,
            });
          }
        },
      ),
    );
  });
});
