/**
 * Binary codec for membership messages (the plaintext inside the AEAD envelope).
 *
 *   message := version u8 (1) | type u8 | body | count u16 | update*
 *   ping     body := seq u32 | target str
 *   ack/nack body := seq u32
 *   ping-req body := seq u32 | target str | addr
 *   sync     body := flags u8 (bit 0: want reply)
 *   gossip   body := (empty)
 *   update  := kind u8 | name str | incarnation u32 | alive: addr | suspect, dead: from str | left: -
 *   str     := length u8 | UTF-8 bytes (node names are at most 253 bytes)
 *   addr    := family u8 (4 | 6) | 4 or 16 address bytes | port u16
 *
 * All integers big-endian. Decoding checks every length and rejects trailing bytes.
 */
import { formatIP, parseIP } from "../net/ip.js";
import { memberAddress, type MemberAddress } from "./address.js";
import type { Message, MessageType, Update, UpdateKind } from "./messages.js";

export const CODEC_VERSION = 1;

const TYPE_CODES: Readonly<Record<MessageType, number>> = {
  ping: 1,
  ack: 2,
  "ping-req": 3,
  nack: 4,
  sync: 5,
  gossip: 6,
};
const KIND_CODES: Readonly<Record<UpdateKind, number>> = { alive: 1, suspect: 2, dead: 3, left: 4 };
const TYPES = new Map<number, MessageType>(
  Object.entries(TYPE_CODES).map(([type, code]) => [code, type as MessageType]),
);
const KINDS = new Map<number, UpdateKind>(
  Object.entries(KIND_CODES).map(([kind, code]) => [code, kind as UpdateKind]),
);

export const MAX_NAME_BYTES = 255;
const MAX_UPDATES = 0xffff;
const MAX_U32 = 0xffffffff;

export class MembershipCodecError extends Error {
  override readonly name = "MembershipCodecError";
  readonly code = "ERR_MEMBERSHIP_CODEC";
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

const strSize = (text: string): number => 1 + Buffer.byteLength(text, "utf8");
const addrSize = (addr: MemberAddress): number => (addr.ip.includes(":") ? 19 : 7);

/** Encoded size of one update. */
export function updateSize(update: Update): number {
  const common = 1 + strSize(update.name) + 4;
  switch (update.kind) {
    case "alive":
      return common + addrSize(update.addr);
    case "suspect":
    case "dead":
      return common + strSize(update.from);
    case "left":
      return common;
  }
}

/** Encoded size of `message` without its updates (header, body and the update count). */
export function messageBaseSize(message: Message): number {
  const header = 2;
  const count = 2;
  switch (message.type) {
    case "ping":
      return header + 4 + strSize(message.target) + count;
    case "ack":
    case "nack":
      return header + 4 + count;
    case "ping-req":
      return header + 4 + strSize(message.target) + addrSize(message.addr) + count;
    case "sync":
      return header + 1 + count;
    case "gossip":
      return header + count;
  }
}

export function messageSize(message: Message): number {
  let size = messageBaseSize(message);
  for (const update of message.updates) size += updateSize(update);
  return size;
}

class Writer {
  readonly bytes: Buffer;
  private offset = 0;

  constructor(size: number) {
    this.bytes = Buffer.alloc(size);
  }

  u8(value: number): void {
    this.bytes.writeUInt8(value, this.offset);
    this.offset += 1;
  }

  u16(value: number): void {
    this.bytes.writeUInt16BE(value, this.offset);
    this.offset += 2;
  }

  u32(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > MAX_U32) {
      throw new MembershipCodecError(`${value} does not fit in 32 bits`);
    }
    this.bytes.writeUInt32BE(value, this.offset);
    this.offset += 4;
  }

  str(text: string): void {
    const encoded = encoder.encode(text);
    if (encoded.length > MAX_NAME_BYTES) throw new MembershipCodecError(`name "${text}" is too long`);
    this.u8(encoded.length);
    this.bytes.set(encoded, this.offset);
    this.offset += encoded.length;
  }

  addr(addr: MemberAddress): void {
    const ip = parseIP(addr.ip);
    const width = ip.family === "IPv4" ? 4 : 16;
    this.u8(ip.family === "IPv4" ? 4 : 6);
    for (let i = width - 1; i >= 0; i--) this.u8(Number((ip.value >> BigInt(i * 8)) & 0xffn));
    this.u16(addr.port);
  }

  done(): Buffer {
    if (this.offset !== this.bytes.length) {
      throw new MembershipCodecError(`size mismatch: wrote ${this.offset} of ${this.bytes.length}`);
    }
    return this.bytes;
  }
}

class Reader {
  private offset = 0;

  constructor(private readonly bytes: Uint8Array) {}

