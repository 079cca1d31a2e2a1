import { describe, expect, it } from "vitest";
import { parseIP } from "../../../src/net/ip.js";
import { decodeEthernet, ETHERTYPE_IPV6 } from "../../../src/l2/codec/ethernet.js";
import {
  ALL_NODES_IPV6,
  decodeIpv6,
  encodeIpv6,
  ipv6MulticastMac,
  NEXT_HEADER_ICMPV6,
  pseudoHeaderChecksum,
  solicitedNodeAddress,
} from "../../../src/l2/codec/ipv6.js";
import {
  decodeNdp,
  decodeNdpPacket,
  encodeNeighborAdvertisement,
  encodeNeighborSolicitation,
  type NdpAddressing,
} from "../../../src/l2/codec/ndp.js";
import { internetChecksum } from "../../../src/l2/codec/checksum.js";
import type { DecodeResult } from "../../../src/l2/codec/result.js";

// Frames the Linux kernel sent between two namespaces, captured with AF_PACKET: a multicast
// NS from 2001:db8:1::10 for 2001:db8:1::200, and the solicited NA 2001:db8:1::11 answered with.
const KERNEL_NS_FRAME = Buffer.from(
  "3333ff00020002000000000a86dd6000000000203aff20010db8000100000000000000000010ff0200000000000000000001ff000200870018110000000020010db8000100000000000000000200010102000000000a",
  "hex",
);
const KERNEL_NA_FRAME = Buffer.from(
  "02000000000a02000000000b86dd6000000000203aff20010db800010000000000000000001120010db800010000000000000000001088008a386000000020010db8000100000000000000000011020102000000000b",
  "hex",
);

const ip = parseIP;
const VIP = ip("2001:db8:1::200");
const CLIENT = ip("2001:db8:1::10");

function reasonOf<T>(result: DecodeResult<T>): string {
  return result.ok ? "ok" : result.reason;
}

function ipv6Payload(frame: Buffer): Uint8Array {
  const eth = decodeEthernet(frame);
  if (!eth.ok || eth.value.etherType !== ETHERTYPE_IPV6) throw new Error("not an IPv6 frame");
  return eth.value.payload;
}

describe("Internet checksum", () => {
  it("matches RFC 1071's worked example", () => {
    // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2, so the checksum is 220d.
    expect(internetChecksum(Buffer.from("0001f203f4f5f6f7", "hex"))).toBe(0x220d);
  });
  it("pads an odd final byte with zero", () => {
    expect(internetChecksum(Buffer.from("0001f203f4f5f6", "hex"))).toBe(
      internetChecksum(Buffer.from("0001f203f4f5f600", "hex")),
    );
  });
});

describe("IPv6 addresses", () => {
  const cases: [string, string, string, string][] = [
    ["the VIP", "2001:db8:1::200", "ff02::1:ff00:200", "33:33:ff:00:02:00"],
    [
      "an address with all low bits set",
      "2001:db8:1::ab:cdef:1234",
      "ff02::1:ffef:1234",
      "33:33:ff:ef:12:34",
    ],
  ];
  for (const [description, address, group, mac] of cases) {
    it(`solicited-node group and MAC of ${description}`, () => {
      const solicited = solicitedNodeAddress(ip(address));
      expect(solicited).toEqual(ip(group));
      expect(ipv6MulticastMac(solicited)).toBe(mac);
    });
  }
  it("all-nodes maps to 33:33:00:00:00:01", () => {
    expect(ipv6MulticastMac(ALL_NODES_IPV6)).toBe("33:33:00:00:00:01");
  });
});

