/**
 * The seams between the BGP session driver and the world: a byte-stream connection, a way to
 * open one towards the peer, and a clock. Tests inject in-memory pipes and a manual clock; the
 * speaker injects TCP (tcpTransport.ts) and the system clock.
 */

export interface BgpConnection {
  /** Our address on this connection (the default next hop for its family), when known. */
  readonly localAddress?: string | undefined;
  readonly remoteAddress?: string | undefined;
  write(data: Buffer): void;
  /** Closes after queued writes are flushed; idempotent. */
  close(): void;
  onData(listener: (chunk: Buffer) => void): void;
  /** Called once when the connection ends, by either side. */
  onClose(listener: (error?: Error) => void): void;
}

export interface BgpDialer {
  /** Opens a connection to the peer; rejects when it cannot; aborting the signal cancels it. */
  connect(signal: AbortSignal): Promise<BgpConnection>;
}

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  now(): number;
  setTimer(ms: number, callback: () => void): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, callback) {
    const t = setTimeout(callback, ms);
    // BGP timers alone must not keep the process alive at shutdown.
    t.unref();
    return {
      cancel: () => {
        clearTimeout(t);
      },
    };
  },
};
