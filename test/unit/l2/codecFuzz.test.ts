import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decodeArp, encodeArp } from "../../../src/l2/codec/arp.js";
import { decodeEthernet } from "../../../src/l2/codec/ethernet.js";
import { decodeIpv6 } from "../../../src/l2/codec/ipv6.js";
import {
  decodeNdp,
  decodeNdpPacket,
  encodeNeighborAdvertisement,
  encodeNeighborSolicitation,
} from "../../../src/l2/codec/ndp.js";
import { macFromBytes } from "../../../src/l2/codec/mac.js";
import { DECODE_ERROR_REASONS } from "../../../src/l2/codec/result.js";
import type { IPAddr } from "../../../src/net/ip.js";

const bytes = fc.uint8Array({ maxLength: 128 });
const ipv4 = fc
  .bigInt({ min: 0n, max: (1n << 32n) - 1n })
  .map((value): IPAddr => ({ family: "IPv4", value }));
const ipv6 = fc
  .bigInt({ min: 0n, max: (1n << 128n) - 1n })
  .map((value): IPAddr => ({ family: "IPv6", value }));
const unicastIpv6 = fc
  .bigInt({ min: 1n, max: (0xffn << 120n) - 1n })
  .map((value): IPAddr => ({ family: "IPv6", value }));
const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => macFromBytes(b));

/** A result is either a value or one of the known reasons: never an exception, never junk. */
function expectWellFormed(result: { ok: boolean; reason?: string }): void {
  if (!result.ok) expect(DECODE_ERROR_REASONS).toContain(result.reason);
}

describe("decoders never throw on arbitrary bytes", () => {
  it("Ethernet, ARP, IPv6 and NDP packets", () => {
    fc.assert(
      fc.property(bytes, (input) => {
        expectWellFormed(decodeEthernet(input));
        expectWellFormed(decodeArp(input));
        expectWellFormed(decodeIpv6(input));
        expectWellFormed(decodeNdpPacket(input));
      }),
      { numRuns: 2000 },
    );
  });

  it("NDP messages with arbitrary addressing", () => {
    fc.assert(
      fc.property(
        bytes,
        ipv6,
        ipv6,
        fc.integer({ min: 0, max: 255 }),
        (input, source, destination, hopLimit) => {
          expectWellFormed(decodeNdp(input, { source, destination, hopLimit }));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("mutated valid NS messages (NDP-shaped inputs reach the deep checks)", () => {
    fc.assert(
      fc.property(
        unicastIpv6,
        mac,
        fc.array(fc.tuple(fc.nat(40), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(40),
        (target, lla, edits, cut) => {
          const addressing = {
            source: { family: "IPv6" as const, value: 1n },
            destination: target,
            hopLimit: 255,
          };
          const message = Buffer.from(
            encodeNeighborSolicitation({ target, sourceLinkLayer: lla }, addressing),
          );
          for (const [at, value] of edits) if (at < message.length) message[at] = value;
          expectWellFormed(decodeNdp(message.subarray(0, message.length - (cut % 8)), addressing));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("round trips hold for every value", () => {
  it("ARP", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        mac,
        ipv4,
        mac,
        ipv4,
        (isRequest, senderMac, senderIp, targetMac, targetIp) => {
          const packet = {
            operation: isRequest ? ("request" as const) : ("reply" as const),
            senderMac,
            senderIp,
            targetMac,
            targetIp,
          };
          expect(decodeArp(encodeArp(packet))).toEqual({ ok: true, value: packet });
        },
      ),
    );
  });

  it("NS and NA", () => {
    fc.assert(
      fc.property(
        unicastIpv6,
        unicastIpv6,
        unicastIpv6,
        fc.option(mac, { nil: undefined }),
        fc.boolean(),
        fc.boolean(),
        (target, source, destination, lla, router, override) => {
          const addressing = { source, destination, hopLimit: 255 };
          const ns = decodeNdp(
            encodeNeighborSolicitation({ target, sourceLinkLayer: lla }, addressing),
            addressing,
          );
          expect(ns).toEqual({
            ok: true,
            value: { kind: "neighbor-solicitation", target, sourceLinkLayer: lla, ...addressing },
          });
          const spec = { target, router, solicited: true, override, targetLinkLayer: lla };
          const na = decodeNdp(encodeNeighborAdvertisement(spec, addressing), addressing);
          expect(na).toEqual({ ok: true, value: { kind: "neighbor-advertisement", ...spec, ...addressing } });
        },
      ),
    );
  });
});