describe("IPv6 header", () => {
  it("decodes the kernel's NS packet", () => {
    const packet = decodeIpv6(ipv6Payload(KERNEL_NS_FRAME));
    expect(packet.ok && packet.value).toMatchObject({
      nextHeader: NEXT_HEADER_ICMPV6,
      hopLimit: 255,
      source: CLIENT,
      destination: ip("ff02::1:ff00:200"),
      trafficClass: 0,
      flowLabel: 0,
    });
    expect(packet.ok && packet.value.payload.length).toBe(32);
  });

  it("round-trips traffic class and flow label", () => {
    const bytes = encodeIpv6({
      source: CLIENT,
      destination: VIP,
      nextHeader: 17,
      hopLimit: 64,
      payload: Buffer.from("abcd", "hex"),
      trafficClass: 0xb8,
      flowLabel: 0xfedcb,
    });
    const packet = decodeIpv6(bytes);
    expect(packet.ok && packet.value).toMatchObject({
      trafficClass: 0xb8,
      flowLabel: 0xfedcb,
      hopLimit: 64,
      nextHeader: 17,
    });
  });

  it("drops link-layer padding after the payload", () => {
    const bytes = Buffer.concat([
      encodeIpv6({ source: CLIENT, destination: VIP, nextHeader: 59, hopLimit: 1, payload: Buffer.alloc(4) }),
      Buffer.alloc(6),
    ]);
    const packet = decodeIpv6(bytes);
    expect(packet.ok && packet.value.payload.length).toBe(4);
  });

  const good = ipv6Payload(KERNEL_NS_FRAME);
  const bad: [string, Uint8Array, string][] = [
    ["39 bytes", good.subarray(0, 39), "truncated"],
    ["version 4", Buffer.concat([Buffer.from([0x45]), good.subarray(1)]), "malformed"],
    ["a payload length past the end", good.subarray(0, 60), "wrong-length"],
  ];
  for (const [description, bytes, reason] of bad) {
    it(`rejects ${description} as ${reason}`, () => {
      expect(reasonOf(decodeIpv6(bytes))).toBe(reason);
    });
  }
});

describe("NDP decode", () => {
  it("decodes the kernel's multicast NS with its source link-layer option", () => {
    expect(decodeNdpPacket(ipv6Payload(KERNEL_NS_FRAME))).toEqual({
      ok: true,
      value: {
        kind: "neighbor-solicitation",
        target: VIP,
        sourceLinkLayer: "02:00:00:00:00:0a",
        source: CLIENT,
        destination: ip("ff02::1:ff00:200"),
        hopLimit: 255,
      },
    });
  });

  it("decodes the kernel's solicited NA", () => {
    expect(decodeNdpPacket(ipv6Payload(KERNEL_NA_FRAME))).toEqual({
      ok: true,
      value: {
        kind: "neighbor-advertisement",
        target: ip("2001:db8:1::11"),
        router: false,
        solicited: true,
        override: true,
        targetLinkLayer: "02:00:00:00:00:0b",
        source: ip("2001:db8:1::11"),
        destination: CLIENT,
        hopLimit: 255,
      },
    });
  });
});

describe("NDP encode", () => {
  it("reproduces the kernel's NS byte for byte (checksum included)", () => {
    const endpoints = { source: CLIENT, destination: solicitedNodeAddress(VIP) };
    const message = encodeNeighborSolicitation(
      { target: VIP, sourceLinkLayer: "02:00:00:00:00:0a" },
      endpoints,
    );
    const packet = encodeIpv6({
      ...endpoints,
      nextHeader: NEXT_HEADER_ICMPV6,
      hopLimit: 255,
      payload: message,
    });
    expect(packet.toString("hex")).toBe(Buffer.from(ipv6Payload(KERNEL_NS_FRAME)).toString("hex"));
  });

  it("reproduces the kernel's NA byte for byte (checksum included)", () => {
    const endpoints = { source: ip("2001:db8:1::11"), destination: CLIENT };
    const message = encodeNeighborAdvertisement(
      { target: ip("2001:db8:1::11"), solicited: true, override: true, targetLinkLayer: "02:00:00:00:00:0b" },
      endpoints,
    );
    const packet = encodeIpv6({
      ...endpoints,
      nextHeader: NEXT_HEADER_ICMPV6,
      hopLimit: 255,
      payload: message,
    });
    expect(packet.toString("hex")).toBe(Buffer.from(ipv6Payload(KERNEL_NA_FRAME)).toString("hex"));
  });

  const addressing: NdpAddressing = { source: CLIENT, destination: VIP, hopLimit: 255 };
  const roundTrips: [string, () => Buffer, Record<string, unknown>][] = [
    [
      "a unicast NS without source link-layer option",
      () => encodeNeighborSolicitation({ target: VIP }, addressing),
      { kind: "neighbor-solicitation", target: VIP, sourceLinkLayer: undefined },
    ],
    [
      "an NA with every flag and no option",
      () =>
        encodeNeighborAdvertisement(
          { target: VIP, router: true, solicited: true, override: true },
          addressing,
        ),
      {
        kind: "neighbor-advertisement",
        router: true,
        solicited: true,
        override: true,
        targetLinkLayer: undefined,
      },
    ],
    [
      "an NA with only Override",
      () =>
        encodeNeighborAdvertisement(
          { target: VIP, solicited: false, override: true, targetLinkLayer: "02:00:00:00:00:01" },
          addressing,
        ),
      { router: false, solicited: false, override: true, targetLinkLayer: "02:00:00:00:00:01" },
    ],
  ];
  for (const [description, encode, expected] of roundTrips) {
    it(`round-trips ${description}`, () => {
      const decodedNdp = decodeNdp(encode(), addressing);
      expect(decodedNdp.ok && decodedNdp.value).toMatchObject({ ...expected, ...addressing });
    });
  }
});

