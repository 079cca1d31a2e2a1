import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { memberAddress, type MemberAddress } from "../../../src/membership/address.js";
import {
  CODEC_VERSION,
  decodeMessage,
  encodeMessage,
  MembershipCodecError,
  messageSize,
} from "../../../src/membership/codec.js";
import type { Message, Update } from "../../../src/membership/messages.js";

const v4 = memberAddress("192.0.2.10", 7946);
const v6 = memberAddress("2001:db8:1::10", 17946);

const updates: Update[] = [
  { kind: "alive", name: "node-a", incarnation: 0, addr: v4 },
  { kind: "alive", name: "node-b", incarnation: 0xffffffff, addr: v6 },
  { kind: "suspect", name: "node-c", incarnation: 7, from: "node-a" },
  { kind: "dead", name: "node-d", incarnation: 3, from: "node-b" },
  { kind: "left", name: "nöde-ü", incarnation: 12 },
];

describe("membership codec", () => {
  const cases: { description: string; message: Message }[] = [
    { description: "ping with updates", message: { type: "ping", seq: 1, target: "node-b", updates } },
    { description: "ack without updates", message: { type: "ack", seq: 0xffffffff, updates: [] } },
    { description: "nack", message: { type: "nack", seq: 42, updates: updates.slice(0, 1) } },
    {
      description: "ping-req to an IPv6 member",
      message: { type: "ping-req", seq: 9, target: "node-c", addr: v6, updates: [] },
    },
    { description: "sync asking for a reply", message: { type: "sync", wantReply: true, updates } },
    { description: "sync reply", message: { type: "sync", wantReply: false, updates: [] } },
    { description: "gossip", message: { type: "gossip", updates } },
  ];
  for (const { description, message } of cases) {
    it(`round-trips ${description}, with messageSize exact`, () => {
      const bytes = encodeMessage(message);
      expect(bytes.length).toBe(messageSize(message));
      expect(bytes[0]).toBe(CODEC_VERSION);
      expect(decodeMessage(bytes)).toEqual(message);
    });
  }

  const ping = encodeMessage({ type: "ping", seq: 5, target: "node-b", updates: updates.slice(0, 2) });
  const rejections: { description: string; bytes: Uint8Array; error: RegExp }[] = [
    { description: "an empty packet", bytes: new Uint8Array(0), error: /truncated version/ },
    { description: "another version", bytes: Uint8Array.from([2, 1]), error: /unsupported version 2/ },
    { description: "an unknown type", bytes: Uint8Array.from([1, 99]), error: /unknown message type 99/ },
    { description: "a truncated ping", bytes: ping.subarray(0, ping.length - 1), error: /truncated/ },
    {
      description: "trailing bytes",
      bytes: Buffer.concat([ping, Buffer.from([0])]),
      error: /1 trailing bytes/,
    },
    {
      description: "an unknown update kind",
      bytes: Uint8Array.from([1, 6, 0, 1, 9, 1, 0x61, 0, 0, 0, 0]),
      error: /unknown update kind 9/,
    },
    {
      description: "an address family other than 4 or 6",
      bytes: Uint8Array.from([1, 6, 0, 1, 1, 1, 0x61, 0, 0, 0, 0, 5]),
      error: /unknown family 5/,
    },
    {
      description: "port 0",
      bytes: Uint8Array.from([1, 6, 0, 1, 1, 1, 0x61, 0, 0, 0, 0, 4, 192, 0, 2, 1, 0, 0]),
      error: /port 0/,
    },
    {
      description: "a name that is not UTF-8",
      bytes: Uint8Array.from([1, 6, 0, 1, 4, 1, 0xff, 0, 0, 0, 0]),
      error: /not UTF-8/,
    },
    {
      description: "unknown sync flags",
      bytes: Uint8Array.from([1, 5, 2, 0, 0]),
      error: /unknown sync flags/,
    },
  ];
  for (const { description, bytes, error } of rejections) {
    it(`rejects ${description}`, () => {
      expect(() => decodeMessage(bytes)).toThrow(MembershipCodecError);
      expect(() => decodeMessage(bytes)).toThrow(error);
    });
  }

  it("refuses to encode a name longer than 255 bytes or an incarnation beyond 32 bits", () => {
    expect(() => encodeMessage({ type: "ping", seq: 1, target: "x".repeat(256), updates: [] })).toThrow(
      /too long/,
    );
    expect(() =>
      encodeMessage({ type: "gossip", updates: [{ kind: "left", name: "a", incarnation: 2 ** 32 }] }),
    ).toThrow(/32 bits/);
  });

  // Property: every message decodes to itself, and no byte string crashes the decoder with
  // anything but a MembershipCodecError.
  const name = fc.string({ minLength: 1, maxLength: 40 });
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const address: fc.Arbitrary<MemberAddress> = fc
    .tuple(fc.boolean(), fc.ipV4(), fc.ipV6(), fc.integer({ min: 1, max: 65535 }))
    .map(([useV4, ip4, ip6, port]) => memberAddress(useV4 ? ip4 : ip6, port));
  const update: fc.Arbitrary<Update> = fc.oneof(
    fc.record({ kind: fc.constant("alive" as const), name, incarnation: u32, addr: address }),
    fc.record({ kind: fc.constant("suspect" as const), name, incarnation: u32, from: name }),
    fc.record({ kind: fc.constant("dead" as const), name, incarnation: u32, from: name }),
    fc.record({ kind: fc.constant("left" as const), name, incarnation: u32 }),
  );
  const list = fc.array(update, { maxLength: 8 });
  const message: fc.Arbitrary<Message> = fc.oneof(
    fc.record({ type: fc.constant("ping" as const), seq: u32, target: name, updates: list }),
    fc.record({ type: fc.constant("ack" as const), seq: u32, updates: list }),
    fc.record({ type: fc.constant("nack" as const), seq: u32, updates: list }),
    fc.record({
      type: fc.constant("ping-req" as const),
      seq: u32,
      target: name,
      addr: address,
      updates: list,
    }),
    fc.record({ type: fc.constant("sync" as const), wantReply: fc.boolean(), updates: list }),
    fc.record({ type: fc.constant("gossip" as const), updates: list }),
  );

  it("decodes every encoded message to an equal message (property)", () => {
    fc.assert(
      fc.property(message, (m) => {
        const bytes = encodeMessage(m);
        expect(bytes.length).toBe(messageSize(m));
        expect(decodeMessage(bytes)).toEqual(m);
      }),
    );
  });

  it("throws only MembershipCodecError on arbitrary bytes (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeMessage(Uint8Array.from([1, ...bytes]));
        } catch (error) {
          expect(error).toBeInstanceOf(MembershipCodecError);
        }
      }),
    );
  });
});
