/**
 * Graceful restart (RFC 4724 4.1) needs one bit of memory across a process restart: "this
 * speaker had graceful-restart sessions up and did not shut down cleanly", so the next OPEN sets
 * the Restart State bit. A tiny file holds it: written when a graceful-restart session first
 * reaches Established, removed by a clean shutdown (which withdraws everything with a Cease, so
 * there is nothing for the peer to keep). A crash, a SIGKILL or a restart-mode stop leaves it.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export interface RestartMarker {
  /** Whether the previous run left the marker (read once, at start). */
  wasRunning(): boolean;
  /** Records that graceful-restart sessions are up; idempotent and cheap after the first call. */
  markRunning(): void;
  /** Removes the marker (clean shutdown). */
  clear(): void;
}

/** A marker that remembers nothing (no state directory configured, or tests). */
export function memoryRestartMarker(initiallyRunning = false): RestartMarker & { readonly running: boolean } {
  let running = initiallyRunning;
  return {
    wasRunning: () => initiallyRunning,
    markRunning: () => {
      running = true;
    },
    clear: () => {
      running = false;
    },
    get running() {
      return running;
    },
  };
}

/**
 * The marker as a file (e.g. on an emptyDir volume, which outlives container restarts but not the
 * Pod). I/O errors are reported through `onError` and otherwise ignored: without the marker the
 * only loss is the Restart State bit, never a session.
 */
export function fileRestartMarker(path: string, onError?: (error: unknown) => void): RestartMarker {
  let existed = false;
  try {
    readFileSync(path);
    existed = true;
  } catch {
    existed = false;
  }
  let written = false;
  return {
    wasRunning: () => existed,
    markRunning: () => {
      if (written) return;
      written = true;
      try {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, `${JSON.stringify({ pid: process.pid, since: new Date().toISOString() })}\n`);
      } catch (error) {
        onError?.(error);
      }
    },
    clear: () => {
      written = false;
      try {
        rmSync(path, { force: true });
      } catch (error) {
        onError?.(error);
      }
    },
  };
}