describe("NDP validation (RFC 4861 §7.1)", () => {
  const addressing: NdpAddressing = { source: CLIENT, destination: solicitedNodeAddress(VIP), hopLimit: 255 };
  const ns = encodeNeighborSolicitation({ target: VIP, sourceLinkLayer: "02:00:00:00:00:0a" }, addressing);
  /** Changes bytes, then fixes the checksum so only the intended fault remains. */
  const edited = (edit: (b: Buffer) => Buffer, at = addressing): Buffer => {
    const copy = edit(Buffer.from(ns));
    copy.writeUInt16BE(0, 2);
    copy.writeUInt16BE(pseudoHeaderChecksum(at.source, at.destination, NEXT_HEADER_ICMPV6, copy), 2);
    return copy;
  };
  const dad: NdpAddressing = { ...addressing, source: ip("::") };

  const cases: [string, Uint8Array, NdpAddressing, string][] = [
    ["a well-formed NS", ns, addressing, "ok"],
    ["3 bytes", ns.subarray(0, 3), addressing, "truncated"],
    ["an echo request (type 128)", edited((b) => (b.writeUInt8(128, 0), b)), addressing, "unsupported"],
    ["hop limit 254", ns, { ...addressing, hopLimit: 254 }, "wrong-hop-limit"],
    ["hop limit 64", ns, { ...addressing, hopLimit: 64 }, "wrong-hop-limit"],
    ["23 bytes", ns.subarray(0, 23), addressing, "truncated"],
    ["a flipped payload bit", Buffer.from(ns).fill(0x01, 31, 32), addressing, "bad-checksum"],
    [
      "a checksum over another source address",
      ns,
      { ...addressing, source: ip("2001:db8:1::11") },
      "bad-checksum",
    ],
    ["ICMP code 1", edited((b) => (b.writeUInt8(1, 1), b)), addressing, "malformed"],
    ["a multicast target", edited((b) => (b.writeUInt8(0xff, 8), b)), addressing, "malformed"],
    ["an option of length 0", edited((b) => (b.writeUInt8(0, 25), b)), addressing, "malformed"],
    [
      "an option longer than the message",
      edited((b) => (b.writeUInt8(2, 25), b)),
      addressing,
      "wrong-length",
    ],
    [
      "a link-layer option of 16 bytes",
      edited((b) => Buffer.concat([b.fill(2, 25, 26), Buffer.alloc(8)])),
      addressing,
      "wrong-length",
    ],
    ["a dangling option byte", edited((b) => Buffer.concat([b, Buffer.alloc(1)])), addressing, "truncated"],
    [
      "an unknown option (skipped)",
      edited((b) => Buffer.concat([b, Buffer.from([14, 1, 0, 0, 0, 0, 0, 0])])),
      addressing,
      "ok",
    ],
    ["a DAD probe (source ::) carrying a source link-layer option", edited((b) => b, dad), dad, "malformed"],
    [
      "a DAD probe not sent to the solicited-node group",
      edited((b) => b.subarray(0, 24), { ...dad, destination: VIP }),
      { ...dad, destination: VIP },
      "malformed",
    ],
    ["a DAD probe without options", edited((b) => b.subarray(0, 24), dad), dad, "ok"],
  ];
  for (const [description, bytes, at, reason] of cases) {
    it(`${description} → ${reason}`, () => {
      expect(reasonOf(decodeNdp(bytes, at))).toBe(reason);
    });
  }

  it("rejects a solicited NA sent to a multicast group", () => {
    const at = { source: VIP, destination: ALL_NODES_IPV6, hopLimit: 255 };
    const na = encodeNeighborAdvertisement({ target: VIP, solicited: true, override: true }, at);
    expect(reasonOf(decodeNdp(na, at))).toBe("malformed");
  });

  it("rejects a packet whose next header is not ICMPv6", () => {
    const packet = encodeIpv6({
      source: CLIENT,
      destination: VIP,
      nextHeader: 17,
      hopLimit: 255,
      payload: ns,
    });
    expect(reasonOf(decodeNdpPacket(packet))).toBe("unsupported");
  });
});
