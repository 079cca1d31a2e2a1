/**
 * How the speaker reaches one peer: plain TCP through Node, or, with a password, a socket that
 * carries TCP-MD5 signatures (RFC 2385) from the native addon (the key must be on the socket
 * before connect(), which Node cannot do).
 *
 * TTL: sockets keep the system default (64). Single-hop eBGP peers accept it unless they enforce
 * GTSM (RFC 5082, `ttl-security`), which IronLB does not offer yet; multihop peers are reached
 * the same way, so `ebgpMultiHop` needs no socket option here.
 */
import type net from "node:net";
import type { SecretValue } from "../api/secret.js";
import { formatIP, type IPAddr } from "../net/ip.js";
import type { Md5ConnectOptions } from "../native/index.js";
import { tcpDialer, wrapSocket } from "./tcpTransport.js";
import type { BgpDialer } from "./transport.js";

export interface PeerEndpoint {
  readonly address: IPAddr;
  readonly port: number;
  /** Local address to connect from (BGPPeer.sourceAddress). */
  readonly sourceAddress?: IPAddr;
  /** TCP-MD5 key; undefined: no signatures. */
  readonly password?: SecretValue;
  /** How long one TCP connect may take (a peer with another MD5 key drops our SYNs silently). */
  readonly connectTimeoutMs: number;
}

export type Md5Connect = (options: Md5ConnectOptions) => Promise<net.Socket>;

/** Loads the addon only when a password is configured, so plain sessions run without it. */
async function nativeConnectMd5(options: Md5ConnectOptions): Promise<net.Socket> {
  const native = await import("../native/index.js");
  return native.connectMd5(options);
}

export function peerDialer(endpoint: PeerEndpoint, connectMd5: Md5Connect = nativeConnectMd5): BgpDialer {
  const password = endpoint.password;
  if (password === undefined) {
    return tcpDialer({
      host: formatIP(endpoint.address),
      port: endpoint.port,
      ...(endpoint.sourceAddress === undefined ? {} : { localAddress: formatIP(endpoint.sourceAddress) }),
    });
  }
  return {
    async connect(signal) {
      const socket = await connectMd5({
        peer: endpoint.address,
        port: endpoint.port,
        key: password.reveal(),
        timeoutMs: endpoint.connectTimeoutMs,
        signal,
        ...(endpoint.sourceAddress === undefined ? {} : { localAddress: endpoint.sourceAddress }),
      });
      return wrapSocket(socket);
    },
  };
}