  private need(count: number, what: string): void {
    if (this.offset + count > this.bytes.length) throw new MembershipCodecError(`truncated ${what}`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.offset++] ?? 0;
  }

  u16(what: string): number {
    return (this.u8(what) << 8) | this.u8(what);
  }

  u32(what: string): number {
    this.need(4, what);
    return this.u16(what) * 0x10000 + this.u16(what);
  }

  str(what: string): string {
    const length = this.u8(what);
    this.need(length, what);
    const slice = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    try {
      return decoder.decode(slice);
    } catch (error) {
      throw new MembershipCodecError(`${what} is not UTF-8`, { cause: error });
    }
  }

  addr(what: string): MemberAddress {
    const family = this.u8(what);
    if (family !== 4 && family !== 6) throw new MembershipCodecError(`${what}: unknown family ${family}`);
    const width = family === 4 ? 4 : 16;
    this.need(width + 2, what);
    let value = 0n;
    for (let i = 0; i < width; i++) value = (value << 8n) | BigInt(this.u8(what));
    const ip = formatIP({ family: family === 4 ? "IPv4" : "IPv6", value });
    const port = this.u16(what);
    if (port === 0) throw new MembershipCodecError(`${what}: port 0`);
    return memberAddress(ip, port);
  }

  end(): void {
    if (this.offset !== this.bytes.length) {
      throw new MembershipCodecError(`${this.bytes.length - this.offset} trailing bytes`);
    }
  }
}

function writeUpdate(writer: Writer, update: Update): void {
  writer.u8(KIND_CODES[update.kind]);
  writer.str(update.name);
  writer.u32(update.incarnation);
  switch (update.kind) {
    case "alive":
      writer.addr(update.addr);
      break;
    case "suspect":
    case "dead":
      writer.str(update.from);
      break;
    case "left":
      break;
  }
}

function readUpdate(reader: Reader): Update {
  const code = reader.u8("update kind");
  const kind = KINDS.get(code);
  if (kind === undefined) throw new MembershipCodecError(`unknown update kind ${code}`);
  const name = reader.str("member name");
  const incarnation = reader.u32("incarnation");
  switch (kind) {
    case "alive":
      return { kind, name, incarnation, addr: reader.addr("member address") };
    case "suspect":
    case "dead":
      return { kind, name, incarnation, from: reader.str("suspecting member") };
    case "left":
      return { kind, name, incarnation };
  }
}

export function encodeMessage(message: Message): Buffer {
  if (message.updates.length > MAX_UPDATES) throw new MembershipCodecError("too many updates");
  const writer = new Writer(messageSize(message));
  writer.u8(CODEC_VERSION);
  writer.u8(TYPE_CODES[message.type]);
  switch (message.type) {
    case "ping":
      writer.u32(message.seq);
      writer.str(message.target);
      break;
    case "ack":
    case "nack":
      writer.u32(message.seq);
      break;
    case "ping-req":
      writer.u32(message.seq);
      writer.str(message.target);
      writer.addr(message.addr);
      break;
    case "sync":
      writer.u8(message.wantReply ? 1 : 0);
      break;
    case "gossip":
      break;
  }
  writer.u16(message.updates.length);
  for (const update of message.updates) writeUpdate(writer, update);
  return writer.done();
}

export function decodeMessage(bytes: Uint8Array): Message {
  const reader = new Reader(bytes);
  const version = reader.u8("version");
  if (version !== CODEC_VERSION) throw new MembershipCodecError(`unsupported version ${version}`);
  const code = reader.u8("message type");
  const type = TYPES.get(code);
  if (type === undefined) throw new MembershipCodecError(`unknown message type ${code}`);
  const readUpdates = (): Update[] => {
    const count = reader.u16("update count");
    const updates: Update[] = [];
    for (let i = 0; i < count; i++) updates.push(readUpdate(reader));
    return updates;
  };
  let message: Message;
  switch (type) {
    case "ping": {
      const seq = reader.u32("seq");
      const target = reader.str("target");
      message = { type, seq, target, updates: readUpdates() };
      break;
    }
    case "ack":
    case "nack": {
      const seq = reader.u32("seq");
      message = { type, seq, updates: readUpdates() };
      break;
    }
    case "ping-req": {
      const seq = reader.u32("seq");
      const target = reader.str("target");
      const addr = reader.addr("target address");
      message = { type, seq, target, addr, updates: readUpdates() };
      break;
    }
    case "sync": {
      const flags = reader.u8("flags");
      if ((flags & ~1) !== 0) throw new MembershipCodecError(`unknown sync flags ${flags}`);
      message = { type, wantReply: (flags & 1) === 1, updates: readUpdates() };
      break;
    }
    case "gossip":
      message = { type, updates: readUpdates() };
      break;
  }
  reader.end();
  return message;
}
