/**
 * What IronLB puts in its OPEN and what it accepts in the peer's (RFC 4271 6.2, RFC 5492,
 * RFC 6286, RFC 6793, RFC 4760): hold time, identifiers, peer AS (fixed, or dynamic internal /
 * external), families, and the session parameters both sides end up with.
 */
import { formatIPv4 } from "../net/ip.js";
import {
  encodeCapability,
  findCapability,
  multiprotocolFamilies,
  type Capability,
  type GracefulRestartCapability,
} from "./codec/capabilities.js";
import {
  ErrorCode,
  formatAfiSafi,
  IPV4_UNICAST,
  OpenErrorSubcode,
  sameAfiSafi,
  type AfiSafi,
} from "./codec/constants.js";
import { buildOpen, peerAsOf, type OpenMessage } from "./codec/open.js";

/** The peer's AS: a number, or "internal"/"external" to accept any AS of that kind (dynamic ASN). */
export type PeerAsSpec = number | "internal" | "external";

export interface GracefulRestartConfig {
  /** How long the peer should keep our routes while we restart (0..4095 s). */
  readonly restartTimeSeconds: number;
  /** Whether forwarding survives our restart; true for IronLB, whose data path is the node's kernel. */
  readonly forwardingPreserved: boolean;
}

export interface SessionParameters {
  readonly localAs: number;
  readonly peerAs: PeerAsSpec;
  /** Our BGP Identifier (unsigned 32-bit). */
  readonly routerId: number;
  /** Proposed hold time: 0 (no keepalives) or at least 3. */
  readonly holdTimeSeconds: number;
  /** Keepalive interval; defaults to a third of the hold time. */
  readonly keepaliveSeconds?: number;
  readonly families: readonly AfiSafi[];
  readonly gracefulRestart?: GracefulRestartConfig;
}

export interface Negotiated {
  readonly peerAs: number;
  readonly peerRouterId: number;
  readonly external: boolean;
  /** min(ours, theirs); 0 means no hold timer and no keepalives. */
  readonly holdTimeMs: number;
  /** min(configured keepalive, hold / 3); 0 when the hold time is 0. */
  readonly keepaliveMs: number;
  readonly fourOctetAs: boolean;
  readonly families: readonly AfiSafi[];
  readonly routeRefresh: boolean;
  readonly peerGracefulRestart?: GracefulRestartCapability;
}

export interface OpenRejection {
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
  readonly detail: string;
}

export type OpenVerdict =
  | { readonly ok: true; readonly negotiated: Negotiated }
  | { readonly ok: false; readonly rejection: OpenRejection };

export class SessionConfigError extends Error {
  override readonly name = "SessionConfigError";
  readonly code = "ERR_BGP_SESSION_CONFIG";
}

export function validateSessionParameters(p: SessionParameters): void {
  const asnOk = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 0xffffffff;
  if (!asnOk(p.localAs)) throw new SessionConfigError(`local AS ${p.localAs} is not a valid AS number`);
  if (typeof p.peerAs === "number" && !asnOk(p.peerAs))
    throw new SessionConfigError(`peer AS ${p.peerAs} is not a valid AS number`);
  if (!Number.isInteger(p.routerId) || p.routerId <= 0 || p.routerId > 0xffffffff) {
    throw new SessionConfigError(`router id ${p.routerId} must be a non-zero 32-bit value`);
  }
  if (
    !Number.isInteger(p.holdTimeSeconds) ||
    p.holdTimeSeconds < 0 ||
    p.holdTimeSeconds > 0xffff ||
    p.holdTimeSeconds === 1 ||
    p.holdTimeSeconds === 2
  ) {
    throw new SessionConfigError(`hold time ${p.holdTimeSeconds} s must be 0 or 3..65535`);
  }
  if (p.keepaliveSeconds !== undefined && !(p.keepaliveSeconds > 0)) {
    throw new SessionConfigError(`keepalive ${p.keepaliveSeconds} s must be positive`);
  }
  if (p.families.length === 0) throw new SessionConfigError("at least one address family is required");
  const rt = p.gracefulRestart?.restartTimeSeconds;
  if (rt !== undefined && !(Number.isInteger(rt) && rt >= 0 && rt <= 4095)) {
    throw new SessionConfigError(`graceful restart time ${rt} s must be 0..4095`);
  }
}

function multiprotocol(families: readonly AfiSafi[]): Capability[] {
  return families.map((f) => ({ kind: "multiprotocol", afi: f.afi, safi: f.safi }));
}

