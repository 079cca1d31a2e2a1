/**
 * UPDATE path attributes: typed values, their encoding, and a decoder that applies RFC 7606
 * revised error handling. Each malformed attribute is classified as "treat-as-withdraw",
 * "attribute-discard" or session reset (a BgpProtocolError carrying the NOTIFICATION).
 */
import type { CIDR, IPAddr } from "../../net/ip.js";
import {
  Afi,
  AS_TRANS,
  AsPathSegmentType,
  AttributeFlag,
  AttributeType,
  ErrorCode,
  type OriginCode,
  Safi,
  UpdateErrorSubcode,
} from "./constants.js";
import { BgpProtocolError, type AttributeProblem, type RecoveryAction } from "./errors.js";
import { decodePrefixes, prefixesWireLength, writePrefix } from "./prefix.js";

export type AsPathSegmentKind = "set" | "sequence" | "confedSequence" | "confedSet";

export interface AsPathSegment {
  readonly kind: AsPathSegmentKind;
  readonly asns: readonly number[];
}

export interface LargeCommunity {
  readonly globalAdmin: number;
  readonly localData1: number;
  readonly localData2: number;
}

export interface Aggregator {
  readonly asn: number;
  /** IPv4 address of the aggregating speaker. */
  readonly address: bigint;
}

export interface MpReachNlri {
  readonly afi: number;
  readonly safi: number;
  /** One address, or for IPv6 a global address followed by a link-local one (RFC 2545). */
  readonly nextHops: readonly IPAddr[];
  readonly nlri: readonly CIDR[];
}

export interface MpUnreachNlri {
  readonly afi: number;
  readonly safi: number;
  readonly withdrawn: readonly CIDR[];
}

/** An attribute IronLB does not interpret, kept byte for byte (optional transitive ones only). */
export interface RawAttribute {
  readonly flags: number;
  readonly typeCode: number;
  readonly value: Buffer;
}

export interface PathAttributes {
  readonly origin?: OriginCode;
  readonly asPath?: readonly AsPathSegment[];
  /** IPv4 NEXT_HOP attribute. */
  readonly nextHop?: IPAddr;
  readonly med?: number;
  readonly localPref?: number;
  readonly atomicAggregate?: boolean;
  readonly aggregator?: Aggregator;
  /** RFC 1997 communities as unsigned 32-bit values (ASN << 16 | value). */
  readonly communities?: readonly number[];
  readonly originatorId?: number;
  readonly clusterList?: readonly number[];
  readonly mpReach?: MpReachNlri;
  readonly mpUnreach?: MpUnreachNlri;
  /** RFC 4360 extended communities as unsigned 64-bit values. */
  readonly extendedCommunities?: readonly bigint[];
  readonly largeCommunities?: readonly LargeCommunity[];
  readonly unknown?: readonly RawAttribute[];
}

export interface AttributeCodecOptions {
  /** Whether both sides advertised the 4-octet AS capability (AS_PATH carries 4-byte ASNs). */
  readonly fourOctetAs: boolean;
  /** The peer is in another AS (LOCAL_PREF from it is discarded, RFC 7606 7.5). */
  readonly external?: boolean;
}

const WELL_KNOWN = AttributeFlag.Transitive;
const OPTIONAL_TRANSITIVE = AttributeFlag.Optional | AttributeFlag.Transitive;
const OPTIONAL_NON_TRANSITIVE = AttributeFlag.Optional;
const CATEGORY_BITS = AttributeFlag.Optional | AttributeFlag.Transitive;

