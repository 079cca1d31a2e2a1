import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeControlPacket,
  describeDiag,
  encodeControlPacket,
  type ControlPacket,
} from "../../../src/bfd/packet.js";
import { peerPacket } from "./fakes.js";

/** A valid encoded packet with one byte changed. */
function patched(edit: (b: Buffer) => void, base: ControlPacket = peerPacket()): Buffer {
  const b = encodeControlPacket(base);
  edit(b);
  return b;
}

describe("BFD control packet codec", () => {
  it("encodes the RFC 5880 §4.1 layout", () => {
    const bytes = encodeControlPacket(
      peerPacket({
        diag: 7,
        state: 3,
        poll: true,
        detectMult: 5,
        myDiscriminator: 0x01020304,
        yourDiscriminator: 0xa0b0c0d0,
        desiredMinTxUs: 300_000,
        requiredMinRxUs: 250_000,
        requiredMinEchoRxUs: 0,
      }),
    );
    expect(bytes.toString("hex")).toBe(
      "27" + "e0" + "05" + "18" + "01020304" + "a0b0c0d0" + "000493e0" + "0003d090" + "00000000",
    );
  });

  it("decodes what it encodes, every flag and field", () => {
    fc.assert(
      fc.property(
        fc.record({
          diag: fc.integer({ min: 0, max: 31 }),
          state: fc.constantFrom<0 | 1 | 2 | 3>(0, 1, 2, 3),
          poll: fc.boolean(),
          controlPlaneIndependent: fc.boolean(),
          demand: fc.boolean(),
          detectMult: fc.integer({ min: 1, max: 255 }),
          myDiscriminator: fc.integer({ min: 1, max: 0xffffffff }),
          yourDiscriminator: fc.integer({ min: 0, max: 0xffffffff }),
          desiredMinTxUs: fc.integer({ min: 0, max: 0xffffffff }),
          requiredMinRxUs: fc.integer({ min: 0, max: 0xffffffff }),
          requiredMinEchoRxUs: fc.integer({ min: 0, max: 0xffffffff }),
        }),
        fc.boolean(),
        (fields, final) => {
          const p: ControlPacket = {
            ...fields,
            poll: fields.poll && !final,
            final,
            authenticationPresent: false,
          };
          expect(decodeControlPacket(encodeControlPacket(p))).toEqual({ ok: true, packet: p });
        },
      ),
    );
  });

  it.each([
    {
      description: "shorter than 24 bytes",
      bytes: encodeControlPacket(peerPacket()).subarray(0, 23),
      reason: "truncated",
    },
    { description: "version 0", bytes: patched((b) => (b[0] = (b[0] ?? 0) & 0x1f)), reason: "badVersion" },
    { description: "version 2", bytes: patched((b) => (b[0] = 0x40)), reason: "badVersion" },
    { description: "Length field below 24", bytes: patched((b) => (b[3] = 20)), reason: "badLength" },
    {
      description: "Length field beyond the payload",
      bytes: patched((b) => (b[3] = 30)),
      reason: "badLength",
    },
    { description: "detect mult 0", bytes: patched((b) => (b[2] = 0)), reason: "zeroDetectMult" },
    {
      description: "multipoint bit",
      bytes: patched((b) => (b[1] = (b[1] ?? 0) | 0x01)),
      reason: "multipoint",
    },
    {
      description: "P and F both set",
      bytes: patched((b) => (b[1] = (b[1] ?? 0) | 0x30)),
      reason: "pollAndFinal",
    },
    {
      description: "My Discriminator 0",
      bytes: patched((b) => b.writeUInt32BE(0, 4)),
      reason: "zeroMyDiscriminator",
    },
    {
      description: "authentication section (A bit, length 24: too short for it)",
      bytes: patched((b) => (b[1] = (b[1] ?? 0) | 0x04)),
      reason: "badLength",
    },
    {
      description: "authentication section present (unsupported)",
      bytes: Buffer.concat([
        patched((b) => {
          b[1] = (b[1] ?? 0) | 0x04;
          b[3] = 28;
        }),
        Buffer.from([1, 4, 1, 0]),
      ]),
      reason: "authenticationUnsupported",
    },
  ])("drops a packet with $description", ({ bytes, reason }) => {
    expect(decodeControlPacket(bytes)).toEqual({ ok: false, reason });
  });

  it("accepts trailing bytes beyond the Length field (the UDP payload may be longer)", () => {
    const bytes = Buffer.concat([encodeControlPacket(peerPacket()), Buffer.alloc(8)]);
    expect(decodeControlPacket(bytes).ok).toBe(true);
  });

  it("never throws on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 80 }), (bytes) => {
        const r = decodeControlPacket(bytes);
        expect(typeof r.ok).toBe("boolean");
      }),
      { numRuns: 5000 },
    );
  });

  it("never throws on mutations of a valid packet", () => {
    const valid = encodeControlPacket(peerPacket());
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(23), fc.nat(255)), { maxLength: 6 }), (edits) => {
        const b = Buffer.from(valid);
        for (const [i, v] of edits) b[i] = v;
        const r = decodeControlPacket(b);
        if (r.ok) expect(encodeControlPacket(r.packet).subarray(4)).toEqual(b.subarray(4, 24));
      }),
    );
  });

  it.each([
    [0, "no diagnostic"],
    [1, "control detection time expired"],
    [7, "administratively down"],
    [31, "diagnostic 31"],
  ])("diag %i reads %s", (code, text) => {
    expect(describeDiag(code)).toBe(text);
  });
});
