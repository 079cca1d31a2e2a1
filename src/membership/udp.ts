/**
 * The UDP socket of the membership protocol (node:dgram). Binding "::" gives one dual-stack
 * socket that serves IPv4 and IPv6 members alike (IPv4 peers are reached as IPv4-mapped IPv6);
 * where the host has no IPv6 it falls back to "0.0.0.0". A specific address binds that family
 * only.
 */
import dgram from "node:dgram";
import { isIPv4, isIPv6 } from "node:net";
import { memberAddress, normalizeIP, type MemberAddress } from "./address.js";

export class MembershipSocketError extends Error {
  override readonly name = "MembershipSocketError";
  readonly code = "ERR_MEMBERSHIP_SOCKET";
}

export interface UdpEndpointOptions {
  /** Listen address; default "::" (dual stack, falling back to IPv4 only). */
  readonly address?: string;
  /** Port; 0 picks a free one (tests). */
  readonly port: number;
  readonly onDatagram: (datagram: Buffer, from: MemberAddress) => void;
  /** A send or socket error (the socket stays open; UDP errors are per datagram). */
  readonly onError?: (error: Error) => void;
  /** Receive buffer size in bytes (absorbs bursts while our loop is busy); default 1 MiB. */
  readonly receiveBufferBytes?: number;
}

export class UdpEndpoint {
  private constructor(
    private readonly socket: dgram.Socket,
    private readonly dualStack: boolean,
    readonly port: number,
  ) {}

  static async open(options: UdpEndpointOptions): Promise<UdpEndpoint> {
    const requested = options.address ?? "::";
    if (requested !== "::" && !isIPv4(requested) && !isIPv6(requested)) {
      throw new MembershipSocketError(`listen address "${requested}" is not an IP address`);
    }
    try {
      return await UdpEndpoint.bind(requested, options);
    } catch (error) {
      if (requested !== "::") throw wrap(error, requested, options.port);
      try {
        return await UdpEndpoint.bind("0.0.0.0", options);
      } catch (fallbackError) {
        throw wrap(fallbackError, "0.0.0.0", options.port);
      }
    }
  }

  private static bind(address: string, options: UdpEndpointOptions): Promise<UdpEndpoint> {
    const v4 = isIPv4(address);
    const dualStack = address === "::";
    const socket = dgram.createSocket({
      type: v4 ? "udp4" : "udp6",
      ipv6Only: !v4 && !dualStack,
      recvBufferSize: options.receiveBufferBytes ?? 1 << 20,
    });
    return new Promise((resolve, reject) => {
      const onBindError = (error: Error): void => {
        socket.close();
        reject(error);
      };
      socket.once("error", onBindError);
      socket.bind({ address, port: options.port, exclusive: true }, () => {
        socket.off("error", onBindError);
        socket.on("error", (error) => options.onError?.(error));
        socket.on("message", (datagram, remote) => {
          let from: MemberAddress;
          try {
            from = memberAddress(normalizeIP(remote.address), remote.port);
          } catch {
            return; // a source we cannot name (port 0): nothing to answer to
          }
          options.onDatagram(datagram, from);
        });
        resolve(new UdpEndpoint(socket, dualStack, socket.address().port));
      });
    });
  }

  send(to: MemberAddress, datagram: Uint8Array, onError?: (error: Error) => void): void {
    const host = this.dualStack && isIPv4(to.ip) ? `::ffff:${to.ip}` : to.ip;
    this.socket.send(datagram, to.port, host, (error) => {
      if (error !== null) onError?.(error);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => {
          resolve();
        });
      } catch {
        resolve(); // already closed
      }
    });
  }
}

function wrap(error: unknown, address: string, port: number): MembershipSocketError {
  const reason = error instanceof Error ? error.message : String(error);
  return new MembershipSocketError(`cannot listen on UDP ${address} port ${port}: ${reason}`, {
    cause: error,
  });
}
