/**
 * The membership keys. A key comes from the bytes of a Secret value (any length from 16 bytes
 * on: a random string or raw random bytes) through HKDF-SHA256, giving the AES-256-GCM key and a
 * 4-byte key id sent in clear, so a receiver picks the right key at once and can tell a packet
 * sealed under a key it does not have ("wrong key") from a forged or damaged one ("bad tag").
 *
 * Rotation: a keyring holds a primary key, which seals, and optionally a secondary one, which
 * is only accepted. To rotate without a gap: add the new key as secondary everywhere, then make
 * it primary (the old one secondary), then drop the old one.
 *
 * Keys never print: a Keyring's JSON and inspect forms show only the key ids.
 */
import { createHash, hkdfSync } from "node:crypto";

export const MIN_SECRET_BYTES = 16;
const HKDF_INFO = "ironlb membership v1 aes-256-gcm";
const KEY_ID_LABEL = "ironlb membership key id v1";
const INSPECT = Symbol.for("nodejs.util.inspect.custom");

export class MembershipKeyError extends Error {
  override readonly name = "MembershipKeyError";
  readonly code = "ERR_MEMBERSHIP_KEY";
}

export interface MembershipKey {
  /** Hex of the 4-byte id (safe to log). */
  readonly id: string;
  readonly idBytes: Buffer;
  /** The 32-byte AES key. */
  readonly aesKey: Buffer;
}

/** Derives the AES key and key id from a Secret value's bytes. */
export function deriveMembershipKey(secret: Uint8Array): MembershipKey {
  if (secret.length < MIN_SECRET_BYTES) {
    throw new MembershipKeyError(
      `a membership key needs at least ${MIN_SECRET_BYTES} bytes, got ${secret.length}`,
    );
  }
  const aesKey = Buffer.from(hkdfSync("sha256", secret, Buffer.alloc(0), HKDF_INFO, 32));
  const idBytes = createHash("sha256").update(KEY_ID_LABEL).update(aesKey).digest().subarray(0, 4);
  return { id: idBytes.toString("hex"), idBytes, aesKey };
}

export class Keyring {
  readonly #primary: MembershipKey;
  readonly #secondary: MembershipKey | undefined;

  constructor(primary: MembershipKey, secondary?: MembershipKey) {
    this.#primary = primary;
    // The same key twice is one key.
    this.#secondary = secondary?.id === primary.id ? undefined : secondary;
  }

  static fromSecrets(primary: Uint8Array, secondary?: Uint8Array): Keyring {
    return new Keyring(
      deriveMembershipKey(primary),
      secondary === undefined ? undefined : deriveMembershipKey(secondary),
    );
  }

  /** The key that seals. */
  get primary(): MembershipKey {
    return this.#primary;
  }

  /** The key for an id, if this keyring accepts it. */
  find(idBytes: Uint8Array): MembershipKey | undefined {
    if (this.#primary.idBytes.equals(idBytes)) return this.#primary;
    if (this.#secondary?.idBytes.equals(idBytes) === true) return this.#secondary;
    return undefined;
  }

  /** Key ids, primary first (for logs and status). */
  ids(): string[] {
    return this.#secondary === undefined ? [this.#primary.id] : [this.#primary.id, this.#secondary.id];
  }

  /** Same keys in the same roles. */
  equals(other: Keyring): boolean {
    const a = this.ids();
    const b = other.ids();
    return a.length === b.length && a.every((id, i) => id === b[i]);
  }

  toJSON(): { keyIds: string[] } {
    return { keyIds: this.ids() };
  }

  toString(): string {
    return `Keyring(${this.ids().join(", ")})`;
  }

  [INSPECT](): string {
    return this.toString();
  }
}
