/**
 * `ironlb speaker`: everything wired together. Informers feed the snapshot; the live speakers
 * come from membership (SWIM over UDP, when its key is mounted; src/membership) and from Leases
 * (this speaker renews its own either way); links come from sysfs; the core decides and the
 * announcer answers. On abort (SIGTERM): stop answering, leave the membership and delete the
 * Lease so the other speakers take over at once, remove this node's status objects, close the
 * rest.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { Registry, collectDefaultMetrics } from "prom-client";
import { Announcer, type AnnouncerIO } from "../l2/announcer.js";
import { announcerPromMetrics } from "../l2/announcerMetrics.js";
import { ETHERTYPE_ARP } from "../l2/codec/ethernet.js";
import { DEFAULT_EXCLUDED_PATTERNS, type InterfacePattern, type LinkInfo } from "../l2/interfaces.js";
import { LinkMonitor } from "../l2/interfacesMonitor.js";
import { createKubeClients } from "../k8s/client.js";
import { waitForCacheSync } from "../k8s/informer.js";
import { httpListWatch } from "../k8s/listWatch.js";
import { DEFAULT_LEASE_DURATION_SECONDS, SpeakerLeaseHeartbeat } from "../membership/lease.js";
import { LeaseLiveSpeakers } from "../membership/leaseLiveSpeakers.js";
import { kubeLeaseStore } from "../membership/leaseStore.js";
import { membershipPromMetrics } from "../membership/metrics.js";
import { createSpeakerMembership, type SpeakerMembershipSettings } from "../membership/speakerMembership.js";
import { loadNative, NativeSocketError, PacketSocket } from "../native/index.js";
import { HealthChecks, parseListenAddress, startOpsServer, type OpsServer } from "../runtime/httpServer.js";
import type { Logger } from "../runtime/logger.js";
import { SpeakerCore } from "./core.js";
import type { LiveSpeakers } from "./liveSpeakers.js";
import { createSpeakerInformers, kubeEventRecorder, kubeStatusApi, KubeSnapshotSource } from "./kube.js";
import { speakerPromMetrics } from "./metrics.js";
import { StatusSync } from "./statusSync.js";
import type { StopMode } from "../bgp/manager.js";
import { SpeakerBgp } from "./bgpKube.js";

export interface SpeakerRunOptions {
  readonly node: string;
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly lbClass?: string | undefined;
  readonly logger: Logger;
  /** Prometheus /metrics, plus /healthz and /readyz unless healthAddr is given. */
  readonly metricsAddr?: string | undefined;
  readonly healthAddr?: string | undefined;
  readonly excludedInterfaces?: readonly InterfacePattern[];
  readonly leaseDurationSeconds?: number;
  /** Liveness through membership (SWIM); default mode "auto": on when the key is mounted. */
  readonly membership?: SpeakerMembershipSettings;
  /** How often links are read from sysfs; default 1 s. */
  readonly linkPollMs?: number;
  /** Sockets; default the native addon's. */
  readonly io?: AnnouncerIO;
  /** Where links come from; default sysfs of this network namespace. */
  readonly readLinks?: () => Promise<LinkInfo[]>;
  /** BGP: where the graceful-restart marker is kept, and what SIGTERM means for the sessions. */
  readonly bgpStateDir?: string | undefined;
  readonly bgpStopMode?: StopMode;
}

export class SpeakerStartError extends Error {
  override readonly name = "SpeakerStartError";
  readonly code = "ERR_SPEAKER_START";
}

/**
 * Raw sockets need the addon and CAP_NET_RAW: find out at start, with a clear message, rather
 * than at the first announcement. Opens and closes an ARP socket on the loopback link.
 */
export function checkRawSockets(): void {
  loadNative();
  try {
    PacketSocket.open({ interface: "lo", etherType: ETHERTYPE_ARP, onFrames: () => undefined }).close();
  } catch (error) {
    // The addon refuses lo (not Ethernet) only after socket() and bind() worked: the capability is there.
    if (error instanceof Error && (error as Error & { code?: unknown }).code === "ERR_IRONLB_NOT_ETHERNET")
      return;
    if (error instanceof NativeSocketError && (error.code === "EPERM" || error.code === "EACCES")) {
      throw new SpeakerStartError(
        "the speaker needs CAP_NET_RAW to answer ARP and NDP (run as root or grant the capability)",
        { cause: error },
      );
    }
    throw error;
  }
}

