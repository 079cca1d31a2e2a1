/**
 * The 19-byte message header (RFC 4271 4.1): 16 bytes of 0xff marker, 2-byte total length,
 * 1-byte type. Header errors are checked in the RFC's order: marker, length, type.
 */
import {
  ErrorCode,
  HEADER_LENGTH,
  HeaderErrorSubcode,
  MARKER_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageType,
  MIN_MESSAGE_LENGTH,
  type MessageTypeCode,
} from "./constants.js";
import { fail, ok, type DecodeResult } from "./errors.js";

export interface MessageHeader {
  readonly length: number;
  readonly type: MessageTypeCode;
}

function isKnownType(type: number): type is MessageTypeCode {
  return type >= MessageType.Open && type <= MessageType.RouteRefresh;
}

/** Validates the header at the start of `buf` (which holds at least HEADER_LENGTH bytes). */
export function checkHeader(buf: Buffer, maxLength = MAX_MESSAGE_LENGTH): DecodeResult<MessageHeader> {
  for (let i = 0; i < MARKER_LENGTH; i++) {
    if (buf[i] !== 0xff) {
      return fail(
        ErrorCode.MessageHeader,
        HeaderErrorSubcode.ConnectionNotSynchronized,
        "marker is not all ones",
      );
    }
  }
  const length = buf.readUInt16BE(MARKER_LENGTH);
  const lengthField = Buffer.from(buf.subarray(MARKER_LENGTH, MARKER_LENGTH + 2));
  if (length < HEADER_LENGTH || length > maxLength) {
    return fail(
      ErrorCode.MessageHeader,
      HeaderErrorSubcode.BadMessageLength,
      `length ${length} outside ${HEADER_LENGTH}..${maxLength}`,
      lengthField,
    );
  }
  const type = buf.readUInt8(MARKER_LENGTH + 2);
  if (!isKnownType(type)) {
    return fail(
      ErrorCode.MessageHeader,
      HeaderErrorSubcode.BadMessageType,
      `unknown message type ${type}`,
      Buffer.from([type]),
    );
  }
  const min = MIN_MESSAGE_LENGTH[type];
  // KEEPALIVE is exactly a header; ROUTE-REFRESH length is checked by its decoder (RFC 7313 code 7).
  const tooShort = length < min || (type === MessageType.Keepalive && length !== min);
  if (tooShort) {
    return fail(
      ErrorCode.MessageHeader,
      HeaderErrorSubcode.BadMessageLength,
      `length ${length} invalid for message type ${type}`,
      lengthField,
    );
  }
  return ok({ length, type });
}

/** Allocates a whole message with its header filled in; the caller writes the body at offset 19. */
export function allocMessage(type: MessageTypeCode, bodyLength: number): Buffer {
  const length = HEADER_LENGTH + bodyLength;
  const buf = Buffer.allocUnsafe(length);
  buf.fill(0xff, 0, MARKER_LENGTH);
  buf.writeUInt16BE(length, MARKER_LENGTH);
  buf.writeUInt8(type, MARKER_LENGTH + 2);
  return buf;
}

export function frameMessage(type: MessageTypeCode, body: Buffer): Buffer {
  const buf = allocMessage(type, body.length);
  body.copy(buf, HEADER_LENGTH);
  return buf;
}