/** The Optional and Transitive bits each known attribute must carry (RFC 7606 3(c) checks only these). */
export const EXPECTED_FLAGS: Readonly<Record<number, number>> = {
  [AttributeType.Origin]: WELL_KNOWN,
  [AttributeType.AsPath]: WELL_KNOWN,
  [AttributeType.NextHop]: WELL_KNOWN,
  [AttributeType.MultiExitDisc]: OPTIONAL_NON_TRANSITIVE,
  [AttributeType.LocalPref]: WELL_KNOWN,
  [AttributeType.AtomicAggregate]: WELL_KNOWN,
  [AttributeType.Aggregator]: OPTIONAL_TRANSITIVE,
  [AttributeType.Communities]: OPTIONAL_TRANSITIVE,
  [AttributeType.OriginatorId]: OPTIONAL_NON_TRANSITIVE,
  [AttributeType.ClusterList]: OPTIONAL_NON_TRANSITIVE,
  [AttributeType.MpReachNlri]: OPTIONAL_NON_TRANSITIVE,
  [AttributeType.MpUnreachNlri]: OPTIONAL_NON_TRANSITIVE,
  [AttributeType.ExtendedCommunities]: OPTIONAL_TRANSITIVE,
  [AttributeType.As4Path]: OPTIONAL_TRANSITIVE,
  [AttributeType.As4Aggregator]: OPTIONAL_TRANSITIVE,
  [AttributeType.LargeCommunities]: OPTIONAL_TRANSITIVE,
};

const SEGMENT_KIND_BY_CODE: Readonly<Record<number, AsPathSegmentKind>> = {
  [AsPathSegmentType.Set]: "set",
  [AsPathSegmentType.Sequence]: "sequence",
  [AsPathSegmentType.ConfedSequence]: "confedSequence",
  [AsPathSegmentType.ConfedSet]: "confedSet",
};
const SEGMENT_CODE_BY_KIND: Readonly<Record<AsPathSegmentKind, number>> = {
  set: AsPathSegmentType.Set,
  sequence: AsPathSegmentType.Sequence,
  confedSequence: AsPathSegmentType.ConfedSequence,
  confedSet: AsPathSegmentType.ConfedSet,
};
const MAX_SEGMENT_ASNS = 255;

// ---------------------------------------------------------------------------------------------
// Encoding

function attribute(flags: number, typeCode: number, value: Buffer): Buffer {
  const extended = value.length > 255;
  const head = Buffer.allocUnsafe(extended ? 4 : 3);
  head.writeUInt8(extended ? flags | AttributeFlag.ExtendedLength : flags & ~AttributeFlag.ExtendedLength, 0);
  head.writeUInt8(typeCode, 1);
  if (extended) head.writeUInt16BE(value.length, 2);
  else head.writeUInt8(value.length, 2);
  return Buffer.concat([head, value]);
}

function u16(value: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(value, 0);
  return b;
}

function u32(value: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(value >>> 0, 0);
  return b;
}

function ipv4Bytes(value: bigint): Buffer {
  return u32(Number(value & 0xffffffffn));
}

function addressBytes(ip: IPAddr): Buffer {
  if (ip.family === "IPv4") return ipv4Bytes(ip.value);
  const b = Buffer.allocUnsafe(16);
  b.writeBigUInt64BE(ip.value >> 64n, 0);
  b.writeBigUInt64BE(ip.value & 0xffffffffffffffffn, 8);
  return b;
}

/** Splits segments longer than 255 ASNs, as the wire format requires. */
function wireSegments(path: readonly AsPathSegment[]): AsPathSegment[] {
  const out: AsPathSegment[] = [];
  for (const seg of path) {
    if (seg.asns.length <= MAX_SEGMENT_ASNS) {
      out.push(seg);
      continue;
    }
    for (let i = 0; i < seg.asns.length; i += MAX_SEGMENT_ASNS) {
      out.push({ kind: seg.kind, asns: seg.asns.slice(i, i + MAX_SEGMENT_ASNS) });
    }
  }
  return out;
}

function encodeAsPathValue(path: readonly AsPathSegment[], asSize: 2 | 4): Buffer {
  const segments = wireSegments(path);
  const size = segments.reduce((n, s) => n + 2 + asSize * s.asns.length, 0);
  const b = Buffer.allocUnsafe(size);
  let off = 0;
  for (const seg of segments) {
    b.writeUInt8(SEGMENT_CODE_BY_KIND[seg.kind], off);
    b.writeUInt8(seg.asns.length, off + 1);
    off += 2;
    for (const asn of seg.asns) {
      if (asSize === 4) b.writeUInt32BE(asn >>> 0, off);
      else b.writeUInt16BE(asn > 0xffff ? AS_TRANS : asn, off);
      off += asSize;
    }
  }
  return b;
}

function needsFourOctets(path: readonly AsPathSegment[]): boolean {
  return path.some((s) => s.asns.some((asn) => asn > 0xffff));
}

