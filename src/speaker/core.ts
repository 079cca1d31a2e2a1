/**
 * The speaker's reconcile loop, free of Kubernetes and sockets: on any change, take the current
 * snapshot, run the pure Layer 2 decision, turn this node's share into per-link announcements
 * and apply them to the announcer; then hand the desired status objects to the status writer,
 * emit `nodeAssigned` for Services this node starts announcing, and update the metrics.
 *
 * Changes of cluster objects are debounced a little (a burst of informer events costs one
 * decision); a change of the live speakers or of the links is acted on at once, since that is
 * a failover in progress.
 */
import { decideLayer2 } from "../announce/layer2.js";
import type { AnnouncementSnapshot } from "../announce/snapshot.js";
import type { InterfaceAnnouncements } from "../l2/announcerPlan.js";
import { DEFAULT_EXCLUDED_PATTERNS, type InterfacePattern, type LinkInfo } from "../l2/interfaces.js";
import { systemClock, type Clock, type TimerHandle } from "../runtime/clock.js";
import type { Logger } from "../runtime/logger.js";
import { desiredStatuses, type DesiredL2Status } from "./l2Status.js";
import { planNode, type AnnouncedService, type NodePlan } from "./nodePlan.js";

export interface SpeakerCoreInputs {
  /** The state to decide on; undefined while it is not known yet (caches syncing, no valid configuration). */
  snapshot(): AnnouncementSnapshot | undefined;
  /** This node's links now. */
  links(): readonly LinkInfo[];
}

export interface SpeakerCoreOutputs {
  readonly announcer: { apply(desired: readonly InterfaceAnnouncements[]): unknown };
  /** Level-triggered: the writer makes the cluster match the latest desired list, retrying on its own. */
  readonly statuses: { desire(statuses: readonly DesiredL2Status[]): void };
  readonly events: { nodeAssigned(service: AnnouncedService): void };
  readonly metrics?: { announced(node: string, services: readonly AnnouncedService[]): void };
}

export interface SpeakerCoreOptions {
  readonly node: string;
  readonly inputs: SpeakerCoreInputs;
  readonly outputs: SpeakerCoreOutputs;
  readonly excludedInterfaces?: readonly InterfacePattern[];
  /** Delay after a cluster change before deciding; default 100 ms. */
  readonly debounceMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export class SpeakerCore {
  private timer: TimerHandle | undefined;
  private timerDueAt: number | undefined;
  private announcedKeys = new Set<string>();
  private lastPlan: NodePlan | undefined;
  private lastWithoutLink = "";
  private stopped = false;
  private readonly clock: Clock;
  private readonly debounceMs: number;

  constructor(private readonly options: SpeakerCoreOptions) {
    this.clock = options.clock ?? systemClock;
    this.debounceMs = options.debounceMs ?? 100;
  }

  /** Something in the cluster changed: decide again shortly. */
  changed(): void {
    this.schedule(this.debounceMs);
  }

  /** Live speakers or links changed: decide again at once (on the next tick, outside the caller's stack). */
  changedNow(): void {
    this.schedule(0);
  }

  /** The plan last applied. */
  plan(): NodePlan | undefined {
    return this.lastPlan;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Decide and apply now. Returns the plan, or undefined when there is nothing to decide on yet. */
  reconcile(): NodePlan | undefined {
    if (this.stopped) return undefined;
    const snapshot = this.options.inputs.snapshot();
    if (snapshot === undefined) return undefined;
    const { node, outputs, logger } = this.options;
    const decision = decideLayer2(snapshot);
    const plan = planNode(
      decision,
      node,
      this.options.inputs.links(),
      this.options.excludedInterfaces ?? DEFAULT_EXCLUDED_PATTERNS,
    );
    outputs.announcer.apply(plan.interfaces);
    outputs.statuses.desire(desiredStatuses(plan.services, node));

    const keys = new Set(plan.services.map((s) => s.key));
    for (const service of plan.services) {
      if (!this.announcedKeys.has(service.key)) {
        logger?.info(
          { service: service.key, ips: service.ips, interfaces: service.interfaces },
          "this node announces the service",
        );
        outputs.events.nodeAssigned(service);
      }
    }
    for (const key of this.announcedKeys) {
      if (!keys.has(key)) logger?.info({ service: key }, "this node no longer announces the service");
    }
    this.announcedKeys = keys;
    outputs.metrics?.announced(node, plan.services);

    const withoutLink = JSON.stringify(plan.withoutLink);
    if (withoutLink !== this.lastWithoutLink && plan.withoutLink.length > 0) {
      logger?.warn(
        { addresses: plan.withoutLink },
        "this node should announce addresses but none of the interfaces they may use works",
      );
    }
    this.lastWithoutLink = withoutLink;
    this.lastPlan = plan;
    return plan;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    const dueAt = this.clock.now() + delayMs;
    // A pending run that comes sooner already covers this change.
    if (this.timer !== undefined && this.timerDueAt !== undefined && this.timerDueAt <= dueAt) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerDueAt = dueAt;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerDueAt = undefined;
      try {
        this.reconcile();
      } catch (error) {
        // A bug in one decision must not stop later ones; the next change retries.
        this.options.logger?.error({ err: error }, "speaker reconcile failed");
      }
    }, delayMs);
  }
}
