/**
 * The HTTPS endpoint the API server calls. It owns only transport concerns: TLS (with the
 * certificate swapped in place on rotation), routing, body limits, JSON, and answering 400 to
 * anything that is not an AdmissionReview. Decisions come from admission.ts.
 */
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ConfigInput } from "../api/config.js";
import type { ListenAddress } from "../runtime/httpServer.js";
import type { Logger } from "../runtime/logger.js";
import {
  admissionReviewResponse,
  decideAdmission,
  MalformedAdmissionReviewError,
  parseAdmissionReview,
  type AdmissionDecision,
} from "./admission.js";

export const VALIDATE_PATH = "/validate";

/** An AdmissionReview holds the object twice (old and new), each at most ~1.5 MiB in etcd. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** The configuration objects in the cluster now (the controller's informer caches). */
export type ConfigObjectsProvider = () => ConfigInput | Promise<ConfigInput>;

export interface ServingCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface AdmissionServerOptions {
  readonly listen: ListenAddress;
  readonly certificate: ServingCertificate;
  /** The IronLB namespace, where configuration objects must live. */
  readonly namespace: string;
  readonly configObjects: ConfigObjectsProvider;
  readonly logger?: Logger;
  /** Called after each decision (metrics); never throws into the request. */
  readonly onDecision?: (outcome: DecisionRecord) => void;
}

export interface DecisionRecord {
  readonly kind: string;
  readonly operation: string;
  readonly allowed: boolean;
}

export interface AdmissionServer {
  readonly address: AddressInfo;
  /** Serve `certificate` on new connections from now on (open connections keep theirs). */
  setCertificate(certificate: ServingCertificate): void;
  close(): Promise<void>;
}

class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // Stop reading; the response closes the connection (see the 413 handling).
        request.removeAllListeners("data");
        request.pause();
        reject(new HttpError(413, `request body larger than ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => {
      resolve(Buffer.concat(chunks));
    });
    request.on("error", reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent || response.destroyed) return;
  const text = typeof body === "string" ? body : JSON.stringify(body);
  response.statusCode = status;
  response.setHeader(
    "Content-Type",
    typeof body === "string" ? "text/plain; charset=utf-8" : "application/json",
  );
  response.setHeader("Content-Length", Buffer.byteLength(text));
  response.end(text);
}

/** Starts the HTTPS server; resolves once it listens. */
export async function startAdmissionServer(options: AdmissionServerOptions): Promise<AdmissionServer> {
  const { logger } = options;
  const server: Server = createServer(
    {
      cert: options.certificate.certPem,
      key: options.certificate.keyPem,
      minVersion: "TLSv1.2",
      // The API server keeps connections open between calls; bound how long a slow client may take.
      requestTimeout: 30_000,
      headersTimeout: 10_000,
    },
    (request, response) => {
      handle(request, response, options).catch((error: unknown) => {
        if (error instanceof HttpError) {
          if (error.status === 413) response.setHeader("Connection", "close");
          send(response, error.status, `${error.message}\n`);
          return;
        }
        logger?.error({ err: error }, "webhook request failed");
        send(response, 500, "internal error\n");
      });
    },
  );
  // A client that breaks off the TLS handshake is no reason to log at error level.
  server.on("tlsClientError", (error) => {
    logger?.debug({ err: error }, "webhook TLS handshake failed");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.listen.port, options.listen.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  logger?.info({ address: address.address, port: address.port }, "webhook listening");
  return {
    address,
    setCertificate(certificate) {
      server.setSecureContext({ cert: certificate.certPem, key: certificate.keyPem, minVersion: "TLSv1.2" });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  options: AdmissionServerOptions,
): Promise<void> {
  const path = new URL(request.url ?? "/", "https://webhook.invalid").pathname;
  if (path !== VALIDATE_PATH) throw new HttpError(404, "not found");
  if (request.method !== "POST") {
    response.setHeader("Allow", "POST");
    throw new HttpError(405, "method not allowed");
  }
  const body = await readBody(request);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError(400, "the body is not JSON");
  }
  let admission;
  try {
    admission = parseAdmissionReview(parsed);
  } catch (error) {
    if (error instanceof MalformedAdmissionReviewError) throw new HttpError(400, error.message);
    throw error;
  }
  let decision: AdmissionDecision;
  try {
    const current = await options.configObjects();
    decision = decideAdmission(admission, { namespace: options.namespace, current });
  } catch (error) {
    // Fail closed: without the current configuration the change cannot be judged.
    options.logger?.error({ err: error, uid: admission.uid }, "webhook could not judge a request");
    decision = {
      allowed: false,
      code: 500,
      reason: "InternalError",
      message: `the IronLB webhook could not read the current configuration: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  const record = {
    kind: admission.kind.kind,
    operation: admission.operation,
    allowed: decision.allowed,
  };
  options.logger?.[decision.allowed ? "debug" : "info"](
    {
      ...record,
      name: admission.name,
      namespace: admission.namespace,
      uid: admission.uid,
      message: decision.message,
    },
    decision.allowed ? "webhook allowed a change" : "webhook rejected a change",
  );
  try {
    options.onDecision?.(record);
  } catch (error) {
    options.logger?.warn({ err: error }, "webhook decision callback failed");
  }
  send(
    response,
    200,
    admissionReviewResponse(admission.uid, decision, { kind: admission.kind.kind, name: admission.name }),
  );
}
