import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  BgpProtocolError,
  decodeMessage,
  encodeKeepalive,
  encodeMessage,
  encodeUpdate,
  MAX_MESSAGE_LENGTH,
  MessageFramer,
  type UpdateMessage,
} from "../../../src/bgp/codec/index.js";
import { arbUpdate, hex, MARKER } from "./helpers.js";

describe("encode → decode identity", () => {
  it("holds for random valid UPDATEs between 4-octet AS speakers", () => {
    fc.assert(
      fc.property(arbUpdate(true), (update) => {
        const r = decodeMessage(encodeUpdate(update, { fourOctetAs: true }), { fourOctetAs: true });
        if (!r.ok) throw r.error;
        expect(r.problems).toEqual([]);
        expect(r.message).toEqual(update);
      }),
      { numRuns: 300 },
    );
  });

  it("holds for 2-octet sessions too, with 4-octet ASNs carried through AS4_PATH/AS4_AGGREGATOR", () => {
    const withBigAsns = arbUpdate(false).chain((u) =>
      fc.integer({ min: 0x10000, max: 0xffffffff }).map((big): UpdateMessage => {
        const a = u.attributes;
        if (a.asPath === undefined) return u;
        // A 2-octet AGGREGATOR would tell the receiver to ignore AS4_PATH (RFC 6793 4.2.3), so
        // the aggregator is a 4-octet speaker here, as it is when IronLB itself aggregates.
        const aggregator = a.aggregator === undefined ? {} : { aggregator: { ...a.aggregator, asn: big } };
        return {
          ...u,
          attributes: { ...a, ...aggregator, asPath: [...a.asPath, { kind: "sequence", asns: [big] }] },
        };
      }),
    );
    fc.assert(
      fc.property(withBigAsns, (update) => {
        const r = decodeMessage(encodeUpdate(update, { fourOctetAs: false }), { fourOctetAs: false });
        if (!r.ok) throw r.error;
        expect(r.problems).toEqual([]);
        const expected = normaliseSequences(update);
        expect(normaliseSequences(r.message as UpdateMessage)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it("splits an AS_SEQUENCE longer than 255 ASNs into several segments", () => {
    const asns = Array.from({ length: 300 }, (_, i) => 64512 + i);
    const update: UpdateMessage = {
      type: "update",
      withdrawn: [],
      attributes: { origin: 0, asPath: [{ kind: "sequence", asns }] },
      nlri: [],
    };
    const r = decodeMessage(encodeUpdate(update, { fourOctetAs: true }));
    expect(
      r.ok && r.message.type === "update" && r.message.attributes.asPath?.map((s) => s.asns.length),
    ).toEqual([255, 45]);
  });
});

/** Adjacent AS_SEQUENCE segments merged, as the AS4_PATH reconstruction produces them. */
function normaliseSequences(u: UpdateMessage): UpdateMessage {
  const path = u.attributes.asPath;
  if (path === undefined) return u;
  const merged: { kind: "sequence" | "set" | "confedSequence" | "confedSet"; asns: number[] }[] = [];
  for (const seg of path) {
    const last = merged.at(-1);
    if (seg.kind === "sequence" && last?.kind === "sequence") last.asns.push(...seg.asns);
    else merged.push({ kind: seg.kind, asns: [...seg.asns] });
  }
  return { ...u, attributes: { ...u.attributes, asPath: merged } };
}

describe("decoding never throws (fuzz)", () => {
  function assertTyped(bytes: Uint8Array, fourOctetAs: boolean): void {
    const r = decodeMessage(Buffer.from(bytes), { fourOctetAs, external: !fourOctetAs });
    if (!r.ok) {
      expect(r.error).toBeInstanceOf(BgpProtocolError);
      expect(r.error.errorCode).toBeGreaterThanOrEqual(1);
      expect(r.error.errorCode).toBeLessThanOrEqual(7);
    }
  }

  it("arbitrary bytes → typed result", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, four) => {
        assertTyped(bytes, four);
      }),
      { numRuns: 2000 },
    );
  });

  it("arbitrary bodies behind a valid header of every type → typed result", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.uint8Array({ minLength: 0, maxLength: 400 }),
        fc.boolean(),
        (type, body, four) => {
          const head = Buffer.alloc(19, 0xff);
          head.writeUInt16BE(19 + body.length, 16);
          head.writeUInt8(type, 18);
          assertTyped(Buffer.concat([head, body]), four);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("valid UPDATEs with random byte flips → typed result", () => {
    fc.assert(
      fc.property(
        arbUpdate(true),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        (update, flips, four) => {
          const bytes = encodeUpdate(update, { fourOctetAs: true });
          for (const [pos, value] of flips) {
            const at = 19 + (pos % Math.max(1, bytes.length - 19));
            if (at < bytes.length) bytes[at] = value;
          }
          assertTyped(bytes, four);
        },
      ),
      { numRuns: 1500 },
    );
  });
});

describe("MessageFramer", () => {
  const keepalive = encodeKeepalive();
  const notification = encodeMessage({ type: "notification", code: 6, subcode: 2, data: hex("03 627965") });
  const update = encodeMessage({ type: "update", withdrawn: [], attributes: {}, nlri: [] });

  it("returns nothing until a whole message is in, then exactly it", () => {
    const framer = new MessageFramer();
    for (let i = 0; i < notification.length - 1; i++) {
      expect(framer.push(notification.subarray(i, i + 1)).messages).toEqual([]);
    }
    expect(framer.push(notification.subarray(-1)).messages).toEqual([notification]);
    expect(framer.buffered).toBe(0);
  });

  it("splits several messages arriving in one chunk, keeping a trailing partial", () => {
    const framer = new MessageFramer();
    const stream = Buffer.concat([keepalive, notification, update]);
    const out = framer.push(stream.subarray(0, stream.length - 5));
    expect(out.messages).toEqual([keepalive, notification]);
    expect(framer.buffered).toBe(update.length - 5);
    expect(framer.push(stream.subarray(-5)).messages).toEqual([update]);
  });

  it("yields the same messages however the stream is cut", () => {
    const messages = fc.array(fc.constantFrom(keepalive, notification, update), {
      minLength: 1,
      maxLength: 20,
    });
    fc.assert(
      fc.property(messages, fc.array(fc.nat(), { maxLength: 20 }), (msgs, cuts) => {
        const stream = Buffer.concat(msgs);
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const framer = new MessageFramer();
        const got: Buffer[] = [];
        let prev = 0;
        for (const p of [...points, stream.length]) {
          got.push(...framer.push(stream.subarray(prev, p)).messages);
          expect(framer.buffered).toBeLessThan(MAX_MESSAGE_LENGTH);
          prev = p;
        }
        expect(got).toEqual(msgs);
      }),
    );
  });

  it("refuses a bad length as soon as the header is in, without buffering the body", () => {
    const framer = new MessageFramer();
    const out = framer.push(hex(`${MARKER} ffff 02 00`));
    expect(out.error?.errorCode).toBe(1);
    expect(out.error?.subcode).toBe(2);
    expect(framer.buffered).toBe(0);
  });

  it("stays failed after a broken marker: the stream is out of sync", () => {
    const framer = new MessageFramer();
    const bad = Buffer.from(keepalive);
    bad[3] = 0;
    const first = framer.push(Buffer.concat([keepalive, bad]));
    expect(first.messages).toEqual([keepalive]);
    expect(first.error?.subcode).toBe(1);
    expect(framer.push(keepalive)).toEqual({ messages: [], error: first.error });
  });

  it("never holds more than one partial message whatever the input", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 5000 }), { maxLength: 5 }), (chunks) => {
        const framer = new MessageFramer();
        for (const c of chunks) {
          framer.push(Buffer.from(c));
          expect(framer.buffered).toBeLessThan(MAX_MESSAGE_LENGTH);
        }
      }),
      { numRuns: 200 },
    );
  });
});
