/**
 * `ironlb controller` wiring: informers feed a keyed work queue; while this replica leads, one
 * ControllerCore per leadership term reconciles the keys. Standbys keep their caches warm and
 * write nothing. Everything stops when `signal` aborts.
 */
import { setMaxListeners } from "node:events";
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import { Registry, collectDefaultMetrics } from "prom-client";
import type { ConfigInput } from "../api/config.js";
import { createKubeClients, loadKubeConfig, type KubeClients } from "../k8s/client.js";
import { createConfigInformers, informerMaker } from "../k8s/configInformers.js";
import { waitForCacheSync, type InformerHandlers } from "../k8s/informer.js";
import { httpListWatch } from "../k8s/listWatch.js";
import { objectKey } from "../k8s/resource.js";
import { HealthChecks, parseListenAddress, startOpsServer, type OpsServer } from "../runtime/httpServer.js";
import type { Logger } from "../runtime/logger.js";
import { ensureMembershipSecret } from "../membership/controller/ensureMembershipSecret.js";
import { sleep, systemClock } from "../runtime/clock.js";
import { defaultControllerRateLimiter } from "../runtime/rateLimiter.js";
import { runWorkers } from "../runtime/workers.js";
import { WorkQueue } from "../runtime/workqueue.js";
import { workQueuePromMetrics } from "../runtime/workqueueMetrics.js";
import { assembleConfig, ConfigTracker } from "./configSource.js";
import { ControllerCore } from "./core.js";
import { CONFIG_KEY, serviceWorkKey } from "./keys.js";
import { InformerCaches, KubeWriter, NAMESPACES, SERVICES, type ControllerInformers } from "./kube.js";
import { ControllerMetrics } from "./metrics.js";
import { WriteAbortedError } from "./ports.js";

/**
 * Runs `lead` for each term of leadership this replica wins; `term` aborts when leadership is
 * lost (stop writing at once). Resolves after `signal` aborts and leadership was given up.
 */
export type LeadershipLoop = (
  signal: AbortSignal,
  lead: (term: AbortSignal) => Promise<void>,
) => Promise<void>;

/** Without leader election the replica leads for its whole life. */
export const alwaysLeader: LeadershipLoop = (signal, lead) => lead(signal);

/** The validating webhook, started on --webhook-addr with the controller's caches (see src/webhook). */
export type WebhookStarter = (options: {
  readonly listen: string;
  readonly namespace: string;
  readonly kubeConfig: KubeConfig;
  readonly configObjects: () => ConfigInput;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}) => Promise<{ close(): Promise<void> }>;

export interface ControllerOptions {
  readonly namespace: string;
  readonly lbClass?: string | undefined;
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  readonly metricsAddr?: string | undefined;
  readonly healthAddr?: string | undefined;
  readonly webhookAddr?: string | undefined;
  readonly startWebhook?: WebhookStarter | undefined;
  /** Leader election; default alwaysLeader. */
  readonly leadership?: LeadershipLoop;
  /** Concurrent reconciles; default 8. */
  readonly workers?: number;
  /** Every Service is reconciled again this often; default 10 minutes. */
  readonly resyncPeriodMs?: number;
  /** Called once the controller runs (ops endpoints bound), for tests and the CLI. */
  readonly onStarted?: (info: { metrics?: OpsServer; health?: OpsServer }) => void;
}

