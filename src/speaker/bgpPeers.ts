/**
 * From a validated BGPPeer to the session the node's BGP manager runs (pure): AS numbers
 * (dynamicASN included), the BGP identifier (routerID, else the node's IPv4 address), timers,
 * families, graceful restart, how to connect (address, port, source address, TCP-MD5 password
 * inline or from a kubernetes.io/basic-auth Secret), the next hop of the other family, and the
 * BFD settings of its BFDProfile (multi hop when the peer is ebgpMultiHop).
 */
import { sessionTtl } from "../bgp/peerDialer.js";
import type { BFDProfileConfig, BGPPeerConfig } from "../api/configTypes.js";
import type { BfdPeerSettings } from "../bfd/manager.js";
import { SecretValue } from "../api/secret.js";
import { DEFAULT_GRACEFUL_RESTART_SECONDS, type PeerSpec } from "../bgp/manager.js";
import { IPV4_UNICAST, IPV6_UNICAST } from "../bgp/codec/constants.js";
import type { BackoffPolicy } from "../runtime/backoff.js";
import type { NextHops } from "../bgp/session.js";
import { formatIP, tryParseIP, type IPAddr } from "../net/ip.js";

/** What the speaker knows about its own node. */
export interface NodeIdentity {
  readonly name: string;
  /** The node's IPv4 address (default BGP identifier; next hop of IPv4 routes on IPv6 sessions). */
  readonly ipv4?: IPAddr;
  /** The node's global IPv6 address (next hop of IPv6 routes on IPv4 sessions). */
  readonly ipv6?: IPAddr;
}

/** The outcome of looking up a Secret's password. */
export type SecretPassword =
  { readonly ok: true; readonly password: SecretValue } | { readonly ok: false; readonly reason: string };

/** Finds the password of a BGPPeer's passwordSecret. */
export type PasswordLookup = (namespace: string, name: string) => SecretPassword;

export const BASIC_AUTH_SECRET_TYPE = "kubernetes.io/basic-auth";

/** The parts of a V1Secret this reads. */
export interface SecretLike {
  readonly type?: string | undefined;
  readonly data?: Readonly<Record<string, string>> | undefined;
  readonly stringData?: Readonly<Record<string, string>> | undefined;
}

/** The TCP-MD5 password of a kubernetes.io/basic-auth Secret (key "password"). */
export function passwordFromSecret(secret: SecretLike | undefined): SecretPassword {
  if (secret === undefined) return { ok: false, reason: "the Secret does not exist" };
  if (secret.type !== BASIC_AUTH_SECRET_TYPE) {
    return {
      ok: false,
      reason: `the Secret has type ${secret.type ?? "(none)"}, not ${BASIC_AUTH_SECRET_TYPE}`,
    };
  }
  const encoded = secret.data?.["password"];
  const text =
    encoded === undefined ? secret.stringData?.["password"] : Buffer.from(encoded, "base64").toString("utf8");
  if (text === undefined || text === "") return { ok: false, reason: 'the Secret has no "password"' };
  return { ok: true, password: new SecretValue(text) };
}

export type PeerSpecResult =
  | { readonly ok: true; readonly spec: PeerSpec }
  | { readonly ok: false; readonly peer: string; readonly reason: string };

/** Longest single TCP connect; the FSM's retry timer governs the time between attempts. */
const MAX_CONNECT_TIMEOUT_MS = 30_000;

/**
 * connectTime is the longest wait between connection attempts; attempts start 2 s apart (or
 * connectTime, if shorter) and double up to it, with jitter.
 */
export function connectBackoffFor(connectTimeSeconds: number): BackoffPolicy {
  const maxMs = Math.max(1, connectTimeSeconds) * 1000;
  return { initialMs: Math.min(2000, maxMs), maxMs, multiplier: 2, jitter: 0.2 };
}

function ipv4Number(ip: IPAddr): number {
  return Number(ip.value);
}

/** FNV-1a of the node name, never 0: a stable identifier for a node without IPv4. */
export function routerIdFromName(name: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(name, "utf8")) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h === 0 ? 1 : h;
}

export function routerIdFor(peer: BGPPeerConfig, node: NodeIdentity): number | string {
  if (peer.routerID !== undefined) {
    const id = tryParseIP(peer.routerID);
    if (id?.family !== "IPv4" || id.value === 0n)
      return `routerID ${peer.routerID} is not a non-zero IPv4 address`;
    return ipv4Number(id);
  }
  const source = peer.sourceAddress;
  if (node.ipv4 !== undefined) return ipv4Number(node.ipv4);
  if (source?.family === "IPv4") return ipv4Number(source);
  return routerIdFromName(node.name);
}

function resolvePassword(peer: BGPPeerConfig, lookup: PasswordLookup): SecretPassword | undefined {
  switch (peer.auth.kind) {
    case "none":
      return undefined;
    case "password":
      return { ok: true, password: peer.auth.password };
    case "secret": {
      const found = lookup(peer.auth.secretNamespace, peer.auth.secretName);
      return found.ok
        ? found
        : {
            ok: false,
            reason: `password Secret ${peer.auth.secretNamespace}/${peer.auth.secretName}: ${found.reason}`,
          };
    }
  }
}

