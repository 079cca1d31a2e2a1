import { describe, expect, it } from "vitest";
import { parseIP, type IPAddr } from "../../../src/net/ip.js";
import { decodeArp, encodeArp, ArpEncodeError, type ArpPacket } from "../../../src/l2/codec/arp.js";
import {
  decodeEthernet,
  encodeEthernet,
  ETHERTYPE_ARP,
  ETHERNET_MIN_FRAME_LENGTH,
} from "../../../src/l2/codec/ethernet.js";
import { isGroupMac, macToBytes, parseMac, MacParseError } from "../../../src/l2/codec/mac.js";
import type { DecodeResult } from "../../../src/l2/codec/result.js";

// An ARP request the Linux kernel sent ("who has 192.0.2.200? tell 192.0.2.10"), captured
// with an AF_PACKET socket in a network namespace: an independent reference for the codec.
const KERNEL_ARP_REQUEST = Buffer.from(
  "ffffffffffff02000000000a0806000108000604000102000000000ac000020a000000000000c00002c8",
  "hex",
);

function reasonOf<T>(result: DecodeResult<T>): string {
  return result.ok ? "ok" : result.reason;
}

describe("MAC addresses", () => {
  const cases: [string, string, string][] = [
    ["upper case", "02:00:5E:00:53:01", "02:00:5e:00:53:01"],
    ["dashes", "02-00-5e-00-53-01", "02:00:5e:00:53:01"],
    ["surrounding blanks", " ff:ff:ff:ff:ff:ff ", "ff:ff:ff:ff:ff:ff"],
  ];
  for (const [description, input, canonical] of cases) {
    it(`parses ${description}`, () => {
      expect(parseMac(input)).toBe(canonical);
    });
  }
  for (const bad of ["", "02:00:5e:00:53", "02:00:5e:00:53:01:02", "02:00:5e:00:53:0g", "0200.5e00.5301"]) {
    it(`rejects "${bad}"`, () => {
      expect(() => parseMac(bad)).toThrow(MacParseError);
    });
  }
  it("converts to bytes", () => {
    expect(macToBytes("02:00:5e:00:53:01").toString("hex")).toBe("02005e005301");
  });
  it("tells group addresses", () => {
    expect(isGroupMac("ff:ff:ff:ff:ff:ff")).toBe(true);
    expect(isGroupMac("33:33:ff:00:02:00")).toBe(true);
    expect(isGroupMac("02:00:5e:00:53:01")).toBe(false);
  });
});

describe("Ethernet", () => {
  it("decodes the kernel's ARP request frame", () => {
    const frame = decodeEthernet(KERNEL_ARP_REQUEST);
    expect(frame.ok).toBe(true);
    if (!frame.ok) return;
    expect(frame.value.destination).toBe("ff:ff:ff:ff:ff:ff");
    expect(frame.value.source).toBe("02:00:00:00:00:0a");
    expect(frame.value.etherType).toBe(ETHERTYPE_ARP);
    expect(frame.value.payload.length).toBe(28);
  });

  it("pads short frames to the Ethernet minimum unless told not to", () => {
    const spec = { destination: "ff:ff:ff:ff:ff:ff", source: "02:00:00:00:00:01", etherType: 0x0806 };
    const payload = Buffer.alloc(28, 7);
    expect(encodeEthernet({ ...spec, payload }).length).toBe(ETHERNET_MIN_FRAME_LENGTH);
    expect(encodeEthernet({ ...spec, payload, pad: false }).length).toBe(42);
  });

  it("round-trips header fields and payload", () => {
    const payload = Buffer.from("0123456789abcdef0123456789abcdef0123456789abcdef0123", "hex");
    const bytes = encodeEthernet({
      destination: "02:00:00:00:00:02",
      source: "02:00:00:00:00:01",
      etherType: 0x86dd,
      payload,
      pad: false,
    });
    const frame = decodeEthernet(bytes);
    expect(frame.ok && frame.value).toMatchObject({
      destination: "02:00:00:00:00:02",
      source: "02:00:00:00:00:01",
      etherType: 0x86dd,
    });
    expect(frame.ok && Buffer.from(frame.value.payload).toString("hex")).toBe(payload.toString("hex"));
  });

  const bad: [string, Buffer, string][] = [
    ["empty", Buffer.alloc(0), "truncated"],
    ["13 bytes", KERNEL_ARP_REQUEST.subarray(0, 13), "truncated"],
    [
      "an 802.3 length instead of an EtherType",
      Buffer.concat([Buffer.alloc(12), Buffer.from("05dc", "hex")]),
      "unsupported",
    ],
  ];
  for (const [description, bytes, reason] of bad) {
    it(`rejects ${description} as ${reason}`, () => {
      expect(reasonOf(decodeEthernet(bytes))).toBe(reason);
    });
  }
});

