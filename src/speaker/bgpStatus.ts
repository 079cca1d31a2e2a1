/**
 * BGP status objects of one node (pure): a BGPSessionState per session (peer, FSM state, BFD
 * state and profile, its last error, since when it has been up or down, prefixes the peer has
 * from us) and a ServiceBGPStatus per Service the node advertises to at least one Established peer (which peers). Both live in the IronLB namespace, labelled with the
 * node so each speaker lists only its own (statusObjects.ts).
 */
import type { BGPNodePlan } from "../announce/bgp.js";
import type { BGPSessionStateStatus, ServiceBGPStatusStatus } from "../api/schema/serviceStatus.js";
import type { BgpNodeStatus, BgpSessionView } from "./bgp.js";
import {
  labelValueFor,
  MANAGED_BY_SPEAKER,
  serviceStatusLabels,
  statusName,
  STATUS_NODE_LABEL,
  type DesiredObject,
} from "./statusObjects.js";

export const STATUS_PEER_LABEL = "ironlb.io/peer";
/** A BGPSessionState lists at most this many prefixes (advertisedPrefixes has the count). */
export const MAX_LISTED_PREFIXES = 100;

/** `<node>.<peer>`: both are DNS subdomains, so is the name (hashed when too long). */
export function sessionStateName(node: string, peer: string): string {
  return statusName("", peer, node).replace(/^\./, "");
}

/** The session's recorded last error, else why it last left Established. */
function lastErrorOf(s: BgpSessionView): { lastError?: string } {
  if (s.lastError !== undefined) return { lastError: s.lastError };
  return s.lastDown === undefined ? {} : { lastError: `${s.lastDown.kind}: ${s.lastDown.detail}` };
}

export function desiredSessionStates(status: BgpNodeStatus): DesiredObject<BGPSessionStateStatus>[] {
  return status.sessions.map((s) => ({
    name: sessionStateName(status.node, s.name),
    labels: {
      [STATUS_NODE_LABEL]: labelValueFor(status.node),
      [STATUS_PEER_LABEL]: labelValueFor(s.name),
      ...MANAGED_BY_SPEAKER,
    },
    status: {
      node: status.node,
      peer: s.address,
      peerName: s.name,
      bgpStatus: s.state,
      // "N/A" as MetalLB writes it: no BFD session runs for this peer.
      bfdStatus: s.bfdState ?? "N/A",
      ...(s.bfdProfile === undefined ? {} : { bfdProfile: s.bfdProfile }),
      ...lastErrorOf(s),
      stateSince: new Date(s.phaseSinceMs).toISOString(),
      advertisedPrefixes: s.advertisedPrefixes,
      prefixes: s.prefixes.slice(0, MAX_LISTED_PREFIXES),
    },
  }));
}

/** Services this node advertises to Established peers, with those peers' names (sorted). */
export function desiredServiceStatuses(
  plan: BGPNodePlan,
  status: BgpNodeStatus,
): DesiredObject<ServiceBGPStatusStatus>[] {
  const established = new Set(status.sessions.filter((s) => s.state === "Established").map((s) => s.name));
  const peersByService = new Map<string, Set<string>>();
  for (const p of plan.peers) {
    if (!established.has(p.peer)) continue;
    for (const ad of p.advertisements) {
      for (const key of ad.services) {
        let peers = peersByService.get(key);
        if (peers === undefined) peersByService.set(key, (peers = new Set()));
        peers.add(p.peer);
      }
    }
  }
  return [...peersByService]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, peers]) => {
      const slash = key.indexOf("/");
      const namespace = key.slice(0, slash);
      const name = key.slice(slash + 1);
      return {
        name: statusName(namespace, name, status.node),
        labels: serviceStatusLabels(status.node, namespace, name),
        status: {
          node: status.node,
          serviceName: name,
          serviceNamespace: namespace,
          peers: [...peers].sort(),
        },
      };
    });
}