/** Runs the speaker until `signal` aborts, then shuts down cleanly. */
export async function runSpeaker(options: SpeakerRunOptions, signal: AbortSignal): Promise<void> {
  const { node, namespace, logger } = options;
  if (options.io === undefined) checkRawSockets();
  const io = options.io ?? (await import("../l2/announcerNative.js")).nativeAnnouncerIO;

  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "ironlb_speaker_process_" });
  const metrics = speakerPromMetrics(registry);
  const clients = createKubeClients(options.kubeConfig);
  const listWatch = httpListWatch(options.kubeConfig, { agent: clients.agent });
  const stopInformers = new AbortController();

  // Links and the announcer.
  // Link and liveness changes arrive before the core exists only during start-up.
  const decideNow = { now: (): void => undefined };
  const links = new LinkMonitor({
    ...(options.linkPollMs === undefined ? {} : { intervalMs: options.linkPollMs }),
    ...(options.readLinks === undefined ? {} : { readLinks: options.readLinks }),
    onChange: (now) => {
      logger.info({ links: now.map((l) => `${l.name}:${l.operState}`) }, "links changed");
      decideNow.now();
    },
    onError: (error) => {
      logger.warn({ err: error }, "cannot read the node's links");
    },
  });
  await links.start();
  const announcer = new Announcer({
    io,
    metrics: announcerPromMetrics(registry),
    logger: logger.child({ component: "announcer" }),
    onPortError: () => {
      links.rescan();
    },
  });

  // Liveness through Leases.
  const heartbeat = new SpeakerLeaseHeartbeat({
    store: kubeLeaseStore(clients.coordination),
    namespace,
    node,
    durationSeconds: options.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS,
    logger,
    onRenew: (ok) => {
      if (!ok) metrics.leaseRenewFailed();
      leaseLive.recheck();
    },
  });
  const leaseLive = new LeaseLiveSpeakers({ canExpire: () => heartbeat.fresh() });
  // Membership, when on, decides for the speakers it knows (sub-second); Leases for the rest.
  const membership = await createSpeakerMembership(
    { mode: "auto", ...options.membership, node, logger, metrics: membershipPromMetrics(registry) },
    leaseLive,
  );
  const liveSpeakers: LiveSpeakers = membership ?? leaseLive;
  liveSpeakers.onChange((live) => {
    logger.info({ liveSpeakers: [...live].sort() }, "live speakers changed");
    metrics.liveSpeakers(live.size);
    decideNow.now();
  });

  // Cluster state.
  const informers = createSpeakerInformers({ client: listWatch, namespace, node, logger });
  const source = new KubeSnapshotSource({
    informers,
    liveSpeakers,
    namespace,
    lbClass: options.lbClass,
    logger,
    onConfigStale: (stale) => {
      metrics.configStale(stale);
    },
  });
  const statusSync = new StatusSync({
    api: kubeStatusApi(clients.customObjects, namespace, () => {
      const uid = informers.nodes.get(node)?.metadata?.uid;
      return uid === undefined ? undefined : { name: node, uid };
    }),
    existing: () => informers.statuses.list(),
    ready: () => informers.statuses.hasSynced(),
    logger,
  });
  const events = kubeEventRecorder({
    api: clients.events,
    node,
    service: (key) => informers.services.get(key),
    logger,
  });
  const core = new SpeakerCore({
    node,
    inputs: { snapshot: () => source.snapshot(), links: () => links.current() },
    outputs: { announcer, statuses: statusSync, events, metrics },
    excludedInterfaces: options.excludedInterfaces ?? DEFAULT_EXCLUDED_PATTERNS,
    logger,
  });
  const bgp = new SpeakerBgp({
    node,
    namespace,
    core: clients.core,
    customObjects: clients.customObjects,
    owner: () => {
      const uid = informers.nodes.get(node)?.metadata?.uid;
      return uid === undefined ? undefined : { name: node, uid };
    },
    nodeObject: () => informers.nodes.get(node),
    snapshot: () => source.snapshot(),
    registry,
    logger,
    stateDir: options.bgpStateDir,
  });
  decideNow.now = () => {
    core.changedNow();
  };
  const changed = (): void => {
    core.changed();
    bgp.changed();
  };
  for (const informer of [
    informers.services,
    informers.endpointSlices,
    informers.nodes,
    ...informers.ironlb,
    ...informers.metallb,
  ]) {
    informer.addHandlers({ onAdd: changed, onUpdate: changed, onDelete: changed });
  }
  informers.leases.addHandlers({
    onAdd: (lease) => {
      leaseLive.observe(lease);
    },
    onUpdate: (_old, lease) => {
      leaseLive.observe(lease);
    },
    onDelete: (lease) => {
      leaseLive.forget(lease);
    },
  });
  if (membership !== undefined) {
    const refreshSeeds = (): void => {
      membership.updateNodes(informers.nodes.list());
    };
    informers.nodes.addHandlers({ onAdd: refreshSeeds, onUpdate: refreshSeeds, onDelete: refreshSeeds });
    // Others declared (or suspected) this speaker dead: they may have taken its addresses with
    // announcements it never heard (a link down for less than the link monitor's poll). Say again
    // what is ours; claim defence settles any overlap while the views merge.
    membership.onRefuted(() => {
      announcer.reassertAll();
    });
  }
  const kickStatuses = (): void => {
    statusSync.kick();
  };
  informers.statuses.addHandlers({ onAdd: kickStatuses, onUpdate: kickStatuses, onDelete: kickStatuses });

  // Operations endpoints.
  const liveness = new HealthChecks();
  const readiness = new HealthChecks();
  liveness.add("ping", () => undefined);
  readiness.add("informers", () => {
    if (!source.synced()) throw new Error("informer caches not synced yet");
  });
  readiness.add("lease", () => {
    if (!heartbeat.fresh()) throw new Error("the speaker lease is not fresh");
  });
  if (membership !== undefined) {
    readiness.add("membership", () => {
      if (!membership.running()) throw new Error("membership has not started");
    });
  }
  const servers: OpsServer[] = [];
  const opsLogger = logger.child({ component: "ops" });
  if (options.metricsAddr !== undefined && options.metricsAddr !== "") {
    const sameServer = options.healthAddr === undefined || options.healthAddr === "";
    servers.push(
      await startOpsServer(parseListenAddress(options.metricsAddr), {
        metrics: registry,
        ...(sameServer ? { liveness, readiness } : {}),
        logger: opsLogger,
      }),
    );
  }
  if (options.healthAddr !== undefined && options.healthAddr !== "") {
    servers.push(
      await startOpsServer(parseListenAddress(options.healthAddr), {
        liveness,
        readiness,
        logger: opsLogger,
      }),
    );
  }

  const heartbeatStop = new AbortController();
  const heartbeatDone = heartbeat.run(heartbeatStop.signal);
  for (const informer of informers.all) informer.start(stopInformers.signal);
  logger.info({ node, namespace, lbClass: options.lbClass ?? null }, "speaker started");

  if (await waitForCacheSync(informers.all, signal)) {
    logger.info("caches synced");
    await membership?.start(informers.nodes.list(), signal);
    core.changedNow();
    bgp.changed();
  }
  if (!signal.aborted) {
    await new Promise<void>((resolve) => {
      signal.addEventListener(
        "abort",
        () => {
          resolve();
        },
        { once: true },
      );
    });
  }

  // Shutdown: stop answering first, then tell the others.
  logger.info("speaker stopping");
  core.stop();
  await bgp.stop(options.bgpStopMode ?? "restart");
  announcer.close();
  await membership?.leave();
  heartbeatStop.abort();
  await heartbeatDone;
  await heartbeat.release();
  leaseLive.stop();
  statusSync.desire([]);
  await Promise.race([Promise.all([statusSync.idle(), events.idle()]), delay(3000)]);
  statusSync.stop();
  links.stop();
  stopInformers.abort();
  await Promise.all(servers.map((s) => s.close()));
  logger.info("speaker stopped");
}

const delay = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref();
  });
