import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isIP } from "node:net";
import type { Registry } from "prom-client";
import type { Logger } from "./logger.js";

/** A named health check: resolves when healthy, throws (with a reason) when not. */
export type HealthCheck = (signal: AbortSignal) => Promise<void> | void;

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly message?: string;
}

export class HealthCheckTimeoutError extends Error {
  override readonly name = "HealthCheckTimeoutError";
  readonly code = "ERR_HEALTH_CHECK_TIMEOUT";
}

/**
 * A set of named checks (one set for liveness, one for readiness). Checks run concurrently,
 * each bounded by a timeout, so one hung dependency cannot hang the endpoint.
 */
export class HealthChecks {
  private readonly checks = new Map<string, HealthCheck>();

  constructor(private readonly timeoutMs = 5000) {}

  /** Register (or replace) the check called `name`. Returns a function that removes it. */
  add(name: string, check: HealthCheck): () => void {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
      throw new RangeError(`health check name must be lowercase letters, digits and '-': "${name}"`);
    }
    this.checks.set(name, check);
    return () => {
      if (this.checks.get(name) === check) this.checks.delete(name);
    };
  }

  names(): string[] {
    return [...this.checks.keys()].sort();
  }

  has(name: string): boolean {
    return this.checks.has(name);
  }

  /** Run every check (or only `only`), results sorted by name. */
  async run(only?: string): Promise<CheckResult[]> {
    const names = only === undefined ? this.names() : [only];
    return Promise.all(names.map((name) => this.runOne(name)));
  }

  private async runOne(name: string): Promise<CheckResult> {
    const check = this.checks.get(name);
    if (check === undefined) return { name, ok: false, message: "no such check" };
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new HealthCheckTimeoutError(`timed out after ${this.timeoutMs} ms`));
      }, this.timeoutMs);
    });
    try {
      await Promise.race([Promise.resolve().then(() => check(controller.signal)), timeout]);
      return { name, ok: true };
    } catch (error) {
      return { name, ok: false, message: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
    }
  }
}

export interface ListenAddress {
  /** undefined: every interface (IPv6 and IPv4). */
  readonly host: string | undefined;
  readonly port: number;
}

export class ListenAddressError extends Error {
  override readonly name = "ListenAddressError";
  readonly code = "ERR_LISTEN_ADDRESS";
}

/** Parse "host:port", "[v6]:port" or ":port" (all interfaces) as given to --metrics-addr. */
export function parseListenAddress(text: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  if (match === null)
    throw new ListenAddressError(`listen address must be host:port or :port, got "${text}"`);
  const host = match[1] ?? match[2] ?? "";
  const port = Number(match[3]);
  if (port > 65535) throw new ListenAddressError(`port out of range in "${text}"`);
  if (match[1] !== undefined && isIP(host) !== 6) {
    throw new ListenAddressError(`bracketed host must be an IPv6 address in "${text}"`);
  }
  return { host: host === "" ? undefined : host, port };
}

export interface OpsServerOptions {
  /** Serves /metrics from this registry when given. */
  readonly metrics?: Registry;
  /** Serves /healthz (and /healthz/<check>) when given. */
  readonly liveness?: HealthChecks;
  /** Serves /readyz (and /readyz/<check>) when given. */
  readonly readiness?: HealthChecks;
  readonly logger?: Logger;
}

export interface OpsServer {
  /** The bound address (port resolved when 0 was asked for). */
  readonly address: AddressInfo;
  close(): Promise<void>;
}

/**
 * The operations HTTP server: Prometheus metrics and Kubernetes-style health endpoints.
 * `/readyz` answers 200 "ok" or 500 with one `[+]name ok` / `[-]name failed: reason` line per
 * check; `?verbose` lists the checks on success too.
 */
export async function startOpsServer(listen: ListenAddress, options: OpsServerOptions): Promise<OpsServer> {
  const server = createServer((request, response) => {
    handle(request, response, options).catch((error: unknown) => {
      options.logger?.error({ err: error, path: request.url }, "ops server request failed");
      if (!response.headersSent) respond(response, 500, "internal error\n");
      else response.destroy();
    });
  });
  await listenOn(server, listen);
  const address = server.address() as AddressInfo;
  options.logger?.info({ address: address.address, port: address.port }, "ops server listening");
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        // Keep-alive connections (Prometheus scrapers) would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}

function listenOn(server: Server, listen: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  options: OpsServerOptions,
): Promise<void> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.setHeader("Allow", "GET, HEAD");
    respond(response, 405, "method not allowed\n");
    return;
  }
  const url = new URL(request.url ?? "/", "http://ops.invalid");
  const [, endpoint, checkName, ...rest] = url.pathname.split("/");
  if (endpoint === "metrics" && checkName === undefined && options.metrics !== undefined) {
    const body = await options.metrics.metrics();
    response.setHeader("Content-Type", options.metrics.contentType);
    respond(response, 200, body);
    return;
  }
  const checks =
    endpoint === "healthz" ? options.liveness : endpoint === "readyz" ? options.readiness : undefined;
  if (checks !== undefined && rest.length === 0 && (checkName === undefined || checks.has(checkName))) {
    const results = await checks.run(checkName);
    const failed = results.some((r) => !r.ok);
    const verbose = url.searchParams.has("verbose") || failed;
    const lines = verbose ? results.map(formatResult) : [];
    const summary = failed ? `${endpoint} check failed` : "ok";
    respond(response, failed ? 500 : 200, [...lines, summary].join("\n") + "\n");
    return;
  }
  respond(response, 404, "not found\n");
}

function formatResult(result: CheckResult): string {
  return result.ok ? `[+]${result.name} ok` : `[-]${result.name} failed: ${result.message ?? "unhealthy"}`;
}

function respond(response: ServerResponse, status: number, body: string): void {
  response.statusCode = status;
  if (!response.hasHeader("Content-Type")) response.setHeader("Content-Type", "text/plain; charset=utf-8");
  response.setHeader("Cache-Control", "no-store");
  response.end(response.req.method === "HEAD" ? undefined : body);
}
