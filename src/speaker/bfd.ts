/**
 * The speaker's BFD sessions: one BfdManager per process (UDP, GTSM through the native addon),
 * with its Prometheus metrics and log lines. The BgpManager takes it and runs BFD for every
 * BGPPeer with a bfdProfile.
 */
import type { Registry } from "prom-client";
import { BfdManager, type BfdObserver } from "../bfd/manager.js";
import { bfdPromMetrics, combineBfdObservers } from "../bfd/metrics.js";
import { describeDiag } from "../bfd/packet.js";
import type { Logger } from "../runtime/logger.js";

export function bfdLogObserver(logger: Logger): BfdObserver {
  return {
    stateChanged: (peer, change) => {
      const fields = { peer, from: change.from, to: change.to, diag: describeDiag(change.diag) };
      if (change.from === "Up")
        logger.warn({ ...fields, peerAdminDown: change.peerAdminDown }, "BFD session down");
      else logger.info(fields, "BFD session state changed");
    },
    socketError: (peer, error) => {
      logger.warn({ peer, err: error }, "cannot open the BFD sockets; retrying");
    },
    ttlUnchecked: (local, multiHop) => {
      logger.warn(
        { local, multiHop },
        "the TTL of received BFD packets is not checked (the native addon is missing)",
      );
    },
  };
}

export interface SpeakerBfdOptions {
  readonly registry?: Registry;
  readonly logger?: Logger;
  readonly observer?: BfdObserver;
}

/** The process's BfdManager with metrics (when a registry is given) and logs. */
export function speakerBfd(options: SpeakerBfdOptions = {}): BfdManager {
  const ref: { manager?: BfdManager } = {};
  const observers: BfdObserver[] = [];
  if (options.registry !== undefined)
    observers.push(bfdPromMetrics(options.registry, () => ref.manager?.status() ?? []));
  if (options.logger !== undefined) observers.push(bfdLogObserver(options.logger));
  if (options.observer !== undefined) observers.push(options.observer);
  const manager = new BfdManager({ observer: combineBfdObservers(observers) });
  ref.manager = manager;
  return manager;
}
