/** Leader election for the controller: one Lease in the controller's namespace (src/k8s). */
import type { KubeConfig } from "@kubernetes/client-node";
import { createKubeClients } from "../k8s/client.js";
import {
  LeaderElector,
  kubeLeaseStore,
  leaderIdentity,
  type ElectionTimings,
} from "../k8s/leaderElection.js";
import type { Logger } from "../runtime/logger.js";
import type { LeadershipLoop } from "./controller.js";

export const CONTROLLER_LEASE_NAME = "ironlb-controller";

export interface LeaseLeadershipOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly logger: Logger;
  /** Default 15 s lease, 10 s renew deadline, 2 s retry. */
  readonly timings?: Partial<ElectionTimings>;
  readonly identity?: string;
  /** Observes leadership changes (for logs and metrics). */
  readonly onNewLeader?: (identity: string | undefined) => void;
}

/**
 * Leads while holding the `ironlb-controller` Lease. A term ends (its signal aborts, so writes
 * stop) as soon as the lease cannot be renewed by the deadline; on shutdown the lease is released
 * so a standby takes over within one retry period.
 */
export function leaseLeadership(options: LeaseLeadershipOptions): LeadershipLoop {
  return async (signal, lead) => {
    const clients = createKubeClients(options.kubeConfig);
    const identity = options.identity ?? leaderIdentity();
    const logger = options.logger.child({ lease: `${options.namespace}/${CONTROLLER_LEASE_NAME}` });
    const elector = new LeaderElector({
      store: kubeLeaseStore(clients.coordination, options.namespace, CONTROLLER_LEASE_NAME),
      identity,
      ...(options.timings !== undefined && { timings: options.timings }),
      onStartedLeading: (term) => {
        logger.info({ identity }, "became leader");
        return lead(term);
      },
      onStoppedLeading: (reason) => {
        logger.info({ identity, reason }, "stopped leading");
      },
      onNewLeader: (holder) => {
        logger.info({ leader: holder }, "leader observed");
        options.onNewLeader?.(holder);
      },
      logger,
    });
    await elector.run(signal);
  };
}