export function encodeMpReachValue(mp: MpReachNlri): Buffer {
  const nextHop = Buffer.concat(mp.nextHops.map(addressBytes));
  const b = Buffer.allocUnsafe(5 + nextHop.length + prefixesWireLength(mp.nlri));
  b.writeUInt16BE(mp.afi, 0);
  b.writeUInt8(mp.safi, 2);
  b.writeUInt8(nextHop.length, 3);
  nextHop.copy(b, 4);
  let off = 4 + nextHop.length;
  b.writeUInt8(0, off++);
  for (const p of mp.nlri) off = writePrefix(b, off, p);
  return b;
}

export function encodeMpUnreachValue(mp: MpUnreachNlri): Buffer {
  const b = Buffer.allocUnsafe(3 + prefixesWireLength(mp.withdrawn));
  b.writeUInt16BE(mp.afi, 0);
  b.writeUInt8(mp.safi, 2);
  let off = 3;
  for (const p of mp.withdrawn) off = writePrefix(b, off, p);
  return b;
}

/**
 * Encodes the path attributes: MP_REACH/MP_UNREACH first (RFC 7606 5.1 asks for it so a
 * receiver can always find the NLRI to withdraw), the rest in type-code order, then unknowns.
 * Without the 4-octet AS capability, AS_PATH/AGGREGATOR carry AS_TRANS and AS4_PATH/AS4_AGGREGATOR
 * the real numbers (RFC 6793 4.2.2).
 */
export function encodePathAttributes(attrs: PathAttributes, opts: AttributeCodecOptions): Buffer {
  const parts: Buffer[] = [];
  if (attrs.mpReach !== undefined) {
    parts.push(
      attribute(OPTIONAL_NON_TRANSITIVE, AttributeType.MpReachNlri, encodeMpReachValue(attrs.mpReach)),
    );
  }
  if (attrs.mpUnreach !== undefined) {
    parts.push(
      attribute(OPTIONAL_NON_TRANSITIVE, AttributeType.MpUnreachNlri, encodeMpUnreachValue(attrs.mpUnreach)),
    );
  }
  if (attrs.origin !== undefined)
    parts.push(attribute(WELL_KNOWN, AttributeType.Origin, Buffer.from([attrs.origin])));
  if (attrs.asPath !== undefined) {
    parts.push(
      attribute(WELL_KNOWN, AttributeType.AsPath, encodeAsPathValue(attrs.asPath, opts.fourOctetAs ? 4 : 2)),
    );
  }
  if (attrs.nextHop !== undefined)
    parts.push(attribute(WELL_KNOWN, AttributeType.NextHop, addressBytes(attrs.nextHop)));
  if (attrs.med !== undefined)
    parts.push(attribute(OPTIONAL_NON_TRANSITIVE, AttributeType.MultiExitDisc, u32(attrs.med)));
  if (attrs.localPref !== undefined)
    parts.push(attribute(WELL_KNOWN, AttributeType.LocalPref, u32(attrs.localPref)));
  if (attrs.atomicAggregate === true)
    parts.push(attribute(WELL_KNOWN, AttributeType.AtomicAggregate, Buffer.alloc(0)));
  if (attrs.aggregator !== undefined) {
    const { asn, address } = attrs.aggregator;
    const asField = opts.fourOctetAs ? u32(asn) : u16(asn > 0xffff ? AS_TRANS : asn);
    const value = Buffer.concat([asField, ipv4Bytes(address)]);
    parts.push(attribute(OPTIONAL_TRANSITIVE, AttributeType.Aggregator, value));
  }
  if (attrs.communities !== undefined && attrs.communities.length > 0) {
    parts.push(
      attribute(OPTIONAL_TRANSITIVE, AttributeType.Communities, Buffer.concat(attrs.communities.map(u32))),
    );
  }
  if (attrs.originatorId !== undefined) {
    parts.push(attribute(OPTIONAL_NON_TRANSITIVE, AttributeType.OriginatorId, u32(attrs.originatorId)));
  }
  if (attrs.clusterList !== undefined && attrs.clusterList.length > 0) {
    parts.push(
      attribute(
        OPTIONAL_NON_TRANSITIVE,
        AttributeType.ClusterList,
        Buffer.concat(attrs.clusterList.map(u32)),
      ),
    );
  }
  if (attrs.extendedCommunities !== undefined && attrs.extendedCommunities.length > 0) {
    const b = Buffer.allocUnsafe(8 * attrs.extendedCommunities.length);
    attrs.extendedCommunities.forEach((c, i) => b.writeBigUInt64BE(BigInt.asUintN(64, c), 8 * i));
    parts.push(attribute(OPTIONAL_TRANSITIVE, AttributeType.ExtendedCommunities, b));
  }
  if (!opts.fourOctetAs && attrs.asPath !== undefined && needsFourOctets(attrs.asPath)) {
    // AS4_PATH never carries confederation segments (RFC 6793 3).
    const path = attrs.asPath.filter((s) => s.kind === "sequence" || s.kind === "set");
    parts.push(attribute(OPTIONAL_TRANSITIVE, AttributeType.As4Path, encodeAsPathValue(path, 4)));
  }
  if (!opts.fourOctetAs && attrs.aggregator !== undefined && attrs.aggregator.asn > 0xffff) {
    const value = Buffer.concat([u32(attrs.aggregator.asn), ipv4Bytes(attrs.aggregator.address)]);
    parts.push(attribute(OPTIONAL_TRANSITIVE, AttributeType.As4Aggregator, value));
  }
  if (attrs.largeCommunities !== undefined && attrs.largeCommunities.length > 0) {
    const b = Buffer.allocUnsafe(12 * attrs.largeCommunities.length);
    attrs.largeCommunities.forEach((c, i) => {
      b.writeUInt32BE(c.globalAdmin >>> 0, 12 * i);
      b.writeUInt32BE(c.localData1 >>> 0, 12 * i + 4);
      b.writeUInt32BE(c.localData2 >>> 0, 12 * i + 8);
    });
    parts.push(attribute(OPTIONAL_TRANSITIVE, AttributeType.LargeCommunities, b));
  }
  for (const raw of attrs.unknown ?? []) parts.push(attribute(raw.flags, raw.typeCode, raw.value));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// Decoding

type MutableAttributes = {
  -readonly [K in keyof PathAttributes]: PathAttributes[K];
};

export interface AttributesParse {
  readonly attributes: PathAttributes;
  readonly problems: AttributeProblem[];
  /** Type codes present in the field, well-formed or not. */
  readonly present: ReadonlySet<number>;
}

type Verdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly action: RecoveryAction; readonly subcode: number; readonly detail: string }
  | {
      readonly ok: false;
      readonly action: "session-reset";
      readonly subcode: number;
      readonly detail: string;
    };

