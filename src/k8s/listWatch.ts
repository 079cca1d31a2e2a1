import http from "node:http";
import https from "node:https";
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import { TimeoutError, linkedSignal } from "../runtime/abort.js";
import { sharedAgent } from "./client.js";

/**
 * The two raw calls an informer needs. An interface so informers are unit-tested against a
 * scripted fake and run against the API server through `httpListWatch`.
 */
export interface ListWatchClient {
  /** One page of a collection. */
  list(path: string, query: ListQuery, signal: AbortSignal): Promise<ListPage>;
  /**
   * Stream watch events to `onEvent` until the server ends the watch (resolves), the watch
   * fails (rejects: KubeHttpError for an HTTP or in-stream error Status, WatchTimeoutError when
   * the stream outlives its deadline, or a network error) or `signal` aborts (resolves).
   */
  watch(
    path: string,
    query: WatchQuery,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

export interface SelectorQuery {
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
}

export interface ListQuery extends SelectorQuery {
  readonly limit?: number | undefined;
  readonly continue?: string | undefined;
}

export interface WatchQuery extends SelectorQuery {
  readonly resourceVersion: string;
  /** Server-side watch duration; the client gives up 30 s after it. */
  readonly timeoutSeconds: number;
}

export interface ListPage {
  readonly items: KubernetesObject[];
  readonly resourceVersion: string;
  readonly continue: string | undefined;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

export interface WatchEvent {
  readonly type: WatchEventType;
  readonly object: KubernetesObject;
}

/** An API call answered with an error status (HTTP status, or the code of a watch ERROR event). */
export class KubeHttpError extends Error {
  override readonly name = "KubeHttpError";
  readonly code = "ERR_KUBE_HTTP";

  constructor(
    readonly statusCode: number,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
  }
}

export class WatchTimeoutError extends Error {
  override readonly name = "WatchTimeoutError";
  readonly code = "ERR_WATCH_TIMEOUT";
}

export class WatchDecodeError extends Error {
  override readonly name = "WatchDecodeError";
  readonly code = "ERR_WATCH_DECODE";
}

/** Slack after the server-side timeoutSeconds before a silent watch is declared dead. */
const WATCH_DEADLINE_SLACK_MS = 30_000;
const LIST_TIMEOUT_MS = 60_000;

/**
 * List and watch over HTTP with the credentials of `config` and a shared keep-alive agent.
 * (Not client-node's Watch/ListWatch: those swallow exceptions thrown by handlers together with
 * the event, report an error after stop(), never time out a silent watch and give no way to
 * know that the first list has been applied.)
 */
export interface HttpListWatchOptions {
  /** Connection pool to use; default a keep-alive agent for `config` (pass KubeClients.agent to share). */
  readonly agent?: () => Promise<http.Agent | undefined>;
  /** How long after timeoutSeconds a silent watch is abandoned; default 30 s. */
  readonly watchDeadlineSlackMs?: number;
}

export function httpListWatch(config: KubeConfig, options: HttpListWatchOptions = {}): ListWatchClient {
  const agent = options.agent ?? sharedAgent(config);
  const slackMs = options.watchDeadlineSlackMs ?? WATCH_DEADLINE_SLACK_MS;
  const open = async (path: string, query: Record<string, string>, signal: AbortSignal) => {
    const cluster = config.getCurrentCluster();
    if (cluster === null) throw new KubeHttpError(0, "kubeconfig has no current cluster");
    const url = new URL(cluster.server.replace(/\/+$/, "") + path);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    const credentials: https.RequestOptions = {};
    await config.applyToHTTPSOptions(credentials);
    const shared = await agent();
    const transport = url.protocol === "https:" ? https : http;
    return new Promise<http.IncomingMessage>((resolve, reject) => {
      const request = transport.request(url, {
        method: "GET",
        headers: {
          ...(credentials.headers as http.OutgoingHttpHeaders | undefined),
          Accept: "application/json",
        },
        agent: shared ?? credentials.agent,
        ...(credentials.auth === undefined ? {} : { auth: credentials.auth }),
        signal,
      });
      request.once("response", resolve);
      request.once("error", reject);
      request.end();
    });
  };

  return {
    async list(path, query, signal) {
      const bounded = linkedSignal(signal, {
        timeoutMs: LIST_TIMEOUT_MS,
        timeoutMessage: `list of ${path} timed out`,
      });
      let body: string;
      let response: http.IncomingMessage;
      try {
        response = await open(path, listParams(query), bounded.signal);
        body = await readBody(response);
      } finally {
        bounded.dispose();
      }
      if (response.statusCode !== 200) throw statusError(response.statusCode ?? 0, body);
      const parsed = parseJson(body) as {
        items?: KubernetesObject[] | null;
        metadata?: { resourceVersion?: string; continue?: string };
      };
      return {
        items: parsed.items ?? [],
        resourceVersion: parsed.metadata?.resourceVersion ?? "",
        continue: parsed.metadata?.continue === "" ? undefined : parsed.metadata?.continue,
      };
    },

    async watch(path, query, onEvent, signal) {
      const bounded = linkedSignal(signal, { timeoutMs: query.timeoutSeconds * 1000 + slackMs });
      try {
        const response = await open(path, watchParams(query), bounded.signal);
        if (response.statusCode !== 200)
          throw statusError(response.statusCode ?? 0, await readBody(response));
        await readEvents(response, onEvent);
      } catch (error) {
        if (signal.aborted) return;
        if (bounded.signal.reason instanceof TimeoutError) {
          throw new WatchTimeoutError(`watch of ${path} outlived its ${query.timeoutSeconds} s timeout`);
        }
        throw error;
      } finally {
        bounded.dispose();
      }
    },
  };
}

function selectorParams(query: SelectorQuery): Record<string, string> {
  const params: Record<string, string> = {};
  if (query.labelSelector !== undefined) params.labelSelector = query.labelSelector;
  if (query.fieldSelector !== undefined) params.fieldSelector = query.fieldSelector;
  return params;
}

function listParams(query: ListQuery): Record<string, string> {
  const params = selectorParams(query);
  if (query.limit !== undefined) params.limit = String(query.limit);
  if (query.continue !== undefined) params.continue = query.continue;
  return params;
}

function watchParams(query: WatchQuery): Record<string, string> {
  return {
    ...selectorParams(query),
    watch: "true",
    allowWatchBookmarks: "true",
    resourceVersion: query.resourceVersion,
    timeoutSeconds: String(query.timeoutSeconds),
  };
}

function readBody(response: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => (body += chunk));
    response.once("end", () => {
      resolve(body);
    });
    response.once("error", reject);
    response.once("aborted", () => {
      reject(new Error("response aborted"));
    });
  });
}