/** Runs the controller until `signal` aborts; resolves after a clean shutdown. */
export async function runController(options: ControllerOptions, signal: AbortSignal): Promise<void> {
  const { logger, namespace } = options;
  // Informers, workers and in-flight requests all listen on the signal.
  setMaxListeners(0, signal);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let currentCore: ControllerCore | undefined;
  let leading = false;
  const queue = new WorkQueue({
    metrics: workQueuePromMetrics(registry, "controller"),
    rateLimiter: defaultControllerRateLimiter({ maxMs: 30_000 }),
  });
  const metrics = new ControllerMetrics(registry, {
    allocator: () => currentCore?.allocations,
    queueDepth: () => queue.len(),
  });
  const clients: KubeClients = createKubeClients(options.kubeConfig, {
    onResponse: (code) => {
      if (code >= 400) metrics.apiError(code);
    },
  });
  const listWatch = httpListWatch(options.kubeConfig, { agent: () => clients.agent() });
  const onInformerError = (error: unknown): void => {
    const code = (error as { statusCode?: unknown }).statusCode;
    metrics.apiError(typeof code === "number" ? code : 0);
  };
  const informer = informerMaker({ client: listWatch, logger, onError: onInformerError });

  const informers: ControllerInformers = {
    services: informer(SERVICES, { resyncPeriodMs: options.resyncPeriodMs ?? 600_000 }),
    namespaces: informer(NAMESPACES),
    ...createConfigInformers(informer, namespace),
  };
  const caches = new InformerCaches(informers, namespace);
  const all = [informers.services, informers.namespaces, ...informers.ironlb, ...informers.metallb];

  // Handlers only enqueue keys.
  const enqueueService: InformerHandlers<KubernetesObject> = {
    onAdd: (o) => {
      queue.add(serviceWorkKey(objectKey(o)));
    },
    onUpdate: (_old, o) => {
      queue.add(serviceWorkKey(objectKey(o)));
    },
    onDelete: (o) => {
      queue.add(serviceWorkKey(objectKey(o)));
    },
  };
  informers.services.addHandlers(enqueueService);
  informers.namespaces.addHandlers({
    onUpdate: (old, next) => {
      if (JSON.stringify(old.metadata?.labels ?? {}) === JSON.stringify(next.metadata?.labels ?? {})) return;
      const ns = next.metadata?.name ?? "";
      for (const svc of informers.services.list(ns)) queue.add(serviceWorkKey(objectKey(svc)));
    },
  });
  const enqueueConfig = (): void => {
    queue.add(CONFIG_KEY);
  };
  for (const i of [...informers.ironlb, ...informers.metallb]) {
    i.addHandlers({ onAdd: enqueueConfig, onUpdate: enqueueConfig, onDelete: enqueueConfig });
  }
  // IPAddressPool status writes come back as updates; pool status is ours, not configuration.
  // (The fingerprint comparison in ConfigTracker makes those reconciles no-ops.)

  for (const i of all) i.start(signal);

  // ── ops endpoints ──
  const liveness = new HealthChecks();
  liveness.add("ping", () => undefined);
  const readiness = new HealthChecks();
  readiness.add("informers", () => {
    const waiting = all.filter((i) => !i.hasSynced()).length;
    if (waiting > 0) throw new Error(`${waiting} informer cache(s) not synced`);
  });
  readiness.add("config", () => {
    if (!leading) return; // a standby has nothing to prove beyond warm caches
    if (currentCore === undefined) throw new Error("leader still loading existing assignments");
    if (currentCore.configuration === undefined) throw new Error("no valid IronLB configuration yet");
  });
  const servers: OpsServer[] = [];
  const started: { metrics?: OpsServer; health?: OpsServer } = {};
  if (options.metricsAddr !== undefined) {
    started.metrics = await startOpsServer(parseListenAddress(options.metricsAddr), {
      metrics: registry,
      ...(options.healthAddr === undefined && { liveness, readiness }),
      logger,
    });
    servers.push(started.metrics);
  }
  if (options.healthAddr !== undefined) {
    started.health = await startOpsServer(parseListenAddress(options.healthAddr), {
      liveness,
      readiness,
      logger,
    });
    servers.push(started.health);
  }

  let webhook: { close(): Promise<void> } | undefined;
  if (options.webhookAddr !== undefined) {
    if (options.startWebhook === undefined)
      throw new Error("--webhook-addr given but no webhook implementation");
    webhook = await options.startWebhook({
      listen: options.webhookAddr,
      namespace,
      kubeConfig: options.kubeConfig,
      configObjects: () => assembleConfig(caches.configObjects(), namespace).input,
      logger: logger.child({ component: "webhook" }),
      signal,
    });
  }
  options.onStarted?.(started);

  // ── leadership terms ──
  const tracker = new ConfigTracker();
  const lead = async (term: AbortSignal): Promise<void> => {
    setMaxListeners(0, term);
    leading = true;
    metrics.leading(true);
    const log = logger.child({ term: Date.now() });
    try {
      log.info("leading: waiting for caches to sync");
      if (!(await waitForCacheSync(all, term))) return;
      // One writer per term: its queued Events are dropped, not sent, once leadership is lost.
      const writer = new KubeWriter({ clients, logger: log, signal: term });
      const core = new ControllerCore({
        namespace,
        lbClass: options.lbClass,
        caches,
        writer,
        queue,
        logger: log,
        metrics,
        configTracker: tracker,
      });
      void ensureMembershipKey(clients, namespace, log, term);
      const summary = core.start();
      currentCore = core;
      log.info({ loaded: summary.loaded, rejected: summary.rejected.length }, "leading: reconciling");
      await runWorkers(queue, options.workers ?? 8, (key, s) => core.reconcile(key, s), term, {
        onError: (key, error) => {
          if (error instanceof WriteAbortedError) return;
          log.warn({ queueKey: key, err: error }, "reconcile failed; retrying with backoff");
        },
        observe: (key, outcome, ms) => {
          metrics.reconciled(key, outcome, ms);
        },
      });
    } finally {
      currentCore = undefined;
      leading = false;
      metrics.leading(false);
      log.info("no longer leading; writes stopped");
    }
  };

  try {
    await (options.leadership ?? alwaysLeader)(signal, lead);
  } finally {
    queue.shutdown();
    await webhook?.close();
    await Promise.all(servers.map((s) => s.close()));
    logger.info("controller stopped");
  }
}

export { loadKubeConfig };

/**
 * The speakers' membership key Secret is the controller's to create (when missing). Best effort,
 * retried while this replica leads: allocation does not depend on it.
 */
async function ensureMembershipKey(
  clients: KubeClients,
  namespace: string,
  logger: Logger,
  term: AbortSignal,
): Promise<void> {
  do {
    try {
      await ensureMembershipSecret(clients.core, namespace, { logger, signal: term });
      return;
    } catch (error) {
      logger.warn({ err: error }, "could not ensure the membership key Secret; retrying in 30 s");
    }
  } while (await sleep(systemClock, 30_000, term));
}