const accepted: Verdict = { ok: true };

function withdraw(subcode: number, detail: string): Verdict {
  return { ok: false, action: "treat-as-withdraw", subcode, detail };
}
function discard(subcode: number, detail: string): Verdict {
  return { ok: false, action: "attribute-discard", subcode, detail };
}
function reset(subcode: number, detail: string): Verdict {
  return { ok: false, action: "session-reset", subcode, detail };
}

type AsPathParse = { readonly path: AsPathSegment[] } | { readonly error: string };

function decodeAsPathValue(value: Buffer, asSize: 2 | 4): AsPathParse {
  const path: AsPathSegment[] = [];
  let off = 0;
  while (off < value.length) {
    if (off + 2 > value.length) return { error: "a single octet left where a segment header should be" };
    const kind = SEGMENT_KIND_BY_CODE[value.readUInt8(off)];
    if (kind === undefined) return { error: `unknown segment type ${value.readUInt8(off)}` };
    const count = value.readUInt8(off + 1);
    if (count === 0) return { error: "segment of length zero" };
    off += 2;
    if (off + count * asSize > value.length) return { error: "segment overruns the attribute" };
    const asns: number[] = [];
    for (let i = 0; i < count; i++) {
      asns.push(asSize === 4 ? value.readUInt32BE(off) : value.readUInt16BE(off));
      off += asSize;
    }
    path.push({ kind, asns });
  }
  return { path };
}

