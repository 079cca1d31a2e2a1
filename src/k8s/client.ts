import { existsSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import {
  AdmissionregistrationV1Api,
  ApiException,
  ApiextensionsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  EventsV1Api,
  KubeConfig,
  Observable,
  ServerConfiguration,
  createConfiguration,
  type Configuration,
  type ConfigurationOptions,
  type Middleware,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
} from "@kubernetes/client-node";
import { linkedSignal } from "../runtime/abort.js";

export class KubeConfigError extends Error {
  override readonly name = "KubeConfigError";
  readonly code = "ERR_KUBECONFIG";
}

const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

export interface KubeConfigSource {
  /** Path given with --kubeconfig. */
  readonly kubeconfig?: string | undefined;
  /** Context to use instead of the file's current-context. */
  readonly context?: string | undefined;
}

/**
 * Where the API server is and who we are: the --kubeconfig file when given, else the file named
 * by $KUBECONFIG, else the in-cluster service account. Never falls back to ~/.kube/config, so a
 * misconfigured pod cannot silently talk to a developer's cluster.
 */
export function loadKubeConfig(
  source: KubeConfigSource = {},
  env: NodeJS.ProcessEnv = process.env,
): KubeConfig {
  const config = new KubeConfig();
  const file = source.kubeconfig ?? firstPath(env.KUBECONFIG);
  try {
    if (file !== undefined) {
      config.loadFromFile(file);
    } else if (env.KUBERNETES_SERVICE_HOST !== undefined && env.KUBERNETES_SERVICE_PORT !== undefined) {
      if (!existsSync(SERVICE_ACCOUNT_TOKEN)) {
        throw new KubeConfigError(
          `in-cluster config: service account token ${SERVICE_ACCOUNT_TOKEN} not found`,
        );
      }
      config.loadFromCluster();
    } else {
      throw new KubeConfigError(
        "no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG, or run in a cluster",
      );
    }
    if (source.context !== undefined) config.setCurrentContext(source.context);
  } catch (error) {
    if (error instanceof KubeConfigError) throw error;
    const where = file ?? "in-cluster configuration";
    throw new KubeConfigError(
      `cannot load ${where}: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
  if (config.getCurrentCluster() === null) {
    throw new KubeConfigError(
      `kubeconfig ${file ?? ""} has no cluster for context "${config.getCurrentContext()}"`,
    );
  }
  return config;
}

function firstPath(list: string | undefined): string | undefined {
  const first = list?.split(":").find((p) => p !== "");
  return first === undefined || first === "" ? undefined : first;
}

/** The typed API clients IronLB uses, all sharing one keep-alive connection pool. */
export interface KubeClients {
  readonly config: KubeConfig;
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
  readonly customObjects: CustomObjectsApi;
  readonly apiextensions: ApiextensionsV1Api;
  readonly admissionregistration: AdmissionregistrationV1Api;
  readonly events: EventsV1Api;
  readonly discovery: DiscoveryV1Api;
  /** The agent every client uses (also for raw list/watch requests, see listWatch.ts). */
  readonly agent: () => Promise<http.Agent | undefined>;
}

export interface KubeClientOptions {
  /** Called with the HTTP status of every API response (for an API-errors metric). */
  readonly onResponse?: (statusCode: number) => void;
}

/**
 * Typed clients for `config`. client-node builds a fresh https.Agent (a new TLS handshake)
 * for every request; a middleware swaps in one shared keep-alive agent instead, which matters
 * when the controller writes thousands of Service statuses.
 */
export function createKubeClients(config: KubeConfig, options: KubeClientOptions = {}): KubeClients {
  const cluster = config.getCurrentCluster();
  if (cluster === null) throw new KubeConfigError("kubeconfig has no current cluster");
  const agent = sharedAgent(config);
  const connection: Middleware = {
    pre: async (context: RequestContext) => {
      const shared = await agent();
      if (shared !== undefined) context.setAgent(shared);
      return context;
    },
    post: (response: ResponseContext) => {
      options.onResponse?.(response.httpStatusCode);
      return Promise.resolve(response);
    },
  };
  // What KubeConfig.makeApiClient does, plus our middleware.
  const make = <T>(api: new (configuration: Configuration) => T): T =>
    new api(
      createConfiguration({
        baseServer: new ServerConfiguration(cluster.server, {}),
        authMethods: { default: config },
        promiseMiddleware: [connection],
      }),
    );
  return {
    config,
    core: make(CoreV1Api),
    coordination: make(CoordinationV1Api),
    customObjects: make(CustomObjectsApi),
    apiextensions: make(ApiextensionsV1Api),
    admissionregistration: make(AdmissionregistrationV1Api),
    events: make(EventsV1Api),
    discovery: make(DiscoveryV1Api),
    agent,
  };
}

/** One keep-alive agent per KubeConfig with the TLS material the config names (lazily built). */
export function sharedAgent(config: KubeConfig): () => Promise<http.Agent | undefined> {
  let pending: Promise<http.Agent | undefined> | undefined;
  return () => {
    pending ??= buildAgent(config);
    return pending;
  };
}

async function buildAgent(config: KubeConfig): Promise<http.Agent | undefined> {
  const cluster = config.getCurrentCluster();
  // Proxies need client-node's own agents; keep its per-request behaviour there.
  if (cluster === null || cluster.proxyUrl !== undefined) return undefined;
  const tls: https.RequestOptions = {};
  await config.applyToHTTPSOptions(tls);
  const common = { keepAlive: true, maxSockets: 64, scheduling: "lifo" as const };
  if (cluster.server.startsWith("http:")) return new http.Agent(common);
  return new https.Agent({
    ...common,
    ...pick(tls, ["ca", "cert", "key", "pfx", "passphrase", "servername"]),
    ...(tls.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: tls.rejectUnauthorized }),
  });
}

function pick<T extends object, K extends keyof T>(from: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (from[key] !== undefined) out[key] = from[key];
  return out;
}

export interface RequestControl {
  /** Abort the request when this aborts (e.g. leadership lost). */
  readonly signal?: AbortSignal | undefined;
  /** Abort the request after this many milliseconds. */
  readonly timeoutMs?: number | undefined;
}

/**
 * Per-call options that bound an API call, for the second argument of any client method:
 * `core.readNamespacedService({name, namespace}, requestOptions({signal, timeoutMs: 5000}))`.
 * (client-node sets no timeout of its own: a call to a hung API server waits forever.)
 */
export function requestOptions(control: RequestControl): ConfigurationOptions {
  if (control.timeoutMs === undefined) {
    if (control.signal === undefined) return {};
    const signal = control.signal;
    return callMiddleware((context) => {
      context.setSignal(signal);
    });
  }
  // One linked signal per call, detached from the caller's long-lived signal when the response
  // arrives (or the timer fires), so options objects made per call never pile up on it.
  const bounded = linkedSignal(control.signal, { timeoutMs: control.timeoutMs });
  return callMiddleware(
    (context) => {
      context.setSignal(bounded.signal);
    },
    () => {
      bounded.dispose();
    },
  );
}

function callMiddleware(pre: (context: RequestContext) => void, post?: () => void): ConfigurationOptions {
  const middleware: ObservableMiddleware = {
    pre: (context) => {
      pre(context);
      return new Observable(Promise.resolve(context));
    },
    post: (response) => {
      post?.();
      return new Observable(Promise.resolve(response));
    },
  };
  return { middleware: [middleware], middlewareMergeStrategy: "append" };
}

/** The HTTP status of a failed API call (ApiException or a Status-shaped error), if any. */
export function apiStatusCode(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  if (typeof error === "object" && error !== null) {
    const candidate = error as { statusCode?: unknown; code?: unknown };
    if (typeof candidate.statusCode === "number") return candidate.statusCode;
    if (typeof candidate.code === "number") return candidate.code;
  }
  return undefined;
}

export const isNotFound = (error: unknown): boolean => apiStatusCode(error) === 404;
/** 409: an update lost a resourceVersion race, or a create found the object already there. */
export const isConflict = (error: unknown): boolean => apiStatusCode(error) === 409;
export const isGone = (error: unknown): boolean => apiStatusCode(error) === 410;
