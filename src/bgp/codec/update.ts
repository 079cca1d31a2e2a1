/**
 * UPDATE (RFC 4271 4.3): withdrawn IPv4 routes, path attributes, IPv4 NLRI; IPv6 rides in
 * MP_REACH_NLRI/MP_UNREACH_NLRI (RFC 4760). Also the End-of-RIB marker (RFC 4724 2).
 */
import type { CIDR } from "../../net/ip.js";
import {
  AttributeType,
  ErrorCode,
  HEADER_LENGTH,
  IPV4_UNICAST,
  MessageType,
  UpdateErrorSubcode,
  type AfiSafi,
} from "./constants.js";
import {
  decodePathAttributes,
  encodePathAttributes,
  type AttributeCodecOptions,
  type PathAttributes,
} from "./attributes.js";
import { BgpProtocolError, fail, ok, type AttributeProblem, type DecodeResult } from "./errors.js";
import { allocMessage } from "./header.js";
import { decodePrefixes, prefixesWireLength, writePrefix } from "./prefix.js";

export interface UpdateMessage {
  readonly type: "update";
  /** Withdrawn IPv4 unicast prefixes. */
  readonly withdrawn: readonly CIDR[];
  readonly attributes: PathAttributes;
  /** Announced IPv4 unicast prefixes. */
  readonly nlri: readonly CIDR[];
}

export interface DecodedUpdate {
  readonly update: UpdateMessage;
  /** RFC 7606 problems survived; the UPDATE is otherwise usable. */
  readonly problems: readonly AttributeProblem[];
  /** Some problem requires every prefix announced here to be handled as withdrawn (see withdrawalOf). */
  readonly treatAsWithdraw: boolean;
}

export function encodeUpdate(update: UpdateMessage, opts: AttributeCodecOptions): Buffer {
  const attrs = encodePathAttributes(update.attributes, opts);
  const withdrawnLength = prefixesWireLength(update.withdrawn);
  const nlriLength = prefixesWireLength(update.nlri);
  const msg = allocMessage(MessageType.Update, 4 + withdrawnLength + attrs.length + nlriLength);
  let off = HEADER_LENGTH;
  msg.writeUInt16BE(withdrawnLength, off);
  off += 2;
  for (const p of update.withdrawn) off = writePrefix(msg, off, p);
  msg.writeUInt16BE(attrs.length, off);
  off += 2;
  attrs.copy(msg, off);
  off += attrs.length;
  for (const p of update.nlri) off = writePrefix(msg, off, p);
  return msg;
}

function malformed(detail: string): DecodeResult<DecodedUpdate> {
  return fail(ErrorCode.UpdateMessage, UpdateErrorSubcode.MalformedAttributeList, detail);
}

/** Decodes a whole UPDATE message (header already checked). */
export function decodeUpdate(msg: Buffer, opts: AttributeCodecOptions): DecodeResult<DecodedUpdate> {
  const body = msg.subarray(HEADER_LENGTH);
  if (body.length < 4) return malformed("UPDATE shorter than its two length fields");
  const withdrawnLength = body.readUInt16BE(0);
  if (2 + withdrawnLength + 2 > body.length) {
    return malformed(`withdrawn routes length ${withdrawnLength} exceeds the message`);
  }
  const attrsLength = body.readUInt16BE(2 + withdrawnLength);
  const attrsStart = 4 + withdrawnLength;
  if (attrsStart + attrsLength > body.length) {
    return malformed(`total path attribute length ${attrsLength} exceeds the message`);
  }
  // RFC 7606 5.3: an NLRI field that cannot be parsed leaves no safe recovery: session reset.
  const withdrawn = decodePrefixes(body.subarray(2, 2 + withdrawnLength), "IPv4");
  if ("error" in withdrawn) {
    return fail(
      ErrorCode.UpdateMessage,
      UpdateErrorSubcode.InvalidNetworkField,
      `withdrawn routes: ${withdrawn.error}`,
    );
  }
  const nlri = decodePrefixes(body.subarray(attrsStart + attrsLength), "IPv4");
  if ("error" in nlri)
    return fail(ErrorCode.UpdateMessage, UpdateErrorSubcode.InvalidNetworkField, `NLRI: ${nlri.error}`);
  const parsed = decodePathAttributes(body.subarray(attrsStart, attrsStart + attrsLength), opts);
  if (parsed instanceof BgpProtocolError) return { ok: false, error: parsed };

  const problems = [...parsed.problems];
  const a = parsed.attributes;
  const reachable = nlri.prefixes.length > 0 || (a.mpReach !== undefined && a.mpReach.nlri.length > 0);
  // RFC 7606 3(d): a missing well-known mandatory attribute is treat-as-withdraw, not a reset.
  // (A present but malformed one has already been reported.)
  if (reachable) {
    const missing: string[] = [];
    const has = (type: number): boolean => parsed.present.has(type);
    if (!has(AttributeType.Origin)) missing.push("ORIGIN");
    if (!has(AttributeType.AsPath)) missing.push("AS_PATH");
    if (nlri.prefixes.length > 0 && !has(AttributeType.NextHop)) missing.push("NEXT_HOP");
    for (const name of missing) {
      problems.push({
        action: "treat-as-withdraw",
        typeCode: 0,
        subcode: UpdateErrorSubcode.MissingWellKnownAttribute,
        detail: `missing well-known attribute ${name}`,
      });
    }
  }
  const update: UpdateMessage = {
    type: "update",
    withdrawn: withdrawn.prefixes,
    attributes: a,
    nlri: nlri.prefixes,
  };
  return ok({ update, problems, treatAsWithdraw: problems.some((p) => p.action === "treat-as-withdraw") });
}

/**
 * Every prefix an UPDATE mentions (announced or withdrawn, any family): what RFC 7606
 * treat-as-withdraw withdraws when the UPDATE's attributes are malformed.
 */
export function prefixesOf(update: UpdateMessage): CIDR[] {
  const a = update.attributes;
  return [...update.withdrawn, ...update.nlri, ...(a.mpUnreach?.withdrawn ?? []), ...(a.mpReach?.nlri ?? [])];
}

/** The End-of-RIB marker for a family: an empty UPDATE for IPv4 unicast, an empty MP_UNREACH_NLRI otherwise. */
export function endOfRib(family: AfiSafi): UpdateMessage {
  if (family.afi === IPV4_UNICAST.afi && family.safi === IPV4_UNICAST.safi) {
    return { type: "update", withdrawn: [], attributes: {}, nlri: [] };
  }
  return {
    type: "update",
    withdrawn: [],
    attributes: { mpUnreach: { afi: family.afi, safi: family.safi, withdrawn: [] } },
    nlri: [],
  };
}

/** The family an End-of-RIB marker closes, or undefined when the UPDATE is not one. */
export function endOfRibFamily(update: UpdateMessage): AfiSafi | undefined {
  if (update.withdrawn.length > 0 || update.nlri.length > 0) return undefined;
  const keys = Object.keys(update.attributes).filter(
    (k) => update.attributes[k as keyof PathAttributes] !== undefined,
  );
  if (keys.length === 0) return IPV4_UNICAST;
  const mp = update.attributes.mpUnreach;
  if (keys.length === 1 && mp !== undefined && mp.withdrawn.length === 0)
    return { afi: mp.afi, safi: mp.safi };
  return undefined;
}