/** Path length as RFC 4271 9.1.2.2 counts it: each sequence ASN is one, a set is one, confed parts zero. */
function pathElements(
  path: readonly AsPathSegment[],
): { kind: "sequence" | "set"; asns: readonly number[] }[] {
  const elements: { kind: "sequence" | "set"; asns: readonly number[] }[] = [];
  for (const seg of path) {
    if (seg.kind === "sequence") for (const asn of seg.asns) elements.push({ kind: "sequence", asns: [asn] });
    else if (seg.kind === "set") elements.push({ kind: "set", asns: seg.asns });
  }
  return elements;
}

/**
 * RFC 6793 4.2.3: rebuild the real path from a 2-octet AS_PATH and an AS4_PATH by keeping the
 * leading ASNs of AS_PATH that AS4_PATH does not cover. When AS4_PATH is longer, it is ignored.
 */
export function mergeAs4Path(
  asPath: readonly AsPathSegment[],
  as4Path: readonly AsPathSegment[],
): AsPathSegment[] {
  const outer = pathElements(asPath);
  const inner = pathElements(as4Path);
  if (inner.length > outer.length) return [...asPath];
  const confed = asPath.filter((s) => s.kind === "confedSequence" || s.kind === "confedSet");
  const merged = [...outer.slice(0, outer.length - inner.length), ...inner];
  const segments: AsPathSegment[] = [...confed];
  let run: number[] | undefined;
  for (const el of merged) {
    if (el.kind === "sequence") {
      if (run === undefined) {
        run = [];
        segments.push({ kind: "sequence", asns: run });
      }
      run.push(...el.asns);
    } else {
      run = undefined;
      segments.push({ kind: "set", asns: [...el.asns] });
    }
  }
  return segments;
}

function isValidIPv4NextHop(value: number): boolean {
  if (value === 0 || value === 0xffffffff) return false;
  return value >>> 28 !== 0xe; // not multicast 224.0.0.0/4
}

function readAddress(value: Buffer, offset: number, length: 4 | 16): IPAddr {
  if (length === 4) return { family: "IPv4", value: BigInt(value.readUInt32BE(offset)) };
  return {
    family: "IPv6",
    value: (value.readBigUInt64BE(offset) << 64n) | value.readBigUInt64BE(offset + 8),
  };
}

function familyOfAfiSafi(afi: number, safi: number): "IPv4" | "IPv6" | undefined {
  if (safi !== Safi.Unicast) return undefined;
  if (afi === Afi.IPv4) return "IPv4";
  if (afi === Afi.IPv6) return "IPv6";
  return undefined;
}

type MpReachParse =
  { readonly mp: MpReachNlri } | { readonly unsupported: true } | { readonly error: string };

function decodeMpReach(value: Buffer): MpReachParse {
  if (value.length < 5) return { error: `MP_REACH_NLRI of ${value.length} bytes is too short` };
  const afi = value.readUInt16BE(0);
  const safi = value.readUInt8(2);
  const family = familyOfAfiSafi(afi, safi);
  if (family === undefined) return { unsupported: true };
  const nhLength = value.readUInt8(3);
  if (4 + nhLength + 1 > value.length) return { error: `next hop length ${nhLength} overruns MP_REACH_NLRI` };
  const nextHops: IPAddr[] = [];
  if (nhLength === 4) nextHops.push(readAddress(value, 4, 4));
  else if (nhLength === 16) nextHops.push(readAddress(value, 4, 16));
  else if (nhLength === 32) nextHops.push(readAddress(value, 4, 16), readAddress(value, 20, 16));
  else return { error: `next hop length ${nhLength} is not 4, 16 or 32` };
  if (family === "IPv6" && nhLength === 4) return { error: "IPv6 unicast with a 4-byte next hop" };
  const parsed = decodePrefixes(value.subarray(5 + nhLength), family);
  if ("error" in parsed) return { error: `MP_REACH_NLRI: ${parsed.error}` };
  return { mp: { afi, safi, nextHops, nlri: parsed.prefixes } };
}

type MpUnreachParse =
  { readonly mp: MpUnreachNlri } | { readonly unsupported: true } | { readonly error: string };

