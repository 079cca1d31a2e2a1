import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export interface ProbeTarget {
  readonly url: string;
  /** PEM CA for https URLs. */
  readonly caPem?: string;
  readonly bearerToken?: string;
}

export interface ProbeResult {
  readonly status: number;
  readonly body: string;
}

/** One GET with a short timeout; rejects on connection errors (the server is not up yet). */
export function probe(target: ProbeTarget, timeoutMs = 2_000): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const url = new URL(target.url);
    const headers: Record<string, string> = {};
    if (target.bearerToken !== undefined) headers["authorization"] = `Bearer ${target.bearerToken}`;
    const options = { method: "GET", headers, timeout: timeoutMs };
    const onResponse = (res: import("node:http").IncomingMessage): void => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on("error", reject);
    };
    const req =
      url.protocol === "https:"
        ? httpsRequest(
            url,
            target.caPem === undefined ? options : { ...options, ca: target.caPem },
            onResponse,
          )
        : httpRequest(url, options, onResponse);
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

export class NotReadyError extends Error {
  override readonly name = "NotReadyError";
  readonly code = "TESTENV_NOT_READY";
}

export interface WaitOptions {
  readonly timeoutMs: number;
  /** Stops waiting early, e.g. when the process being probed has exited. */
  readonly giveUp?: () => string | undefined;
  readonly intervalMs?: number;
}

/** Polls `target` until `ready(result)` holds; throws NotReadyError with the last observation. */
export async function waitUntilReady(
  target: ProbeTarget,
  ready: (result: ProbeResult) => boolean,
  options: WaitOptions,
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let last = "no answer yet";
  for (;;) {
    const reason = options.giveUp?.();
    if (reason !== undefined) throw new NotReadyError(`${target.url}: ${reason}`);
    try {
      const result = await probe(target);
      if (ready(result)) return;
      last = `HTTP ${result.status}: ${result.body.slice(0, 500)}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline) {
      throw new NotReadyError(`${target.url} not ready after ${options.timeoutMs} ms (${last})`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}
