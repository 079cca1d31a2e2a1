/**
 * One entry point for whole messages: decodeMessage(frame) → typed message or typed error,
 * never an exception; encodeMessage(message) → bytes.
 */
import {
  ErrorCode,
  HEADER_LENGTH,
  HeaderErrorSubcode,
  MAX_MESSAGE_LENGTH,
  MessageType,
} from "./constants.js";
import type { AttributeCodecOptions } from "./attributes.js";
import { protocolError, type AttributeProblem, type BgpProtocolError } from "./errors.js";
import { allocMessage, checkHeader } from "./header.js";
import { decodeNotification, encodeNotification, type NotificationMessage } from "./notification.js";
import { decodeOpen, encodeOpen, type OpenMessage } from "./open.js";
import { decodeRouteRefresh, encodeRouteRefresh, type RouteRefreshMessage } from "./routeRefresh.js";
import { decodeUpdate, encodeUpdate, type UpdateMessage } from "./update.js";

export interface KeepaliveMessage {
  readonly type: "keepalive";
}

export type BgpMessage =
  OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

export type MessageDecodeResult =
  | {
      readonly ok: true;
      readonly message: BgpMessage;
      /** RFC 7606 problems survived (UPDATE only). */
      readonly problems: readonly AttributeProblem[];
      readonly treatAsWithdraw: boolean;
    }
  | { readonly ok: false; readonly error: BgpProtocolError };

export const DEFAULT_CODEC_OPTIONS: AttributeCodecOptions = { fourOctetAs: true };

const KEEPALIVE = allocMessage(MessageType.Keepalive, 0);

export function encodeKeepalive(): Buffer {
  return Buffer.from(KEEPALIVE);
}

export function encodeMessage(
  message: BgpMessage,
  opts: AttributeCodecOptions = DEFAULT_CODEC_OPTIONS,
): Buffer {
  switch (message.type) {
    case "open":
      return encodeOpen(message);
    case "update":
      return encodeUpdate(message, opts);
    case "notification":
      return encodeNotification(message);
    case "keepalive":
      return encodeKeepalive();
    case "routeRefresh":
      return encodeRouteRefresh(message);
  }
}

function success(message: BgpMessage): MessageDecodeResult {
  return { ok: true, message, problems: [], treatAsWithdraw: false };
}

/**
 * Decodes one whole message (as cut by the framer, or any bytes: shorter input or a length
 * field that disagrees with the buffer is a Bad Message Length error).
 */
export function decodeMessage(
  frame: Buffer,
  opts: AttributeCodecOptions = DEFAULT_CODEC_OPTIONS,
): MessageDecodeResult {
  if (frame.length < HEADER_LENGTH) {
    const detail = `only ${frame.length} bytes, less than a header`;
    return {
      ok: false,
      error: protocolError(ErrorCode.MessageHeader, HeaderErrorSubcode.BadMessageLength, detail),
    };
  }
  const header = checkHeader(frame, MAX_MESSAGE_LENGTH);
  if (!header.ok) return header;
  if (header.value.length !== frame.length) {
    const data = Buffer.from(frame.subarray(16, 18));
    const detail = `length field ${header.value.length} but ${frame.length} bytes`;
    return {
      ok: false,
      error: protocolError(ErrorCode.MessageHeader, HeaderErrorSubcode.BadMessageLength, detail, data),
    };
  }
  switch (header.value.type) {
    case MessageType.Open: {
      const r = decodeOpen(frame);
      return r.ok ? success(r.value) : r;
    }
    case MessageType.Update: {
      const r = decodeUpdate(frame, opts);
      if (!r.ok) return r;
      const { update, problems, treatAsWithdraw } = r.value;
      return { ok: true, message: update, problems, treatAsWithdraw };
    }
    case MessageType.Notification: {
      const r = decodeNotification(frame);
      return r.ok ? success(r.value) : r;
    }
    case MessageType.Keepalive:
      return success({ type: "keepalive" });
    case MessageType.RouteRefresh: {
      const r = decodeRouteRefresh(frame);
      return r.ok ? success(r.value) : r;
    }
  }
}
