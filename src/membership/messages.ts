/**
 * The membership protocol's messages, as values. Every message carries piggybacked updates
 * (the gossip); codec.ts turns them into bytes, envelope.ts seals the bytes.
 */
import type { MemberAddress } from "./address.js";

/** What members say about one member. */
export type Update =
  | {
      readonly kind: "alive";
      readonly name: string;
      readonly incarnation: number;
      readonly addr: MemberAddress;
    }
  | { readonly kind: "suspect"; readonly name: string; readonly incarnation: number; readonly from: string }
  | { readonly kind: "dead"; readonly name: string; readonly incarnation: number; readonly from: string }
  | { readonly kind: "left"; readonly name: string; readonly incarnation: number };

export type UpdateKind = Update["kind"];

/** Direct probe: the named target answers with an ack carrying `seq`. */
export interface PingMessage {
  readonly type: "ping";
  readonly seq: number;
  /** The member the sender means to reach (an address may have changed hands). */
  readonly target: string;
  readonly updates: readonly Update[];
}

export interface AckMessage {
  readonly type: "ack";
  readonly seq: number;
  readonly updates: readonly Update[];
}

/** Indirect probe: ping `target` at `addr` for me and forward its ack (or a nack) with `seq`. */
export interface PingReqMessage {
  readonly type: "ping-req";
  readonly seq: number;
  readonly target: string;
  readonly addr: MemberAddress;
  readonly updates: readonly Update[];
}

/** Lifeguard's negative ack: "I asked the target for you and heard nothing" (proves our link works). */
export interface NackMessage {
  readonly type: "nack";
  readonly seq: number;
  readonly updates: readonly Update[];
}

/**
 * State exchange (join, reconnect, partition merge): `updates` is (a chunk of) the sender's
 * whole member table; with `wantReply` the receiver answers with its own.
 */
export interface SyncMessage {
  readonly type: "sync";
  readonly wantReply: boolean;
  readonly updates: readonly Update[];
}

/** Nothing but piggybacked updates. */
export interface GossipMessage {
  readonly type: "gossip";
  readonly updates: readonly Update[];
}

export type Message = PingMessage | AckMessage | PingReqMessage | NackMessage | SyncMessage | GossipMessage;
export type MessageType = Message["type"];