function decodeMpUnreach(value: Buffer): MpUnreachParse {
  if (value.length < 3) return { error: `MP_UNREACH_NLRI of ${value.length} bytes is too short` };
  const afi = value.readUInt16BE(0);
  const safi = value.readUInt8(2);
  const family = familyOfAfiSafi(afi, safi);
  if (family === undefined) return { unsupported: true };
  const parsed = decodePrefixes(value.subarray(3), family);
  if ("error" in parsed) return { error: `MP_UNREACH_NLRI: ${parsed.error}` };
  return { mp: { afi, safi, withdrawn: parsed.prefixes } };
}

function u32List(value: Buffer, width: 4): number[] {
  const out: number[] = [];
  for (let off = 0; off + width <= value.length; off += width) out.push(value.readUInt32BE(off));
  return out;
}

interface DecodeState {
  readonly attrs: MutableAttributes;
  readonly opts: AttributeCodecOptions;
  as4Path?: AsPathSegment[];
  as4Aggregator?: Aggregator;
  unknown: RawAttribute[];
}

function lengthIs(value: Buffer, expected: number, name: string): Verdict {
  return value.length === expected
    ? accepted
    : withdraw(
        UpdateErrorSubcode.AttributeLengthError,
        `${name} length ${value.length}, expected ${expected}`,
      );
}

function nonZeroMultiple(value: Buffer, unit: number, name: string): Verdict {
  return value.length > 0 && value.length % unit === 0
    ? accepted
    : withdraw(
        UpdateErrorSubcode.AttributeLengthError,
        `${name} length ${value.length} is not a non-zero multiple of ${unit}`,
      );
}

