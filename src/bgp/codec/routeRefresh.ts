/** ROUTE-REFRESH (RFC 2918; the subtype byte is RFC 7313's, 0 for a plain refresh). */
import { ErrorCode, HEADER_LENGTH, MessageType, RouteRefreshErrorSubcode } from "./constants.js";
import { fail, ok, type DecodeResult } from "./errors.js";
import { frameMessage } from "./header.js";

export interface RouteRefreshMessage {
  readonly type: "routeRefresh";
  readonly afi: number;
  readonly safi: number;
  readonly subtype: number;
}

export function encodeRouteRefresh(m: Omit<RouteRefreshMessage, "type">): Buffer {
  const body = Buffer.alloc(4);
  body.writeUInt16BE(m.afi, 0);
  body.writeUInt8(m.subtype, 2);
  body.writeUInt8(m.safi, 3);
  return frameMessage(MessageType.RouteRefresh, body);
}

export function decodeRouteRefresh(msg: Buffer): DecodeResult<RouteRefreshMessage> {
  const body = msg.subarray(HEADER_LENGTH);
  if (body.length !== 4) {
    // RFC 7313 5: the data is the whole offending message.
    return fail(
      ErrorCode.RouteRefreshMessage,
      RouteRefreshErrorSubcode.InvalidMessageLength,
      `ROUTE-REFRESH body of ${body.length} bytes, expected 4`,
      Buffer.from(msg),
    );
  }
  return ok({
    type: "routeRefresh",
    afi: body.readUInt16BE(0),
    subtype: body.readUInt8(2),
    safi: body.readUInt8(3),
  });
}
