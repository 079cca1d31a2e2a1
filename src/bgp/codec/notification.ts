/**
 * NOTIFICATION (RFC 4271 4.5) and the shutdown communication (RFC 9003): for Cease
 * Administrative Shutdown/Reset the data is a length byte and up to 255 bytes of UTF-8 text.
 */
import { CeaseSubcode, ErrorCode, HEADER_LENGTH, MessageType } from "./constants.js";
import { ok, type DecodeResult } from "./errors.js";
import { frameMessage } from "./header.js";

export interface NotificationMessage {
  readonly type: "notification";
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
}

export const MAX_SHUTDOWN_COMMUNICATION_BYTES = 255;

export function encodeNotification(n: Omit<NotificationMessage, "type">): Buffer {
  return frameMessage(MessageType.Notification, Buffer.concat([Buffer.from([n.code, n.subcode]), n.data]));
}

export function decodeNotification(msg: Buffer): DecodeResult<NotificationMessage> {
  const body = msg.subarray(HEADER_LENGTH);
  return ok({
    type: "notification",
    code: body.readUInt8(0),
    subcode: body.readUInt8(1),
    data: Buffer.from(body.subarray(2)),
  });
}

/** UTF-8 text cut to at most `maxBytes` bytes without splitting a character. */
function truncateUtf8(text: string, maxBytes: number): Buffer {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return bytes;
  let end = maxBytes;
  // Back up over continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/** The data field for a shutdown communication (empty text gives a zero length byte). */
export function encodeShutdownCommunication(message: string): Buffer {
  const text = truncateUtf8(message, MAX_SHUTDOWN_COMMUNICATION_BYTES);
  return Buffer.concat([Buffer.from([text.length]), text]);
}

export function carriesShutdownCommunication(code: number, subcode: number): boolean {
  return (
    code === ErrorCode.Cease &&
    (subcode === CeaseSubcode.AdministrativeShutdown || subcode === CeaseSubcode.AdministrativeReset)
  );
}

/**
 * The shutdown communication of a Cease NOTIFICATION, or undefined when it has none or it is
 * malformed (length past the data, invalid UTF-8): RFC 9003 says to carry on without it.
 */
export function shutdownCommunicationOf(n: Omit<NotificationMessage, "type">): string | undefined {
  if (!carriesShutdownCommunication(n.code, n.subcode) || n.data.length === 0) return undefined;
  const length = n.data.readUInt8(0);
  if (length === 0 || 1 + length > n.data.length) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(n.data.subarray(1, 1 + length));
  } catch {
    return undefined;
  }
}
