/**
 * What the BFD manager needs from the network, as interfaces, so the manager is tested with an
 * in-memory network and runs on UDP sockets (udp.ts) in production.
 */
import type { IPAddr } from "../net/ip.js";

/** One session's sending side: a socket bound to our address and its own source port. */
export interface BfdTxEndpoint {
  /** Our address, as the kernel chose it when no local address was asked for. */
  readonly localAddress: IPAddr;
  send(packet: Buffer): void;
  /** Closes once what was sent has left. */
  close(): Promise<void>;
}

/** A receiving socket on (our address, 3784 or 4784). */
export interface BfdRxEndpoint {
  /** Sets the lowest TTL / hop limit accepted; false when it cannot be enforced here. */
  setMinTtl(minTtl: number): boolean;
  close(): Promise<void>;
}

export type BfdPacketHandler = (data: Buffer, source: IPAddr) => void;

export interface BfdTransport {
  /** A sender to `peer` (port 3784 single-hop, 4784 multi-hop), from `local` or the routed source. */
  openTx(peer: IPAddr, local: IPAddr | undefined, multiHop: boolean): Promise<BfdTxEndpoint>;
  /** A receiver for control packets addressed to `local`. */
  openRx(local: IPAddr, multiHop: boolean, onPacket: BfdPacketHandler): Promise<BfdRxEndpoint>;
}
