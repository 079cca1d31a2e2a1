/**
 * Messages to datagrams and back: codec + AES-256-GCM envelope + replay guard. Every datagram
 * that does not yield an authentic, fresh, well-formed message is dropped and reported with a
 * reason (for ironlb_membership_packets_dropped_total{reason}); nothing about it is logged
 * beyond the reason, and never a key.
 */
import { randomBytes } from "node:crypto";
import { decodeMessage, encodeMessage } from "./codec.js";
import { open, seal, StampSource } from "./envelope.js";
import type { Keyring } from "./keyring.js";
import type { Message } from "./messages.js";
import { ReplayGuard, type ReplayOptions } from "./replay.js";

export type DropReason = "malformed" | "wrong_key" | "bad_tag" | "replay" | "stale" | "undecodable";

export const DROP_REASONS: readonly DropReason[] = [
  "malformed",
  "wrong_key",
  "bad_tag",
  "replay",
  "stale",
  "undecodable",
];

export interface Received {
  readonly sender: string;
  readonly message: Message;
}

export interface SecureWireOptions {
  /** Our member name (the sender of what we seal). */
  readonly name: string;
  readonly keyring: Keyring;
  readonly replay?: ReplayOptions;
  /** Wall clock, ms since the epoch (stamps and the skew check). */
  readonly wallNow?: () => number;
  /** Per-process nonce salt (4 bytes); random by default. */
  readonly salt?: Uint8Array;
  readonly onDrop?: (reason: DropReason) => void;
}

export class SecureWire {
  private keyring: Keyring;
  private readonly stamps: StampSource;
  private readonly guard: ReplayGuard;
  private readonly salt: Uint8Array;
  private readonly wallNow: () => number;

  constructor(private readonly options: SecureWireOptions) {
    this.keyring = options.keyring;
    this.wallNow = options.wallNow ?? Date.now;
    this.stamps = new StampSource(this.wallNow);
    this.guard = new ReplayGuard(options.replay);
    this.salt = options.salt ?? randomBytes(4);
  }

  setKeyring(keyring: Keyring): void {
    this.keyring = keyring;
  }

  encode(message: Message): Buffer {
    return seal(this.keyring, {
      sender: this.options.name,
      salt: this.salt,
      stamp: this.stamps.next(),
      message: encodeMessage(message),
    });
  }

  /** The message in `datagram`, or undefined when it was dropped (reported through onDrop). */
  decode(datagram: Uint8Array): Received | undefined {
    const opened = open(this.keyring, datagram);
    if (!opened.ok) {
      this.drop(opened.reason);
      return undefined;
    }
    const verdict = this.guard.check(opened.sender, opened.stamp, BigInt(Math.floor(this.wallNow() * 1000)));
    if (verdict !== "ok") {
      this.drop(verdict);
      return undefined;
    }
    try {
      return { sender: opened.sender, message: decodeMessage(opened.message) };
    } catch {
      this.drop("undecodable");
      return undefined;
    }
  }

  private drop(reason: DropReason): void {
    this.options.onDrop?.(reason);
  }
}