describe("ARP", () => {
  const ip = (text: string): IPAddr => parseIP(text);

  it("decodes the kernel's request", () => {
    const frame = decodeEthernet(KERNEL_ARP_REQUEST);
    if (!frame.ok) throw new Error(frame.detail);
    const arp = decodeArp(frame.value.payload);
    expect(arp).toEqual({
      ok: true,
      value: {
        operation: "request",
        senderMac: "02:00:00:00:00:0a",
        senderIp: ip("192.0.2.10"),
        targetMac: "00:00:00:00:00:00",
        targetIp: ip("192.0.2.200"),
      },
    });
  });

  it("encodes the kernel's request byte for byte", () => {
    const packet: ArpPacket = {
      operation: "request",
      senderMac: "02:00:00:00:00:0a",
      senderIp: ip("192.0.2.10"),
      targetMac: "00:00:00:00:00:00",
      targetIp: ip("192.0.2.200"),
    };
    const frame = encodeEthernet({
      destination: "ff:ff:ff:ff:ff:ff",
      source: "02:00:00:00:00:0a",
      etherType: ETHERTYPE_ARP,
      payload: encodeArp(packet),
      pad: false,
    });
    expect(frame.toString("hex")).toBe(KERNEL_ARP_REQUEST.toString("hex"));
  });

  const reply: ArpPacket = {
    operation: "reply",
    senderMac: "02:00:00:00:00:01",
    senderIp: ip("192.0.2.200"),
    targetMac: "02:00:00:00:00:0a",
    targetIp: ip("192.0.2.10"),
  };
  const probe: ArpPacket = {
    operation: "request",
    senderMac: "02:00:00:00:00:0a",
    senderIp: ip("0.0.0.0"),
    targetMac: "00:00:00:00:00:00",
    targetIp: ip("192.0.2.200"),
  };
  const roundTrips: [string, ArpPacket][] = [
    ["a reply", reply],
    ["a probe (sender 0.0.0.0)", probe],
    [
      "extreme addresses",
      {
        operation: "request",
        senderMac: "ff:ff:ff:ff:ff:ff",
        senderIp: ip("255.255.255.255"),
        targetMac: "00:00:00:00:00:00",
        targetIp: ip("0.0.0.0"),
      },
    ],
  ];
  for (const [description, packet] of roundTrips) {
    it(`round-trips ${description}`, () => {
      expect(decodeArp(encodeArp(packet))).toEqual({ ok: true, value: packet });
    });
  }

  it("ignores Ethernet padding after the 28 bytes", () => {
    const padded = Buffer.concat([encodeArp(reply), Buffer.alloc(18)]);
    expect(decodeArp(padded).ok).toBe(true);
  });

  it("refuses to encode IPv6 addresses", () => {
    const packet = { ...reply, targetIp: ip("2001:db8:1::1") };
    expect(() => encodeArp(packet)).toThrow(ArpEncodeError);
  });

  const request = encodeArp(probe);
  const mutate = (offset: number, bytes: number[]): Buffer => {
    const copy = Buffer.from(request);
    copy.set(bytes, offset);
    return copy;
  };
  const bad: [string, Uint8Array, string][] = [
    ["7 bytes", request.subarray(0, 7), "truncated"],
    ["27 bytes", request.subarray(0, 27), "truncated"],
    ["hardware type 6 (IEEE 802)", mutate(0, [0, 6]), "unsupported"],
    ["protocol IPv6", mutate(2, [0x86, 0xdd]), "unsupported"],
    ["hardware length 8", mutate(4, [8]), "wrong-length"],
    ["protocol length 16", mutate(5, [16]), "wrong-length"],
    ["operation 3 (RARP)", mutate(6, [0, 3]), "unsupported"],
    ["operation 0", mutate(6, [0, 0]), "unsupported"],
  ];
  for (const [description, bytes, reason] of bad) {
    it(`rejects ${description} as ${reason}`, () => {
      expect(reasonOf(decodeArp(bytes))).toBe(reason);
    });
  }
});
