/**
 * OPEN capabilities (RFC 5492): multiprotocol (RFC 4760), route refresh (RFC 2918),
 * graceful restart (RFC 4724, with the RFC 8538 N bit) and 4-octet AS (RFC 6793). Others are
 * kept as raw bytes so a peer's unknown capabilities never fail an OPEN.
 */
import { CapabilityCode, type AfiSafi } from "./constants.js";

export interface MultiprotocolCapability {
  readonly kind: "multiprotocol";
  readonly afi: number;
  readonly safi: number;
}
export interface RouteRefreshCapability {
  readonly kind: "routeRefresh";
}
export interface FourOctetAsCapability {
  readonly kind: "fourOctetAs";
  readonly asn: number;
}
export interface GracefulRestartFamily extends AfiSafi {
  /** F bit: forwarding state for this family was preserved across the restart. */
  readonly forwardingState: boolean;
}
export interface GracefulRestartCapability {
  readonly kind: "gracefulRestart";
  /** R bit: the sender has restarted and its peer should not wait for its End-of-RIB to clean up. */
  readonly restartState: boolean;
  /** N bit (RFC 8538): graceful restart also applies to NOTIFICATION-initiated resets. */
  readonly notification: boolean;
  /** Seconds the peer keeps our routes after the session drops (12 bits, 0..4095). */
  readonly restartTimeSeconds: number;
  readonly families: readonly GracefulRestartFamily[];
}
export interface UnknownCapability {
  readonly kind: "unknown";
  readonly code: number;
  readonly value: Buffer;
}

export type Capability =
  | MultiprotocolCapability
  | RouteRefreshCapability
  | FourOctetAsCapability
  | GracefulRestartCapability
  | UnknownCapability;

export const MAX_RESTART_TIME_SECONDS = 0xfff;

const RESTART_STATE_BIT = 0x8000;
const NOTIFICATION_BIT = 0x4000;
const FORWARDING_STATE_BIT = 0x80;

function capabilityValue(cap: Capability): { code: number; value: Buffer } {
  switch (cap.kind) {
    case "multiprotocol": {
      const v = Buffer.alloc(4);
      v.writeUInt16BE(cap.afi, 0);
      v.writeUInt8(cap.safi, 3);
      return { code: CapabilityCode.Multiprotocol, value: v };
    }
    case "routeRefresh":
      return { code: CapabilityCode.RouteRefresh, value: Buffer.alloc(0) };
    case "fourOctetAs": {
      const v = Buffer.alloc(4);
      v.writeUInt32BE(cap.asn >>> 0, 0);
      return { code: CapabilityCode.FourOctetAs, value: v };
    }
    case "gracefulRestart": {
      const v = Buffer.alloc(2 + 4 * cap.families.length);
      const time = Math.min(Math.max(0, Math.trunc(cap.restartTimeSeconds)), MAX_RESTART_TIME_SECONDS);
      v.writeUInt16BE(
        (cap.restartState ? RESTART_STATE_BIT : 0) | (cap.notification ? NOTIFICATION_BIT : 0) | time,
        0,
      );
      cap.families.forEach((f, i) => {
        v.writeUInt16BE(f.afi, 2 + 4 * i);
        v.writeUInt8(f.safi, 4 + 4 * i);
        v.writeUInt8(f.forwardingState ? FORWARDING_STATE_BIT : 0, 5 + 4 * i);
      });
      return { code: CapabilityCode.GracefulRestart, value: v };
    }
    case "unknown":
      return { code: cap.code, value: cap.value };
  }
}

/** One capability as its TLV (code, length, value). */
export function encodeCapability(cap: Capability): Buffer {
  const { code, value } = capabilityValue(cap);
  return Buffer.concat([Buffer.from([code, value.length]), value]);
}

export type CapabilitiesParse = { readonly capabilities: Capability[] } | { readonly error: string };

function decodeOne(code: number, value: Buffer): Capability | string {
  switch (code) {
    case CapabilityCode.Multiprotocol:
      if (value.length !== 4) return `multiprotocol capability length ${value.length}, expected 4`;
      return { kind: "multiprotocol", afi: value.readUInt16BE(0), safi: value.readUInt8(3) };
    case CapabilityCode.RouteRefresh:
      if (value.length !== 0) return `route refresh capability length ${value.length}, expected 0`;
      return { kind: "routeRefresh" };
    case CapabilityCode.FourOctetAs:
      if (value.length !== 4) return `4-octet AS capability length ${value.length}, expected 4`;
      return { kind: "fourOctetAs", asn: value.readUInt32BE(0) };
    case CapabilityCode.GracefulRestart: {
      if (value.length < 2 || (value.length - 2) % 4 !== 0) {
        return `graceful restart capability length ${value.length}, expected 2 + 4n`;
      }
      const head = value.readUInt16BE(0);
      const families: GracefulRestartFamily[] = [];
      for (let off = 2; off < value.length; off += 4) {
        families.push({
          afi: value.readUInt16BE(off),
          safi: value.readUInt8(off + 2),
          forwardingState: (value.readUInt8(off + 3) & FORWARDING_STATE_BIT) !== 0,
        });
      }
      return {
        kind: "gracefulRestart",
        restartState: (head & RESTART_STATE_BIT) !== 0,
        notification: (head & NOTIFICATION_BIT) !== 0,
        restartTimeSeconds: head & MAX_RESTART_TIME_SECONDS,
        families,
      };
    }
    default:
      return { kind: "unknown", code, value: Buffer.from(value) };
  }
}

/** Parses the value of one Capabilities optional parameter: a sequence of capability TLVs. */
export function decodeCapabilities(buf: Buffer): CapabilitiesParse {
  const capabilities: Capability[] = [];
  let offset = 0;
  while (offset < buf.length) {
    if (offset + 2 > buf.length) return { error: "truncated capability header" };
    const code = buf.readUInt8(offset);
    const length = buf.readUInt8(offset + 1);
    if (offset + 2 + length > buf.length) return { error: `capability ${code} overruns its parameter` };
    const decoded = decodeOne(code, buf.subarray(offset + 2, offset + 2 + length));
    if (typeof decoded === "string") return { error: decoded };
    capabilities.push(decoded);
    offset += 2 + length;
  }
  return { capabilities };
}

/** The families listed in multiprotocol capabilities (the caller applies RFC 4760's IPv4 default). */
export function multiprotocolFamilies(capabilities: readonly Capability[]): AfiSafi[] {
  return capabilities
    .filter((c): c is MultiprotocolCapability => c.kind === "multiprotocol")
    .map((c) => ({ afi: c.afi, safi: c.safi }));
}

export function findCapability<K extends Capability["kind"]>(
  capabilities: readonly Capability[],
  kind: K,
): Extract<Capability, { kind: K }> | undefined {
  return capabilities.find((c): c is Extract<Capability, { kind: K }> => c.kind === kind);
}
