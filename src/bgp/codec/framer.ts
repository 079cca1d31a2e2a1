/**
 * Cuts a TCP byte stream into whole BGP messages. Chunks may hold part of a message or several;
 * the header is validated as soon as its 19 bytes are in, so a bad length is refused before
 * anything is buffered for it. At most one partial message (< max length) is kept between
 * pushes, so memory is bounded whatever the peer sends. After an error the stream is out of
 * sync for good: every later push reports the same error.
 */
import { HEADER_LENGTH, MAX_MESSAGE_LENGTH } from "./constants.js";
import type { BgpProtocolError } from "./errors.js";
import { checkHeader } from "./header.js";

export interface FramerOutput {
  /** Whole messages, in order; each is a private copy, safe to keep. */
  readonly messages: Buffer[];
  /** Set when the stream broke: send this NOTIFICATION and close. */
  readonly error?: BgpProtocolError;
}

export class MessageFramer {
  private pending: Buffer = Buffer.alloc(0);
  private failure: BgpProtocolError | undefined;

  constructor(private readonly maxMessageLength = MAX_MESSAGE_LENGTH) {}

  /** Bytes held for an incomplete message. */
  get buffered(): number {
    return this.pending.length;
  }

  push(chunk: Buffer): FramerOutput {
    if (this.failure !== undefined) return { messages: [], error: this.failure };
    const data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const messages: Buffer[] = [];
    let off = 0;
    while (data.length - off >= HEADER_LENGTH) {
      const header = checkHeader(data.subarray(off, off + HEADER_LENGTH), this.maxMessageLength);
      if (!header.ok) {
        this.failure = header.error;
        this.pending = Buffer.alloc(0);
        return { messages, error: header.error };
      }
      const { length } = header.value;
      if (data.length - off < length) break;
      messages.push(Buffer.from(data.subarray(off, off + length)));
      off += length;
    }
    // Copy the remainder so a large chunk is not retained for a few trailing bytes.
    this.pending = off === data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(off));
    return { messages };
  }
}