/** Deliver one event per JSON line; resolves at end of stream, rejects on an error event. */
function readEvents(response: http.IncomingMessage, onEvent: (event: WatchEvent) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    let failed = false;
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      response.destroy();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => {
      buffered += chunk;
      let newline = buffered.indexOf("\n");
      while (newline >= 0 && !failed) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line !== "") {
          try {
            const event = parseJson(line) as { type?: string; object?: KubernetesObject };
            if (event.type === "ERROR") {
              const status = event.object as { code?: number; message?: string; reason?: string } | undefined;
              fail(new KubeHttpError(status?.code ?? 500, status?.message ?? "watch error", status?.reason));
              return;
            }
            if (!isEventType(event.type) || event.object === undefined) {
              fail(new WatchDecodeError(`unexpected watch event: ${line.slice(0, 200)}`));
              return;
            }
            onEvent({ type: event.type, object: event.object });
          } catch (error) {
            fail(error);
            return;
          }
        }
        newline = buffered.indexOf("\n");
      }
    });
    response.once("end", () => {
      if (!failed) resolve();
    });
    response.once("error", fail);
    response.once("aborted", () => {
      fail(new Error("watch stream aborted by the server"));
    });
    response.once("close", () => {
      // A connection reset surfaces as close without end.
      if (!response.complete) fail(new Error("watch stream closed before completion"));
    });
  });
}

function isEventType(type: string | undefined): type is WatchEventType {
  return type === "ADDED" || type === "MODIFIED" || type === "DELETED" || type === "BOOKMARK";
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new WatchDecodeError(`invalid JSON from the API server: ${text.slice(0, 200)}`);
  }
}

function statusError(statusCode: number, body: string): KubeHttpError {
  let message = body.slice(0, 500);
  let reason: string | undefined;
  try {
    const status = JSON.parse(body) as { message?: string; reason?: string };
    message = status.message ?? message;
    reason = status.reason;
  } catch {
    // Not a Status object; keep the raw text.
  }
  return new KubeHttpError(statusCode, `HTTP ${statusCode}: ${message}`, reason);
}
