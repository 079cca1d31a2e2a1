/**
 * BGP inside `ironlb speaker`: the node's BgpManager (TCP, TCP-MD5 from the native addon), its
 * metrics and logs, passwords from Secrets in the speaker's namespace, the node's addresses from
 * its Node object, and a debounced reconcile on the same snapshot the Layer 2 core uses. Without
 * BGPPeers for this node it opens nothing.
 */
import type { CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import type { Registry } from "prom-client";
import { join } from "node:path";
import type { AnnouncementSnapshot } from "../announce/snapshot.js";
import type { BGPSessionStateStatus, ServiceBGPStatusStatus } from "../api/schema/serviceStatus.js";
import { BgpManager, combineManagerObservers, type StopMode } from "../bgp/manager.js";
import { bgpPromMetrics } from "../bgp/metrics.js";
import { speakerBfd } from "./bfd.js";
import { fileRestartMarker, memoryRestartMarker } from "../bgp/restartMarker.js";
import { isNotFound, requestOptions } from "../k8s/client.js";
import { systemClock, type Clock, type TimerHandle } from "../runtime/clock.js";
import type { Logger } from "../runtime/logger.js";
import { BgpSpeaker, bgpLogObserver, SessionErrors, type BgpNodeStatus } from "./bgp.js";
import { nodeIdentityFromNode, type NodeLike } from "./bgpPeers.js";
import { SecretPasswordCache } from "./bgpSecrets.js";
import { bgpServiceStatusApi } from "./bgpServiceStatusApi.js";
import { bgpSessionStateApi } from "./bgpSessionStateApi.js";
import { desiredServiceStatuses, desiredSessionStates } from "./bgpStatus.js";
import type { StatusOwnerRef } from "./statusObjectApi.js";
import { StatusObjectSync } from "./statusSync.js";

export const BGP_STOP_MODES: readonly StopMode[] = ["restart", "shutdown"];

export interface SpeakerBgpOptions {
  readonly node: string;
  /** The speaker's namespace: where password Secrets are read. */
  readonly namespace: string;
  readonly core: Pick<CoreV1Api, "readNamespacedSecret">;
  /** Where BGPSessionState and ServiceBGPStatus objects are written; none: no status objects. */
  readonly customObjects?: CustomObjectsApi;
  /** This node's Node (name and uid), owner of the status objects. */
  readonly owner?: () => StatusOwnerRef | undefined;
  /** This node's Node object (from the informer), for its addresses. */
  readonly nodeObject: () => NodeLike | undefined;
  readonly snapshot: () => AnnouncementSnapshot | undefined;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Where the graceful-restart marker lives (an emptyDir survives container restarts); none: no marker. */
  readonly stateDir?: string | undefined;
  /** Delay after a change before deciding; default 100 ms. */
  readonly debounceMs?: number;
  /** Delay after a session change before the status objects follow; default 1 s. */
  readonly statusDebounceMs?: number;
  readonly clock?: Clock;
}

/** The restart marker's file name inside the state directory. */
export const RESTART_MARKER_FILE = "bgp-graceful-restart";

export class SpeakerBgp {
  private readonly speaker: BgpSpeaker;
  private readonly manager: BgpManager;
  private readonly secrets: SecretPasswordCache;
  private readonly clock: Clock;
  private timer: TimerHandle | undefined;
  private statusTimer: TimerHandle | undefined;
  private stopped = false;
  private readonly sessionStates: StatusObjectSync<BGPSessionStateStatus> | undefined;
  private readonly serviceStatuses: StatusObjectSync<ServiceBGPStatusStatus> | undefined;

  constructor(private readonly options: SpeakerBgpOptions) {
    const { logger, node } = options;
    this.clock = options.clock ?? systemClock;
    const log = logger.child({ component: "bgp" });
    const marker =
      options.stateDir === undefined
        ? memoryRestartMarker()
        : fileRestartMarker(join(options.stateDir, RESTART_MARKER_FILE), (error) => {
            log.warn({ err: error }, "cannot write the graceful-restart marker");
          });
    const ref: { manager?: BgpManager } = {};
    const errors = new SessionErrors();
    this.manager = new BgpManager({
      restartMarker: marker,
      bfd: speakerBfd({ registry: options.registry, logger: logger.child({ component: "bfd" }) }),
      observer: combineManagerObservers([
        bgpPromMetrics(options.registry, () => ref.manager?.status() ?? []),
        bgpLogObserver(log),
        errors.observer(),
        {
          forPeer: () => ({
            stateChanged: () => {
              this.statusChanged();
            },
            // A timed-out attempt leaves the state as it was, but lastError changes.
            connectFailed: () => {
              this.statusChanged();
            },
          }),
          // BGPSessionState carries the BFD state too.
          bfdStateChanged: () => {
            this.statusChanged();
          },
        },
      ]),
    });
    ref.manager = this.manager;
    if (marker.wasRunning())
      log.info("restarted after a graceful-restart session: the OPENs carry the Restart State bit");
    this.secrets = new SecretPasswordCache({
      namespace: options.namespace,
      fetch: async (name, signal) => {
        try {
          return await options.core.readNamespacedSecret(
            { name, namespace: options.namespace },
            requestOptions({ signal, timeoutMs: 10_000 }),
          );
        } catch (error) {
          if (isNotFound(error)) return undefined;
          throw error;
        }
      },
      onChange: () => {
        this.changed();
      },
      logger: log,
    });
    const api = options.customObjects;
    const owner = options.owner ?? (() => undefined);
    if (api !== undefined) {
      // Each pass lists the node's objects: no informer watches these kinds.
      const sessionStateApi = bgpSessionStateApi(api, options.namespace, node, owner);
      this.sessionStates = new StatusObjectSync({
        kind: "BGPSessionState",
        api: sessionStateApi,
        existing: (signal) => sessionStateApi.list(signal),
        logger: log,
        clock: this.clock,
      });
      const serviceStatusApi = bgpServiceStatusApi(api, options.namespace, node, owner);
      this.serviceStatuses = new StatusObjectSync({
        kind: "ServiceBGPStatus",
        api: serviceStatusApi,
        existing: (signal) => serviceStatusApi.list(signal),
        logger: log,
        clock: this.clock,
      });
    }
    this.speaker = new BgpSpeaker({
      node,
      manager: this.manager,
      identity: () => {
        const obj = options.nodeObject();
        return obj === undefined ? { name: node } : nodeIdentityFromNode(obj, node);
      },
      passwords: (namespace, name) => this.secrets.lookup(namespace, name),
      errors,
      logger: log,
    });
  }

  /** Something changed: decide again shortly (a burst of changes costs one decision). */
  changed(): void {
    if (this.stopped || this.timer !== undefined) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.reconcile();
    }, this.options.debounceMs ?? 100);
  }

  /** Decide and apply now; nothing while the snapshot is not known yet. */
  reconcile(): void {
    if (this.stopped) return;
    const snapshot = this.options.snapshot();
    if (snapshot === undefined) return;
    try {
      this.speaker.reconcile(snapshot);
      this.statusChanged();
    } catch (error) {
      // A bug in one decision must not stop later ones; the next change retries.
      this.options.logger.error({ err: error }, "BGP reconcile failed");
    }
  }

  status(): BgpNodeStatus {
    return this.speaker.status();
  }

  /** Sessions or advertisements changed: the status objects follow shortly. */
  private statusChanged(): void {
    if (this.stopped || this.statusTimer !== undefined || this.sessionStates === undefined) return;
    this.statusTimer = this.clock.setTimeout(() => {
      this.statusTimer = undefined;
      this.writeStatuses();
    }, this.options.statusDebounceMs ?? 1000);
  }

  private writeStatuses(): void {
    const plan = this.speaker.plan();
    if (this.stopped || plan === undefined) return;
    const status = this.speaker.status();
    this.sessionStates?.desire(desiredSessionStates(status));
    this.serviceStatuses?.desire(desiredServiceStatuses(plan, status));
  }

  /**
   * "restart": graceful-restart peers keep our routes while the next speaker comes up (others get
   * a Cease); "shutdown": every peer withdraws our routes at once.
   */
  async stop(mode: StopMode): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.statusTimer !== undefined) this.clock.clearTimeout(this.statusTimer);
    this.statusTimer = undefined;
    this.secrets.stop();
    await this.speaker.stop(mode, "ironlb speaker stopping");
    // This node's status objects go (bounded: the API server may be unreachable).
    const syncs = [this.sessionStates, this.serviceStatuses].filter((x) => x !== undefined);
    for (const sync of syncs) sync.desire([]);
    await Promise.race([
      Promise.all(syncs.map((sync) => sync.idle())),
      new Promise<void>((resolve) => this.clock.setTimeout(resolve, 3000)),
    ]);
    for (const sync of syncs) sync.stop();
  }
}
