/**
 * Typed decoding outcomes. A decoder never throws on bad input: it returns either a value or a
 * BgpProtocolError that carries exactly what goes into the NOTIFICATION (RFC 4271 section 6),
 * and for UPDATEs a list of the RFC 7606 problems it recovered from.
 */
import { describeNotification, ErrorCode } from "./constants.js";

export class BgpProtocolError extends Error {
  override readonly name = "BgpProtocolError";
  /** Stable text code for logs and metrics, e.g. "UPDATE_MESSAGE_ERROR/MALFORMED_AS_PATH". */
  readonly code: string;

  constructor(
    /** NOTIFICATION error code. */
    readonly errorCode: number,
    /** NOTIFICATION error subcode. */
    readonly subcode: number,
    /** NOTIFICATION data field. */
    readonly data: Buffer,
    readonly detail: string,
  ) {
    super(`${describeNotification(errorCode, subcode)}: ${detail}`);
    this.code = describeNotification(errorCode, subcode)
      .toUpperCase()
      .replace(/ \/ /g, "/")
      .replace(/[^A-Z0-9/]+/g, "_");
  }
}

export type DecodeResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: BgpProtocolError };

export function ok<T>(value: T): DecodeResult<T> {
  return { ok: true, value };
}

export function protocolError(
  errorCode: number,
  subcode: number,
  detail: string,
  data?: Buffer,
): BgpProtocolError {
  return new BgpProtocolError(errorCode, subcode, data ?? Buffer.alloc(0), detail);
}

export function fail<T>(errorCode: number, subcode: number, detail: string, data?: Buffer): DecodeResult<T> {
  return { ok: false, error: protocolError(errorCode, subcode, detail, data) };
}

/** RFC 7606 section 2: how a malformed attribute is survived (session reset is a BgpProtocolError). */
export type RecoveryAction = "treat-as-withdraw" | "attribute-discard";

export interface AttributeProblem {
  readonly action: RecoveryAction;
  /** The attribute type code concerned (0 when the problem is in the attribute list framing). */
  readonly typeCode: number;
  /** The UPDATE error subcode RFC 4271 would have sent, for logs and counters. */
  readonly subcode: number;
  readonly detail: string;
}

export function updateError<T>(subcode: number, detail: string, data?: Buffer): DecodeResult<T> {
  return fail(ErrorCode.UpdateMessage, subcode, detail, data);
}
