/**
 * OPEN (RFC 4271 4.2) with capabilities in optional parameters (RFC 5492) and the RFC 9072
 * extended optional-parameters encoding, used only when the parameters exceed 255 bytes.
 */
import {
  AS_TRANS,
  BGP_VERSION,
  ErrorCode,
  HEADER_LENGTH,
  MessageType,
  OpenErrorSubcode,
  OptionalParameterType,
} from "./constants.js";
import { decodeCapabilities, encodeCapability, findCapability, type Capability } from "./capabilities.js";
import { fail, ok, type DecodeResult } from "./errors.js";
import { frameMessage } from "./header.js";

export interface OpenMessage {
  readonly type: "open";
  readonly version: number;
  /** The 2-octet My Autonomous System field as sent (AS_TRANS when the real AS needs 4 octets). */
  readonly myAs: number;
  readonly holdTime: number;
  /** BGP Identifier as an unsigned 32-bit number. */
  readonly bgpId: number;
  readonly capabilities: readonly Capability[];
}

export interface OpenParams {
  readonly asn: number;
  readonly holdTime: number;
  readonly bgpId: number;
  readonly capabilities: readonly Capability[];
}

/** An OPEN for a (possibly 4-octet) AS: the 2-octet field gets AS_TRANS when needed (RFC 6793 4.1). */
export function buildOpen(params: OpenParams): OpenMessage {
  return {
    type: "open",
    version: BGP_VERSION,
    myAs: params.asn > 0xffff ? AS_TRANS : params.asn,
    holdTime: params.holdTime,
    bgpId: params.bgpId >>> 0,
    capabilities: params.capabilities,
  };
}

/** The sender's real AS: the 4-octet AS capability when present, else the 2-octet field. */
export function peerAsOf(open: OpenMessage): number {
  return findCapability(open.capabilities, "fourOctetAs")?.asn ?? open.myAs;
}

const FIXED_LENGTH = 10;

export function encodeOpen(open: OpenMessage): Buffer {
  const caps = open.capabilities.map(encodeCapability);
  const capsLength = caps.reduce((n, c) => n + c.length, 0);
  const extended = capsLength + 2 * caps.length > 255;
  const paramHeader = extended ? 3 : 2;
  const paramsLength = capsLength + paramHeader * caps.length;
  const lengthFieldSize = extended ? 4 : 1;
  const body = Buffer.alloc(FIXED_LENGTH - 1 + lengthFieldSize + paramsLength);
  body.writeUInt8(open.version, 0);
  body.writeUInt16BE(open.myAs, 1);
  body.writeUInt16BE(open.holdTime, 3);
  body.writeUInt32BE(open.bgpId >>> 0, 5);
  let offset = 9;
  if (extended) {
    body.writeUInt8(255, offset);
    body.writeUInt8(OptionalParameterType.ExtendedLength, offset + 1);
    body.writeUInt16BE(paramsLength, offset + 2);
    offset += 4;
  } else {
    body.writeUInt8(paramsLength, offset);
    offset += 1;
  }
  for (const cap of caps) {
    body.writeUInt8(OptionalParameterType.Capabilities, offset);
    if (extended) body.writeUInt16BE(cap.length, offset + 1);
    else body.writeUInt8(cap.length, offset + 1);
    offset += paramHeader;
    cap.copy(body, offset);
    offset += cap.length;
  }
  return frameMessage(MessageType.Open, body);
}

function openError(subcode: number, detail: string, data?: Buffer): DecodeResult<OpenMessage> {
  return fail(ErrorCode.OpenMessage, subcode, detail, data);
}

/** Decodes a whole OPEN message (header included, already checked by checkHeader). */
export function decodeOpen(msg: Buffer): DecodeResult<OpenMessage> {
  const body = msg.subarray(HEADER_LENGTH);
  if (body.length < FIXED_LENGTH) return openError(OpenErrorSubcode.Unspecific, "OPEN shorter than 10 bytes");
  const version = body.readUInt8(0);
  if (version !== BGP_VERSION) {
    const data = Buffer.alloc(2);
    data.writeUInt16BE(BGP_VERSION, 0);
    return openError(
      OpenErrorSubcode.UnsupportedVersionNumber,
      `version ${version}, only 4 is supported`,
      data,
    );
  }
  const myAs = body.readUInt16BE(1);
  const holdTime = body.readUInt16BE(3);
  const bgpId = body.readUInt32BE(5);
  const nonExtLength = body.readUInt8(9);
  // RFC 9072: a first parameter type of 255 announces the extended (2-byte lengths) encoding.
  const extended =
    nonExtLength > 0 && body.length > 10 && body.readUInt8(10) === OptionalParameterType.ExtendedLength;
  let offset: number;
  let paramsLength: number;
  if (extended) {
    if (body.length < 13)
      return openError(OpenErrorSubcode.Unspecific, "truncated extended parameters length");
    paramsLength = body.readUInt16BE(11);
    offset = 13;
  } else {
    paramsLength = nonExtLength;
    offset = 10;
  }
  if (offset + paramsLength !== body.length) {
    return openError(
      OpenErrorSubcode.Unspecific,
      `optional parameters length ${paramsLength} disagrees with the message (${body.length - offset} bytes)`,
    );
  }
  const capabilities: Capability[] = [];
  const paramHeader = extended ? 3 : 2;
  while (offset < body.length) {
    if (offset + paramHeader > body.length)
      return openError(OpenErrorSubcode.Unspecific, "truncated optional parameter");
    const paramType = body.readUInt8(offset);
    const length = extended ? body.readUInt16BE(offset + 1) : body.readUInt8(offset + 1);
    const start = offset + paramHeader;
    if (start + length > body.length) {
      return openError(OpenErrorSubcode.Unspecific, `optional parameter ${paramType} overruns the message`);
    }
    if (paramType !== OptionalParameterType.Capabilities) {
      return openError(OpenErrorSubcode.UnsupportedOptionalParameter, `optional parameter type ${paramType}`);
    }
    const parsed = decodeCapabilities(body.subarray(start, start + length));
    if ("error" in parsed) return openError(OpenErrorSubcode.Unspecific, parsed.error);
    capabilities.push(...parsed.capabilities);
    offset = start + length;
  }
  return ok({ type: "open", version, myAs, holdTime, bgpId, capabilities });
}