/**
 * Our capabilities: one multiprotocol per family, route refresh, 4-octet AS and, when
 * configured, graceful restart with the Restart State bit set while `restarting` (RFC 4724 3).
 */
export function localCapabilities(p: SessionParameters, restarting: boolean): Capability[] {
  const caps: Capability[] = [
    ...multiprotocol(p.families),
    { kind: "routeRefresh" },
    { kind: "fourOctetAs", asn: p.localAs },
  ];
  if (p.gracefulRestart !== undefined) {
    caps.push({
      kind: "gracefulRestart",
      restartState: restarting,
      notification: false,
      restartTimeSeconds: p.gracefulRestart.restartTimeSeconds,
      families: p.families.map((f) => ({
        ...f,
        forwardingState: p.gracefulRestart?.forwardingPreserved ?? true,
      })),
    });
  }
  return caps;
}

export function localOpen(p: SessionParameters, restarting: boolean): OpenMessage {
  return buildOpen({
    asn: p.localAs,
    holdTime: p.holdTimeSeconds,
    bgpId: p.routerId,
    capabilities: localCapabilities(p, restarting),
  });
}

function reject(subcode: number, detail: string, data: Buffer = Buffer.alloc(0)): OpenVerdict {
  return { ok: false, rejection: { code: ErrorCode.OpenMessage, subcode, data, detail } };
}

function peerAsAccepted(spec: PeerAsSpec, localAs: number, peerAs: number): boolean {
  if (spec === "internal") return peerAs === localAs;
  if (spec === "external") return peerAs !== localAs;
  return spec === peerAs;
}

/** Checks the peer's OPEN against our parameters and derives the session's negotiated values. */
export function negotiate(p: SessionParameters, open: OpenMessage): OpenVerdict {
  if (open.holdTime === 1 || open.holdTime === 2) {
    return reject(
      OpenErrorSubcode.UnacceptableHoldTime,
      `hold time ${open.holdTime} s is not 0 or at least 3`,
    );
  }
  const peerAs = peerAsOf(open);
  if (!peerAsAccepted(p.peerAs, p.localAs, peerAs)) {
    return reject(OpenErrorSubcode.BadPeerAs, `peer AS ${peerAs} is not the expected ${String(p.peerAs)}`);
  }
  const external = peerAs !== p.localAs;
  if (open.bgpId === 0) return reject(OpenErrorSubcode.BadBgpIdentifier, "BGP identifier 0.0.0.0");
  // RFC 6286 2.2: identifiers must differ inside an AS; across ASes a clash is allowed.
  if (!external && open.bgpId >>> 0 === p.routerId >>> 0) {
    return reject(
      OpenErrorSubcode.BadBgpIdentifier,
      `BGP identifier ${formatIPv4(BigInt(open.bgpId >>> 0))} is ours`,
    );
  }
  const offered = multiprotocolFamilies(open.capabilities);
  // RFC 4760 8: a speaker without multiprotocol capabilities speaks IPv4 unicast.
  const theirs = offered.length > 0 ? offered : [IPV4_UNICAST];
  const families = p.families.filter((f) => theirs.some((t) => sameAfiSafi(f, t)));
  if (families.length === 0) {
    const data = Buffer.concat(multiprotocol(p.families).map(encodeCapability));
    return reject(
      OpenErrorSubcode.UnsupportedCapability,
      `no common address family (ours: ${p.families.map(formatAfiSafi).join(", ")}; theirs: ${theirs.map(formatAfiSafi).join(", ")})`,
      data,
    );
  }
  const holdSeconds = Math.min(p.holdTimeSeconds, open.holdTime);
  const holdTimeMs = holdSeconds * 1000;
  const configuredKeepaliveMs = (p.keepaliveSeconds ?? p.holdTimeSeconds / 3) * 1000;
  const keepaliveMs =
    holdTimeMs === 0 ? 0 : Math.max(1, Math.floor(Math.min(configuredKeepaliveMs, holdTimeMs / 3)));
  const gr = findCapability(open.capabilities, "gracefulRestart");
  return {
    ok: true,
    negotiated: {
      peerAs,
      peerRouterId: open.bgpId >>> 0,
      external,
      holdTimeMs,
      keepaliveMs,
      fourOctetAs: findCapability(open.capabilities, "fourOctetAs") !== undefined,
      families,
      routeRefresh: findCapability(open.capabilities, "routeRefresh") !== undefined,
      ...(gr === undefined ? {} : { peerGracefulRestart: gr }),
    },
  };
}
