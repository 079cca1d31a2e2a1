/**
 * BFD Control packets (RFC 5880 §4.1), pure: encode a packet, decode bytes into one or into the
 * reason it is dropped. Decoding applies the packet-level checks of §6.8.6 (version, length,
 * detect multiplier, multipoint bit, My Discriminator); the checks that need a session (Your
 * Discriminator, state) are in demux.ts. Decoding never throws: a peer's bytes cannot crash us.
 *
 * Intervals travel in microseconds; this module keeps them in microseconds too.
 */

export const BFD_VERSION = 1;
/** Length of a Control packet without an authentication section. */
export const CONTROL_PACKET_LENGTH = 24;

/** Session states as carried in the Sta field. */
export const BfdState = { AdminDown: 0, Down: 1, Init: 2, Up: 3 } as const;
export type BfdState = (typeof BfdState)[keyof typeof BfdState];
export const BFD_STATE_NAMES: Readonly<Record<BfdState, BfdStateName>> = {
  0: "AdminDown",
  1: "Down",
  2: "Init",
  3: "Up",
};
export type BfdStateName = "AdminDown" | "Down" | "Init" | "Up";

/** Diagnostic codes (RFC 5880 §4.1). */
export const BfdDiag = {
  None: 0,
  ControlDetectionTimeExpired: 1,
  EchoFunctionFailed: 2,
  NeighborSignaledSessionDown: 3,
  ForwardingPlaneReset: 4,
  PathDown: 5,
  ConcatenatedPathDown: 6,
  AdministrativelyDown: 7,
  ReverseConcatenatedPathDown: 8,
} as const;
export type BfdDiag = (typeof BfdDiag)[keyof typeof BfdDiag];

const DIAG_TEXT: readonly string[] = [
  "no diagnostic",
  "control detection time expired",
  "echo function failed",
  "neighbor signaled session down",
  "forwarding plane reset",
  "path down",
  "concatenated path down",
  "administratively down",
  "reverse concatenated path down",
];

export function describeDiag(diag: number): string {
  return DIAG_TEXT[diag] ?? `diagnostic ${String(diag)}`;
}

export interface ControlPacket {
  readonly diag: number;
  readonly state: BfdState;
  readonly poll: boolean;
  readonly final: boolean;
  /** C: the forwarding plane is independent of the control plane (never set by us). */
  readonly controlPlaneIndependent: boolean;
  /** A: an authentication section follows (IronLB supports none). */
  readonly authenticationPresent: boolean;
  /** D: demand mode (IronLB never asks for it). */
  readonly demand: boolean;
  readonly detectMult: number;
  readonly myDiscriminator: number;
  readonly yourDiscriminator: number;
  readonly desiredMinTxUs: number;
  readonly requiredMinRxUs: number;
  readonly requiredMinEchoRxUs: number;
}

/** Why a received packet was dropped (also the `reason` label of the drop counter). */
export type DropReason =
  | "truncated"
  | "badVersion"
  | "badLength"
  | "zeroDetectMult"
  | "multipoint"
  | "pollAndFinal"
  | "zeroMyDiscriminator"
  | "authenticationUnsupported"
  | "unknownDiscriminator"
  | "addressMismatch"
  | "zeroYourDiscriminatorInState"
  | "noSession"
  | "badTtl";

export type DecodeResult =
  { readonly ok: true; readonly packet: ControlPacket } | { readonly ok: false; readonly reason: DropReason };

export function encodeControlPacket(p: ControlPacket): Buffer {
  const buf = Buffer.alloc(CONTROL_PACKET_LENGTH);
  buf[0] = ((BFD_VERSION & 0x07) << 5) | (p.diag & 0x1f);
  buf[1] =
    ((p.state & 0x03) << 6) |
    (p.poll ? 0x20 : 0) |
    (p.final ? 0x10 : 0) |
    (p.controlPlaneIndependent ? 0x08 : 0) |
    (p.authenticationPresent ? 0x04 : 0) |
    (p.demand ? 0x02 : 0);
  buf[2] = p.detectMult & 0xff;
  buf[3] = CONTROL_PACKET_LENGTH;
  buf.writeUInt32BE(p.myDiscriminator >>> 0, 4);
  buf.writeUInt32BE(p.yourDiscriminator >>> 0, 8);
  buf.writeUInt32BE(clampU32(p.desiredMinTxUs), 12);
  buf.writeUInt32BE(clampU32(p.requiredMinRxUs), 16);
  buf.writeUInt32BE(clampU32(p.requiredMinEchoRxUs), 20);
  return buf;
}

function clampU32(n: number): number {
  return Math.min(0xffffffff, Math.max(0, Math.round(n)));
}

/** Decodes one UDP payload; the packet-level §6.8.6 checks reject it with a reason. */
export function decodeControlPacket(data: Uint8Array): DecodeResult {
  const fail = (reason: DropReason): DecodeResult => ({ ok: false, reason });
  if (data.length < CONTROL_PACKET_LENGTH) return fail("truncated");
  const b0 = data[0] ?? 0;
  const b1 = data[1] ?? 0;
  if (b0 >> 5 !== BFD_VERSION) return fail("badVersion");
  const authenticationPresent = (b1 & 0x04) !== 0;
  const length = data[3] ?? 0;
  // §6.8.6: at least 24 bytes (26 with authentication), and no more than what arrived.
  if (length < (authenticationPresent ? CONTROL_PACKET_LENGTH + 2 : CONTROL_PACKET_LENGTH))
    return fail("badLength");
  if (length > data.length) return fail("badLength");
  const detectMult = data[2] ?? 0;
  if (detectMult === 0) return fail("zeroDetectMult");
  if ((b1 & 0x01) !== 0) return fail("multipoint");
  // §4.1: a packet MUST NOT have both P and F set.
  if ((b1 & 0x30) === 0x30) return fail("pollAndFinal");
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const myDiscriminator = view.getUint32(4);
  if (myDiscriminator === 0) return fail("zeroMyDiscriminator");
  // No authentication is configured, so a packet carrying it is dropped (§6.8.6).
  if (authenticationPresent) return fail("authenticationUnsupported");
  return {
    ok: true,
    packet: {
      diag: b0 & 0x1f,
      state: ((b1 >> 6) & 0x03) as BfdState,
      poll: (b1 & 0x20) !== 0,
      final: (b1 & 0x10) !== 0,
      controlPlaneIndependent: (b1 & 0x08) !== 0,
      authenticationPresent,
      demand: (b1 & 0x02) !== 0,
      detectMult,
      myDiscriminator,
      yourDiscriminator: view.getUint32(8),
      desiredMinTxUs: view.getUint32(12),
      requiredMinRxUs: view.getUint32(16),
      requiredMinEchoRxUs: view.getUint32(20),
    },
  };
}
