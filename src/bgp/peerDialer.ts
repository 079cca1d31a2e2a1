/**
 * How the speaker reaches one peer: plain TCP through Node, or a socket the native addon prepares
 * before connect() (which Node cannot do): TCP-MD5 signatures (RFC 2385) with a password, and the
 * TTL of eBGP sessions.
 *
 * TTL, as BIRD and FRR send it: a directly connected eBGP peer (ebgpMultiHop false) gets TTL 1,
 * so a session can only form across one link (a packet that would cross a router dies there); a
 * multihop eBGP peer gets 255; iBGP keeps the system default (64), as peers are often loopbacks
 * several hops away.
 */
import type net from "node:net";
import type { SecretValue } from "../api/secret.js";
import { formatIP, type IPAddr } from "../net/ip.js";
import type { TcpConnectOptions } from "../native/index.js";
import { tcpDialer, wrapSocket } from "./tcpTransport.js";
import type { BgpDialer } from "./transport.js";

/** TTL of a directly connected eBGP session's packets. */
export const EBGP_SINGLE_HOP_TTL = 1;
/** TTL of a multihop eBGP session's packets (the most a packet can carry). */
export const EBGP_MULTIHOP_TTL = 255;

/** The TTL a session sends with; undefined: the system default (iBGP). */
export function sessionTtl(sessionType: "ibgp" | "ebgp", ebgpMultiHop: boolean): number | undefined {
  if (sessionType === "ibgp") return undefined;
  return ebgpMultiHop ? EBGP_MULTIHOP_TTL : EBGP_SINGLE_HOP_TTL;
}

export interface PeerEndpoint {
  readonly address: IPAddr;
  readonly port: number;
  /** Local address to connect from (BGPPeer.sourceAddress). */
  readonly sourceAddress?: IPAddr;
  /** TCP-MD5 key; undefined: no signatures. */
  readonly password?: SecretValue;
  /** How long one TCP connect may take (a peer with another MD5 key drops our SYNs silently). */
  readonly connectTimeoutMs: number;
  /** TTL / hop limit of the session's packets (sessionTtl); undefined: the system default. */
  readonly ttl?: number;
}

/** The addon's connect, or a stand-in (tests). */
export type NativeConnect = (options: TcpConnectOptions) => Promise<net.Socket>;

/** Loads the addon only when a session needs it (a password or a TTL), so iBGP runs without it. */
async function addonConnect(options: TcpConnectOptions): Promise<net.Socket> {
  const native = await import("../native/index.js");
  return native.connectTcp(options);
}

/** Whether the addon loads; without it a session with a TTL but no password falls back to plain TCP. */
async function addonLoads(): Promise<boolean> {
  return (await import("../native/index.js")).nativeAvailable();
}

export interface PeerDialerOptions {
  /** Whether the addon can be used (default: it loads); without it only MD5 sessions need it. */
  readonly nativeAvailable?: () => Promise<boolean>;
}

export function peerDialer(
  endpoint: PeerEndpoint,
  nativeConnect: NativeConnect = addonConnect,
  options: PeerDialerOptions = {},
): BgpDialer {
  const { password, ttl } = endpoint;
  const plain = tcpDialer({
    host: formatIP(endpoint.address),
    port: endpoint.port,
    ...(endpoint.sourceAddress === undefined ? {} : { localAddress: formatIP(endpoint.sourceAddress) }),
  });
  if (password === undefined && ttl === undefined) return plain;
  const available = options.nativeAvailable ?? addonLoads;
  return {
    async connect(signal) {
      // A TTL is worth having, not worth losing the session over: without the addon (a build
      // without a compiler) plain TCP with the default TTL still reaches a directly connected peer.
      if (password === undefined && !(await available())) return plain.connect(signal);
      const socket = await nativeConnect({
        peer: endpoint.address,
        port: endpoint.port,
        timeoutMs: endpoint.connectTimeoutMs,
        signal,
        ...(password === undefined ? {} : { key: password.reveal() }),
        ...(ttl === undefined ? {} : { ttl }),
        ...(endpoint.sourceAddress === undefined ? {} : { localAddress: endpoint.sourceAddress }),
      });
      return wrapSocket(socket);
    },
  };
}