/** Validates and stores one recognised attribute; returns how the UPDATE survives a problem. */
function decodeKnown(typeCode: number, value: Buffer, st: DecodeState): Verdict {
  const a = st.attrs;
  const asSize = st.opts.fourOctetAs ? 4 : 2;
  switch (typeCode) {
    case AttributeType.Origin: {
      const v = lengthIs(value, 1, "ORIGIN");
      if (!v.ok) return v;
      const origin = value.readUInt8(0);
      if (origin > 2) return withdraw(UpdateErrorSubcode.InvalidOrigin, `ORIGIN value ${origin}`);
      a.origin = origin as OriginCode;
      return accepted;
    }
    case AttributeType.AsPath: {
      const parsed = decodeAsPathValue(value, asSize);
      if ("error" in parsed) return withdraw(UpdateErrorSubcode.MalformedAsPath, `AS_PATH: ${parsed.error}`);
      a.asPath = parsed.path;
      return accepted;
    }
    case AttributeType.NextHop: {
      const v = lengthIs(value, 4, "NEXT_HOP");
      if (!v.ok) return v;
      const nh = value.readUInt32BE(0);
      if (!isValidIPv4NextHop(nh))
        return withdraw(UpdateErrorSubcode.InvalidNextHop, "NEXT_HOP is not a unicast address");
      a.nextHop = { family: "IPv4", value: BigInt(nh) };
      return accepted;
    }
    case AttributeType.MultiExitDisc: {
      const v = lengthIs(value, 4, "MULTI_EXIT_DISC");
      if (!v.ok) return v;
      a.med = value.readUInt32BE(0);
      return accepted;
    }
    case AttributeType.LocalPref: {
      if (st.opts.external === true) {
        return discard(
          UpdateErrorSubcode.OptionalAttributeError,
          "LOCAL_PREF received from an external peer",
        );
      }
      const v = lengthIs(value, 4, "LOCAL_PREF");
      if (!v.ok) return v;
      a.localPref = value.readUInt32BE(0);
      return accepted;
    }
    case AttributeType.AtomicAggregate:
      if (value.length !== 0) {
        return discard(
          UpdateErrorSubcode.AttributeLengthError,
          `ATOMIC_AGGREGATE length ${value.length}, expected 0`,
        );
      }
      a.atomicAggregate = true;
      return accepted;
    case AttributeType.Aggregator: {
      const expected = asSize + 4;
      if (value.length !== expected) {
        return discard(
          UpdateErrorSubcode.AttributeLengthError,
          `AGGREGATOR length ${value.length}, expected ${expected}`,
        );
      }
      const asn = asSize === 4 ? value.readUInt32BE(0) : value.readUInt16BE(0);
      a.aggregator = { asn, address: BigInt(value.readUInt32BE(asSize)) };
      return accepted;
    }
    case AttributeType.Communities: {
      const v = nonZeroMultiple(value, 4, "COMMUNITIES");
      if (!v.ok) return v;
      a.communities = u32List(value, 4);
      return accepted;
    }
    case AttributeType.OriginatorId: {
      const v = lengthIs(value, 4, "ORIGINATOR_ID");
      if (!v.ok) return v;
      a.originatorId = value.readUInt32BE(0);
      return accepted;
    }
    case AttributeType.ClusterList: {
      const v = nonZeroMultiple(value, 4, "CLUSTER_LIST");
      if (!v.ok) return v;
      a.clusterList = u32List(value, 4);
      return accepted;
    }
    case AttributeType.ExtendedCommunities: {
      const v = nonZeroMultiple(value, 8, "EXTENDED_COMMUNITIES");
      if (!v.ok) return v;
      const list: bigint[] = [];
      for (let off = 0; off < value.length; off += 8) list.push(value.readBigUInt64BE(off));
      a.extendedCommunities = list;
      return accepted;
    }
    case AttributeType.LargeCommunities: {
      const v = nonZeroMultiple(value, 12, "LARGE_COMMUNITIES");
      if (!v.ok) return v;
      const list: LargeCommunity[] = [];
      for (let off = 0; off < value.length; off += 12) {
        list.push({
          globalAdmin: value.readUInt32BE(off),
          localData1: value.readUInt32BE(off + 4),
          localData2: value.readUInt32BE(off + 8),
        });
      }
      a.largeCommunities = list;
      return accepted;
    }
    case AttributeType.As4Path: {
      // RFC 6793 6: a malformed AS4_PATH is discarded; between 4-octet speakers it is ignored.
      const parsed = decodeAsPathValue(value, 4);
      if ("error" in parsed)
        return discard(UpdateErrorSubcode.OptionalAttributeError, `AS4_PATH: ${parsed.error}`);
      if (parsed.path.some((s) => s.kind !== "sequence" && s.kind !== "set")) {
        return discard(UpdateErrorSubcode.OptionalAttributeError, "AS4_PATH carries confederation segments");
      }
      if (!st.opts.fourOctetAs) st.as4Path = parsed.path;
      return accepted;
    }
    case AttributeType.As4Aggregator: {
      if (value.length !== 8) {
        return discard(
          UpdateErrorSubcode.OptionalAttributeError,
          `AS4_AGGREGATOR length ${value.length}, expected 8`,
        );
      }
      if (!st.opts.fourOctetAs)
        st.as4Aggregator = { asn: value.readUInt32BE(0), address: BigInt(value.readUInt32BE(4)) };
      return accepted;
    }
    case AttributeType.MpReachNlri: {
      const parsed = decodeMpReach(value);
      // The next hop precedes the NLRI, so a bad one hides what to withdraw: session reset (RFC 7606 7.11).
      if ("error" in parsed) return reset(UpdateErrorSubcode.OptionalAttributeError, parsed.error);
      if ("unsupported" in parsed)
        st.unknown.push({ flags: OPTIONAL_NON_TRANSITIVE, typeCode, value: Buffer.from(value) });
      else a.mpReach = parsed.mp;
      return accepted;
    }
    case AttributeType.MpUnreachNlri: {
      const parsed = decodeMpUnreach(value);
      if ("error" in parsed) return reset(UpdateErrorSubcode.OptionalAttributeError, parsed.error);
      if ("unsupported" in parsed)
        st.unknown.push({ flags: OPTIONAL_NON_TRANSITIVE, typeCode, value: Buffer.from(value) });
      else a.mpUnreach = parsed.mp;
      return accepted;
    }
    default:
      return accepted;
  }
}

const MP_TYPES: ReadonlySet<number> = new Set([AttributeType.MpReachNlri, AttributeType.MpUnreachNlri]);

/**
 * Decodes the path attributes field. Returns the attributes that survived and the problems met,
 * or a BgpProtocolError when RFC 7606 requires a session reset.
 */
