/**
 * The sealed datagram (AES-256-GCM, node:crypto):
 *
 *   version u8 (1) | key id (4) | nonce (12) = salt (4) | stamp u64 | ciphertext | tag (16)
 *   plaintext := sender str (u8 length | UTF-8) | message bytes (codec.ts)
 *
 * The version and key id are authenticated as associated data; the nonce (and so the stamp) is
 * authenticated by GCM itself. The salt is random per process and the stamp strictly increases
 * per process (stamps.ts), so a nonce never repeats under one key. The receiver checks the stamp
 * against replays per sender (replay.ts) after the tag verified.
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import type { Keyring } from "./keyring.js";

export const ENVELOPE_VERSION = 1;
const KEY_ID_BYTES = 4;
const SALT_BYTES = 4;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + KEY_ID_BYTES + NONCE_BYTES;
/** Bytes a sealed datagram adds to its plaintext. */
export const ENVELOPE_OVERHEAD = HEADER_BYTES + TAG_BYTES;

export interface SealInput {
  readonly sender: string;
  /** Per-process random salt (4 bytes). */
  readonly salt: Uint8Array;
  /** Microseconds since the epoch, strictly increasing per process. */
  readonly stamp: bigint;
  readonly message: Uint8Array;
}

export type OpenFailure = "malformed" | "wrong_key" | "bad_tag";

export type OpenResult =
  | { readonly ok: true; readonly sender: string; readonly stamp: bigint; readonly message: Buffer }
  | { readonly ok: false; readonly reason: OpenFailure };

/** Plaintext size for `sender` and a message of `messageBytes`: the room a datagram budget leaves. */
export function sealedSize(sender: string, messageBytes: number): number {
  return ENVELOPE_OVERHEAD + 1 + Buffer.byteLength(sender, "utf8") + messageBytes;
}

export function seal(keyring: Keyring, input: SealInput): Buffer {
  if (input.salt.length !== SALT_BYTES) throw new RangeError(`salt must be ${SALT_BYTES} bytes`);
  const key = keyring.primary;
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(ENVELOPE_VERSION, 0);
  key.idBytes.copy(header, 1);
  header.set(input.salt, 1 + KEY_ID_BYTES);
  header.writeBigUInt64BE(input.stamp, 1 + KEY_ID_BYTES + SALT_BYTES);
  const sender = Buffer.from(input.sender, "utf8");
  if (sender.length > 255) throw new RangeError("sender name longer than 255 bytes");
  const cipher = createCipheriv("aes-256-gcm", key.aesKey, header.subarray(1 + KEY_ID_BYTES), {
    authTagLength: TAG_BYTES,
  });
  cipher.setAAD(header.subarray(0, 1 + KEY_ID_BYTES));
  const body = Buffer.concat([
    cipher.update(Buffer.from([sender.length])),
    cipher.update(sender),
    cipher.update(input.message),
    cipher.final(),
  ]);
  return Buffer.concat([header, body, cipher.getAuthTag()]);
}

export function open(keyring: Keyring, datagram: Uint8Array): OpenResult {
  if (datagram.length < ENVELOPE_OVERHEAD + 1 || datagram[0] !== ENVELOPE_VERSION) {
    return { ok: false, reason: "malformed" };
  }
  const bytes = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.length);
  const key = keyring.find(bytes.subarray(1, 1 + KEY_ID_BYTES));
  if (key === undefined) return { ok: false, reason: "wrong_key" };
  const nonce = bytes.subarray(1 + KEY_ID_BYTES, HEADER_BYTES);
  const tag = bytes.subarray(bytes.length - TAG_BYTES);
  let plain: Buffer;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.aesKey, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(bytes.subarray(0, 1 + KEY_ID_BYTES));
    decipher.setAuthTag(tag);
    plain = Buffer.concat([
      decipher.update(bytes.subarray(HEADER_BYTES, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    return { ok: false, reason: "bad_tag" };
  }
  const senderLength = plain[0] ?? 0;
  if (plain.length < 1 + senderLength) return { ok: false, reason: "malformed" };
  const sender = plain.subarray(1, 1 + senderLength).toString("utf8");
  const stamp = bytes.readBigUInt64BE(1 + KEY_ID_BYTES + SALT_BYTES);
  return { ok: true, sender, stamp, message: plain.subarray(1 + senderLength) };
}

/**
 * Packet stamps: wall-clock microseconds, bumped by one when two packets fall in the same
 * microsecond (or the clock steps back), so they strictly increase within a process.
 */
export class StampSource {
  private last = 0n;

  constructor(private readonly wallNowMs: () => number = Date.now) {}

  next(): bigint {
    const now = BigInt(Math.floor(this.wallNowMs() * 1000));
    this.last = now > this.last ? now : this.last + 1n;
    return this.last;
  }
}
