/**
 * BFD over UDP (RFC 5881 single hop, RFC 5883 multi hop), the I/O edge of src/bfd:
 * - senders: one socket per session, bound to our address and a source port picked at random in
 *   49152–65535 (RFC 5881 §4: unique per session), connected to the peer's 3784 / 4784, TTL /
 *   hop limit 255 (dgram's setTTL sets IP_TTL, or IPV6_UNICAST_HOPS on udp6 sockets);
 * - receivers: one socket per (our address, port). GTSM on reception — single hop requires
 *   TTL 255, multi hop at least minimumTtl — is a BPF socket filter attached through the native
 *   addon (Linux applies IP_MINTTL to TCP only and Node cannot read a datagram's TTL). Without the
 *   addon the TTL is NOT checked; `setMinTtl` then returns false and the manager reports it.
 */
import dgram from "node:dgram";
import { formatIP, tryParseIP, type IPAddr } from "../net/ip.js";
import { attachMinTtlFilter } from "../native/index.js";
import type { BfdPacketHandler, BfdRxEndpoint, BfdTransport, BfdTxEndpoint } from "./transport.js";

export const BFD_SINGLE_HOP_PORT = 3784;
export const BFD_MULTI_HOP_PORT = 4784;
export const SOURCE_PORT_MIN = 49152;
export const SOURCE_PORT_MAX = 65535;
export const BFD_TTL = 255;

export interface UdpTransportOptions {
  /** Destination and listening ports (tests use unprivileged ones on loopback). */
  readonly singleHopPort?: number;
  readonly multiHopPort?: number;
  readonly random?: () => number;
  /** Enforce the received TTL with the native filter (default true; false only in tests). */
  readonly ttlFilter?: boolean;
}

export class BfdSocketError extends Error {
  override readonly name = "BfdSocketError";
  readonly code = "IRONLB_BFD_SOCKET";
}

const socketType = (ip: IPAddr): "udp4" | "udp6" => (ip.family === "IPv4" ? "udp4" : "udp6");

function bind(socket: dgram.Socket, port: number, address: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(error);
    };
    socket.once("error", onError);
    socket.bind({ port, ...(address === undefined ? {} : { address }), exclusive: true }, () => {
      socket.off("error", onError);
      resolve();
    });
  });
}

function connect(socket: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.connect(port, address, (error?: Error) => {
      if (error) reject(error);
      else resolve();
    });
  });
}

/** The descriptor behind a dgram socket (Node keeps it on an internal handle). */
function datagramFd(socket: dgram.Socket): number | undefined {
  for (const sym of Object.getOwnPropertySymbols(socket)) {
    const state = (socket as unknown as Record<symbol, unknown>)[sym] as
      { handle?: { fd?: unknown } } | undefined;
    const fd = state?.handle?.fd;
    if (typeof fd === "number" && fd >= 0) return fd;
  }
  return undefined;
}

function closeSocket(
  socket: dgram.Socket,
  pending: () => number,
  drained: (cb: () => void) => void,
): Promise<void> {
  return new Promise((resolve) => {
    const close = (): void => {
      try {
        socket.close(() => {
          resolve();
        });
      } catch {
        resolve(); // already closed
      }
    };
    if (pending() === 0) close();
    else drained(close);
  });
}

export function udpTransport(options: UdpTransportOptions = {}): BfdTransport {
  const random = options.random ?? Math.random;
  const portFor = (multiHop: boolean): number =>
    multiHop ? (options.multiHopPort ?? BFD_MULTI_HOP_PORT) : (options.singleHopPort ?? BFD_SINGLE_HOP_PORT);

  return {
    async openTx(peer, local, multiHop): Promise<BfdTxEndpoint> {
      const span = SOURCE_PORT_MAX - SOURCE_PORT_MIN + 1;
      let lastError: unknown;
      for (let attempt = 0; attempt < 32; attempt++) {
        const socket = dgram.createSocket({
          type: socketType(peer),
          ...(peer.family === "IPv6" ? { ipv6Only: true } : {}),
        });
        socket.on("error", () => undefined); // send errors (e.g. unreachable) must not crash us
        const port = SOURCE_PORT_MIN + (Math.floor(random() * span) % span);
        try {
          await bind(socket, port, local === undefined ? undefined : formatIP(local));
          await connect(socket, portFor(multiHop), formatIP(peer));
          socket.setTTL(BFD_TTL);
        } catch (error) {
          lastError = error;
          socket.close();
          if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") continue;
          throw new BfdSocketError(`BFD socket to ${formatIP(peer)}: ${String(error)}`);
        }
        const chosen = tryParseIP(socket.address().address);
        if (chosen === undefined) {
          socket.close();
          throw new BfdSocketError(`BFD socket to ${formatIP(peer)}: no local address`);
        }
        let inFlight = 0;
        let onDrained: (() => void) | undefined;
        return {
          localAddress: chosen,
          send(packet) {
            inFlight++;
            socket.send(packet, () => {
              inFlight--;
              if (inFlight === 0) onDrained?.();
            });
          },
          close: () =>
            closeSocket(
              socket,
              () => inFlight,
              (cb) => (onDrained = cb),
            ),
        };
      }
      throw new BfdSocketError(`no free BFD source port: ${String(lastError)}`);
    },

    async openRx(local, multiHop, onPacket: BfdPacketHandler): Promise<BfdRxEndpoint> {
      const socket = dgram.createSocket({
        type: socketType(local),
        ...(local.family === "IPv6" ? { ipv6Only: true } : {}),
      });
      socket.on("error", () => undefined);
      socket.on("message", (data, rinfo) => {
        const source = tryParseIP(rinfo.address.replace(/%.*$/, ""));
        if (source !== undefined) onPacket(data, source);
      });
      try {
        await bind(socket, portFor(multiHop), formatIP(local));
      } catch (error) {
        socket.close();
        throw new BfdSocketError(
          `BFD listener on ${formatIP(local)} port ${String(portFor(multiHop))}: ${String(error)}`,
        );
      }
      return {
        setMinTtl(minTtl) {
          if (options.ttlFilter === false) return false;
          const fd = datagramFd(socket);
          if (fd === undefined) return false;
          try {
            attachMinTtlFilter(fd, local.family, minTtl);
            return true;
          } catch {
            return false;
          }
        },
        close: () =>
          closeSocket(
            socket,
            () => 0,
            () => undefined,
          ),
      };
    },
  };
}
