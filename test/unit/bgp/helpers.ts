/** Byte builders and fast-check arbitraries shared by the BGP tests. */
import fc from "fast-check";
import { parseCIDR, parseIP, type CIDR, type IPAddr } from "../../../src/net/ip.js";
import type { AsPathSegment, LargeCommunity, PathAttributes } from "../../../src/bgp/codec/attributes.js";
import type { UpdateMessage } from "../../../src/bgp/codec/update.js";

/** Bytes from hex text; spaces and line breaks are ignored. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ""), "hex");
}

export const MARKER = "ff".repeat(16);

/** A whole message: marker, length computed from the body, type. */
export function message(type: number, body: Buffer | string): Buffer {
  const b = typeof body === "string" ? hex(body) : body;
  const head = Buffer.alloc(19, 0xff);
  head.writeUInt16BE(19 + b.length, 16);
  head.writeUInt8(type, 18);
  return Buffer.concat([head, b]);
}

/** One path attribute TLV with an explicit flags byte (extended length when the flag says so). */
export function attr(flags: number, type: number, value: Buffer | string): Buffer {
  const v = typeof value === "string" ? hex(value) : value;
  const extended = (flags & 0x10) !== 0;
  const head = Buffer.alloc(extended ? 4 : 3);
  head.writeUInt8(flags, 0);
  head.writeUInt8(type, 1);
  if (extended) head.writeUInt16BE(v.length, 2);
  else head.writeUInt8(v.length, 2);
  return Buffer.concat([head, v]);
}

/** An UPDATE message from raw withdrawn bytes, attribute TLVs and NLRI bytes. */
export function rawUpdate(
  attrs: Buffer[],
  nlri: Buffer | string = "",
  withdrawn: Buffer | string = "",
): Buffer {
  const w = typeof withdrawn === "string" ? hex(withdrawn) : withdrawn;
  const n = typeof nlri === "string" ? hex(nlri) : nlri;
  const a = Buffer.concat(attrs);
  const body = Buffer.alloc(4 + w.length + a.length + n.length);
  body.writeUInt16BE(w.length, 0);
  w.copy(body, 2);
  body.writeUInt16BE(a.length, 2 + w.length);
  a.copy(body, 4 + w.length);
  n.copy(body, 4 + w.length + a.length);
  return message(2, body);
}

export const cidr = (text: string): CIDR => parseCIDR(text);
export const ip = (text: string): IPAddr => parseIP(text);

// ---------------------------------------------------------------------------------------------
// Arbitraries

const u32 = fc.integer({ min: 0, max: 0xffffffff });

export function arbPrefix(family: "IPv4" | "IPv6"): fc.Arbitrary<CIDR> {
  const bits = family === "IPv4" ? 32 : 128;
  return fc
    .tuple(fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n }), fc.integer({ min: 0, max: bits }))
    .map(([value, len]) => {
      const host = (1n << BigInt(bits - len)) - 1n;
      return { family, address: value & ~host, prefixLength: len };
    });
}

export const arbUnicastV4: fc.Arbitrary<IPAddr> = fc
  .integer({ min: 0x01000000, max: 0xdfffffff })
  .map((v) => ({ family: "IPv4" as const, value: BigInt(v) }));

export const arbV6: fc.Arbitrary<IPAddr> = fc
  .bigInt({ min: 1n, max: (1n << 128n) - 1n })
  .map((value) => ({ family: "IPv6" as const, value }));

export function arbAsPath(fourOctet: boolean): fc.Arbitrary<AsPathSegment[]> {
  const asn = fourOctet ? u32 : fc.integer({ min: 0, max: 0xffff });
  const kinds = fourOctet
    ? fc.constantFrom("sequence" as const, "set" as const, "confedSequence" as const, "confedSet" as const)
    : fc.constantFrom("sequence" as const, "set" as const);
  return fc.array(fc.record({ kind: kinds, asns: fc.array(asn, { minLength: 1, maxLength: 8 }) }), {
    maxLength: 4,
  });
}

export const arbLargeCommunity: fc.Arbitrary<LargeCommunity> = fc.record({
  globalAdmin: u32,
  localData1: u32,
  localData2: u32,
});

function optional<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arb, { nil: undefined });
}

/** The object without its undefined-valued keys (exactOptionalPropertyTypes forbids them). */
export function dropUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

/** Valid UPDATEs that fit in 4096 bytes; announcements always carry the mandatory attributes. */
export function arbUpdate(fourOctet = true): fc.Arbitrary<UpdateMessage> {
  return fc
    .record({
      withdrawn: fc.array(arbPrefix("IPv4"), { maxLength: 20 }),
      nlri: fc.array(arbPrefix("IPv4"), { maxLength: 20 }),
      asPath: arbAsPath(fourOctet),
      origin: fc.constantFrom(0 as const, 1 as const, 2 as const),
      nextHop: arbUnicastV4,
      med: optional(u32),
      localPref: optional(u32),
      atomicAggregate: optional(fc.constant(true)),
      aggregator: optional(
        fc.record({
          asn: fourOctet ? u32 : fc.integer({ min: 0, max: 0xffff }),
          address: fc.bigInt({ min: 0n, max: 0xffffffffn }),
        }),
      ),
      communities: optional(fc.array(u32, { minLength: 1, maxLength: 20 })),
      largeCommunities: optional(fc.array(arbLargeCommunity, { minLength: 1, maxLength: 10 })),
      extendedCommunities: optional(
        fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 1, maxLength: 5 }),
      ),
      originatorId: optional(u32),
      clusterList: optional(fc.array(u32, { minLength: 1, maxLength: 4 })),
      mpReach: optional(
        fc.record({
          afi: fc.constant(2),
          safi: fc.constant(1),
          nextHops: fc.oneof(fc.tuple(arbV6), fc.tuple(arbV6, arbV6)),
          nlri: fc.array(arbPrefix("IPv6"), { maxLength: 20 }),
        }),
      ),
      mpUnreach: optional(
        fc.record({
          afi: fc.constant(2),
          safi: fc.constant(1),
          withdrawn: fc.array(arbPrefix("IPv6"), { maxLength: 20 }),
        }),
      ),
    })
    .map((r) => {
      const announces = r.nlri.length > 0 || r.mpReach !== undefined;
      const attributes = dropUndefined({
        origin: announces ? r.origin : undefined,
        asPath: announces ? r.asPath : undefined,
        nextHop: r.nlri.length > 0 ? r.nextHop : undefined,
        med: r.med,
        localPref: r.localPref,
        atomicAggregate: r.atomicAggregate,
        aggregator: r.aggregator,
        communities: r.communities,
        largeCommunities: r.largeCommunities,
        extendedCommunities: r.extendedCommunities,
        originatorId: r.originatorId,
        clusterList: r.clusterList,
        mpReach: r.mpReach,
        mpUnreach: r.mpUnreach,
      }) as PathAttributes;
      return { type: "update" as const, withdrawn: r.withdrawn, attributes, nlri: r.nlri };
    });
}
