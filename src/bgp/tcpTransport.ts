/**
 * The TCP edge of a BGP session: a dialer, a listener, and net.Socket adapted to BgpConnection.
 * Kept thin on purpose; TCP-MD5 and the eBGP TTL need socket options Node does not expose: those
 * sockets come ready-made from the native addon (peerDialer.ts) and are wrapped here.
 */
import net from "node:net";
import { BGP_PORT } from "./codec/constants.js";
import type { BgpConnection, BgpDialer } from "./transport.js";

/** How long close() waits for the peer to finish after our FIN before dropping the socket. */
const CLOSE_GRACE_MS = 5_000;

export function wrapSocket(socket: net.Socket): BgpConnection {
  socket.setNoDelay(true);
  const closeListeners: ((error?: Error) => void)[] = [];
  let closed = false;
  let lastError: Error | undefined;
  // Without an 'error' listener a reset connection would throw out of the event loop.
  socket.on("error", (err) => {
    lastError = err;
  });
  socket.on("close", () => {
    closed = true;
    for (const l of closeListeners) l(lastError);
  });
  return {
    localAddress: socket.localAddress,
    remoteAddress: socket.remoteAddress,
    write(data) {
      if (!socket.destroyed && socket.writable) socket.write(data);
    },
    close() {
      if (socket.destroyed) return;
      socket.end();
      const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
      timer.unref();
      socket.once("close", () => {
        clearTimeout(timer);
      });
    },
    onData(listener) {
      socket.on("data", listener);
    },
    onClose(listener) {
      if (closed) listener(lastError);
      else closeListeners.push(listener);
    },
  };
}

export interface TcpDialerOptions {
  readonly host: string;
  readonly port?: number;
  /** Source address for the session (the BGPPeer's sourceAddress). */
  readonly localAddress?: string;
  /** Applied to the socket before it connects (e.g. TCP-MD5 through the native addon). */
  readonly prepareSocket?: (socket: net.Socket) => void;
}

export function tcpDialer(opts: TcpDialerOptions): BgpDialer {
  return {
    connect(signal) {
      return new Promise<BgpConnection>((resolve, reject) => {
        if (signal.aborted) {
          reject(new Error("connect aborted"));
          return;
        }
        const socket = new net.Socket();
        opts.prepareSocket?.(socket);
        const onAbort = (): void => {
          socket.destroy();
          reject(new Error("connect aborted"));
        };
        signal.addEventListener("abort", onAbort, { once: true });
        socket.once("error", (err) => {
          signal.removeEventListener("abort", onAbort);
          reject(err);
        });
        socket.connect(
          {
            host: opts.host,
            port: opts.port ?? BGP_PORT,
            ...(opts.localAddress === undefined ? {} : { localAddress: opts.localAddress }),
          },
          () => {
            signal.removeEventListener("abort", onAbort);
            resolve(wrapSocket(socket));
          },
        );
      });
    },
  };
}

export interface BgpListener {
  readonly port: number;
  /** Stops accepting new connections (established ones are left to their sessions). */
  close(): Promise<void>;
}

export interface ListenOptions {
  readonly host: string;
  /** 179 by default; 0 picks a free port (tests). */
  readonly port?: number;
  /** Called for each accepted connection; route it to the session of `remoteAddress`. */
  readonly onConnection: (conn: BgpConnection, remoteAddress: string | undefined) => void;
  /** Errors of the listening socket after it is up (without a handler they are dropped, not thrown). */
  readonly onError?: (error: Error) => void;
}

export function listenBgp(opts: ListenOptions): Promise<BgpListener> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => {
      const conn = wrapSocket(socket);
      opts.onConnection(conn, socket.remoteAddress);
    });
    server.once("error", reject);
    server.listen(opts.port ?? BGP_PORT, opts.host, () => {
      server.off("error", reject);
      server.on("error", (err) => opts.onError?.(err));
      const address = server.address();
      resolve({
        port: typeof address === "object" && address !== null ? address.port : (opts.port ?? BGP_PORT),
        // Stops accepting; connections already handed over belong to their sessions.
        close: () => {
          server.close();
          return Promise.resolve();
        },
      });
    });
  });
}
