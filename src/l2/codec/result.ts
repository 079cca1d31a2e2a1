/**
 * What every decoder returns: a typed value or a typed reason. Decoders never throw on bad
 * input, so one malformed packet cannot escape a receive loop; callers count the reasons.
 */

export type DecodeErrorReason =
  /** Fewer bytes than the fixed part of the header needs. */
  | "truncated"
  /** A length field or an option length disagrees with the bytes present or the link type. */
  | "wrong-length"
  | "bad-checksum"
  /** NDP messages must arrive with hop limit 255 (RFC 4861 §7.1): anything else crossed a router. */
  | "wrong-hop-limit"
  /** Well-formed but not something this codec handles (another hardware type, ICMPv6 type…). */
  | "unsupported"
  /** A field holds a value the protocol forbids (a multicast target, a non-zero ICMP code…). */
  | "malformed";

export const DECODE_ERROR_REASONS: readonly DecodeErrorReason[] = [
  "truncated",
  "wrong-length",
  "bad-checksum",
  "wrong-hop-limit",
  "unsupported",
  "malformed",
];

export interface DecodeOk<T> {
  readonly ok: true;
  readonly value: T;
}

export interface DecodeError {
  readonly ok: false;
  readonly reason: DecodeErrorReason;
  /** A short human text for debug logs, e.g. "ARP hardware type 6". */
  readonly detail: string;
}

export type DecodeResult<T> = DecodeOk<T> | DecodeError;

export function decoded<T>(value: T): DecodeOk<T> {
  return { ok: true, value };
}

export function decodeError(reason: DecodeErrorReason, detail: string): DecodeError {
  return { ok: false, reason, detail };
}

/** A DataView over exactly the bytes of `bytes` (which may be a slice of a larger buffer). */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