/**
 * BFD settings from a BFDProfile. Echo mode is not implemented (a validation warning says so):
 * the session runs in asynchronous mode only.
 */
export function bfdSettingsFor(peer: BGPPeerConfig, profile: BFDProfileConfig): BfdPeerSettings {
  return {
    multiHop: peer.ebgpMultiHop,
    passive: profile.passiveMode,
    minimumTtl: profile.minimumTtl,
    timers: {
      desiredMinTxMs: profile.transmitInterval,
      requiredMinRxMs: profile.receiveInterval,
      detectMult: profile.detectMultiplier,
    },
  };
}

/**
 * The session to run with `peer` from `node`, or why there can be none. `bfdProfiles` are the
 * configuration's; a peer naming a missing profile runs without BFD (validation warned).
 */
export function peerSpecFor(
  peer: BGPPeerConfig,
  node: NodeIdentity,
  lookup: PasswordLookup,
  bfdProfiles?: ReadonlyMap<string, BFDProfileConfig>,
): PeerSpecResult {
  const fail = (reason: string): PeerSpecResult => ({ ok: false, peer: peer.name, reason });
  if (peer.sourceAddress !== undefined && peer.sourceAddress.family !== peer.peerAddress.family) {
    return fail(
      `sourceAddress ${formatIP(peer.sourceAddress)} is not of the family of ${formatIP(peer.peerAddress)}`,
    );
  }
  const routerId = routerIdFor(peer, node);
  if (typeof routerId === "string") return fail(routerId);
  const password = resolvePassword(peer, lookup);
  const bfdProfile = peer.bfdProfile === undefined ? undefined : bfdProfiles?.get(peer.bfdProfile);
  if (password !== undefined && !password.ok) return fail(password.reason);
  const ttl = sessionTtl(peer.sessionType, peer.ebgpMultiHop);
  // Routes of the session's own family use our address on the connection; the other family needs
  // the node's address of that family (MP-BGP over the other transport).
  const other = peer.peerAddress.family === "IPv4" ? node.ipv6 : node.ipv4;
  const nextHops: NextHops | undefined =
    other === undefined ? undefined : other.family === "IPv4" ? { ipv4: other } : { ipv6: other };
  return {
    ok: true,
    spec: {
      name: peer.name,
      session: {
        localAs: peer.myASN,
        peerAs: peer.peerASN,
        routerId,
        holdTimeSeconds: peer.holdTimeSeconds,
        ...(peer.holdTimeSeconds > 0 ? { keepaliveSeconds: peer.keepaliveTimeSeconds } : {}),
        families: [IPV4_UNICAST, IPV6_UNICAST],
        passive: false,
        connectBackoff: connectBackoffFor(peer.connectTimeSeconds),
        ...(peer.enableGracefulRestart
          ? {
              gracefulRestart: {
                restartTimeSeconds: DEFAULT_GRACEFUL_RESTART_SECONDS,
                // The data path is the node's kernel: it keeps forwarding while the speaker restarts.
                forwardingPreserved: true,
              },
            }
          : {}),
      },
      endpoint: {
        address: peer.peerAddress,
        port: peer.peerPort,
        connectTimeoutMs: Math.min(MAX_CONNECT_TIMEOUT_MS, peer.connectTimeSeconds * 1000),
        ...(peer.sourceAddress === undefined ? {} : { sourceAddress: peer.sourceAddress }),
        ...(password === undefined ? {} : { password: password.password }),
        ...(ttl === undefined ? {} : { ttl }),
      },
      ...(nextHops === undefined ? {} : { nextHops }),
      ...(bfdProfile === undefined ? {} : { bfd: bfdSettingsFor(peer, bfdProfile) }),
    },
  };
}

/** The parts of a V1Node this reads. */
export interface NodeLike {
  readonly metadata?: { readonly name?: string | undefined } | undefined;
  readonly status?:
    | { readonly addresses?: readonly { readonly type: string; readonly address: string }[] | undefined }
    | undefined;
}

/**
 * The node's identity from its Node object: the first InternalIP of each family (ExternalIP when
 * there is no InternalIP of that family).
 */
export function nodeIdentityFromNode(node: NodeLike, name = node.metadata?.name ?? ""): NodeIdentity {
  const addresses = node.status?.addresses ?? [];
  const pick = (family: IPAddr["family"]): IPAddr | undefined => {
    for (const type of ["InternalIP", "ExternalIP"]) {
      for (const a of addresses) {
        if (a.type !== type) continue;
        const ip = tryParseIP(a.address);
        if (ip?.family === family) return ip;
      }
    }
    return undefined;
  };
  const ipv4 = pick("IPv4");
  const ipv6 = pick("IPv6");
  return { name, ...(ipv4 === undefined ? {} : { ipv4 }), ...(ipv6 === undefined ? {} : { ipv6 }) };
}