export function decodePathAttributes(
  buf: Buffer,
  opts: AttributeCodecOptions,
): AttributesParse | BgpProtocolError {
  const st: DecodeState = { attrs: {}, opts, unknown: [] };
  const problems: AttributeProblem[] = [];
  const seen = new Set<number>();
  let off = 0;
  while (off < buf.length) {
    const left = buf.length - off;
    const flags = buf.readUInt8(off);
    const headerLength = flags & AttributeFlag.ExtendedLength ? 4 : 3;
    if (left < headerLength) {
      // RFC 7606 4: too few bytes left for an attribute header.
      problems.push({
        action: "treat-as-withdraw",
        typeCode: 0,
        subcode: UpdateErrorSubcode.MalformedAttributeList,
        detail: `${left} trailing bytes cannot hold an attribute header`,
      });
      break;
    }
    const typeCode = buf.readUInt8(off + 1);
    const length = headerLength === 4 ? buf.readUInt16BE(off + 2) : buf.readUInt8(off + 2);
    if (off + headerLength + length > buf.length) {
      // RFC 7606 4: the last attribute overruns the Total Path Attribute Length.
      problems.push({
        action: "treat-as-withdraw",
        typeCode,
        subcode: UpdateErrorSubcode.AttributeLengthError,
        detail: `attribute ${typeCode} of length ${length} overruns the attributes field`,
      });
      break;
    }
    const whole = buf.subarray(off, off + headerLength + length);
    const value = buf.subarray(off + headerLength, off + headerLength + length);
    off += headerLength + length;

    if (seen.has(typeCode)) {
      if (MP_TYPES.has(typeCode)) {
        return new BgpProtocolError(
          ErrorCode.UpdateMessage,
          UpdateErrorSubcode.MalformedAttributeList,
          Buffer.alloc(0),
          `attribute ${typeCode} appears more than once`,
        );
      }
      problems.push({
        action: "attribute-discard",
        typeCode,
        subcode: UpdateErrorSubcode.MalformedAttributeList,
        detail: `repeated attribute ${typeCode} discarded`,
      });
      continue;
    }
    seen.add(typeCode);

    const expected = EXPECTED_FLAGS[typeCode];
    if (expected === undefined) {
      if ((flags & AttributeFlag.Optional) === 0) {
        return new BgpProtocolError(
          ErrorCode.UpdateMessage,
          UpdateErrorSubcode.UnrecognizedWellKnownAttribute,
          Buffer.from(whole),
          `unrecognized well-known attribute ${typeCode}`,
        );
      }
      // Unrecognised optional transitive attributes pass on marked Partial; non-transitive ones are dropped.
      if (flags & AttributeFlag.Transitive) {
        st.unknown.push({ flags: flags | AttributeFlag.Partial, typeCode, value: Buffer.from(value) });
      }
      continue;
    }
    let flagsBad = false;
    if ((flags & CATEGORY_BITS) !== expected) {
      flagsBad = true;
      problems.push({
        action: "treat-as-withdraw",
        typeCode,
        subcode: UpdateErrorSubcode.AttributeFlagsError,
        detail: `attribute ${typeCode} flags 0x${flags.toString(16)} conflict with its type`,
      });
      // The MP attributes are still parsed: their NLRI is what treat-as-withdraw withdraws.
      if (!MP_TYPES.has(typeCode)) continue;
    }
    const verdict = decodeKnown(typeCode, value, st);
    if (verdict.ok) continue;
    if (verdict.action === "session-reset") {
      return new BgpProtocolError(
        ErrorCode.UpdateMessage,
        verdict.subcode,
        Buffer.from(whole),
        verdict.detail,
      );
    }
    if (!flagsBad)
      problems.push({ action: verdict.action, typeCode, subcode: verdict.subcode, detail: verdict.detail });
  }

  const a = st.attrs;
  if (!opts.fourOctetAs) {
    // RFC 6793 4.2.3: AS4 attributes count only when AGGREGATOR (if any) carries AS_TRANS.
    const aggregatorHidesAs4 = a.aggregator !== undefined && a.aggregator.asn !== AS_TRANS;
    if (!aggregatorHidesAs4) {
      if (st.as4Path !== undefined && a.asPath !== undefined) a.asPath = mergeAs4Path(a.asPath, st.as4Path);
      if (st.as4Aggregator !== undefined && a.aggregator !== undefined) a.aggregator = st.as4Aggregator;
    }
  }
  if (st.unknown.length > 0) a.unknown = st.unknown;
  return { attributes: a, problems, present: seen };
}
