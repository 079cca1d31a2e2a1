/**
 * BGP status objects of one node (pure): a BGPSessionState per session (peer, FSM state,
 * prefixes the peer has from us) and a ServiceBGPStatus per Service the node advertises to at
 * least one Established peer (which peers). Both live in the IronLB namespace, labelled with the
 * node so each speaker lists only its own; the writes that turn the existing objects into the
 * desired ones are planned here too.
 */
import type { BGPNodePlan } from "../announce/bgp.js";
import type { BGPSessionStateStatus, ServiceBGPStatusStatus } from "../api/schema/serviceStatus.js";
import type { BgpNodeStatus } from "./bgp.js";
import {
  labelValueFor,
  statusName,
  STATUS_NODE_LABEL,
  STATUS_SERVICE_NAME_LABEL,
  STATUS_SERVICE_NAMESPACE_LABEL,
} from "./l2Status.js";

export const STATUS_PEER_LABEL = "ironlb.io/peer";
/** A BGPSessionState lists at most this many prefixes (advertisedPrefixes has the count). */
export const MAX_LISTED_PREFIXES = 100;

const MANAGED_BY = { "app.kubernetes.io/managed-by": "ironlb-speaker" } as const;

export interface DesiredObject<S> {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly status: S;
}

/** An object as read back from the API server. */
export interface ExistingObject {
  readonly metadata?:
    | {
        readonly name?: string | undefined;
        readonly resourceVersion?: string | undefined;
        readonly deletionTimestamp?: unknown;
      }
    | undefined;
  readonly status?: unknown;
}

export interface ObjectWrites<S> {
  readonly create: readonly DesiredObject<S>[];
  readonly update: readonly { readonly desired: DesiredObject<S>; readonly resourceVersion: string }[];
  readonly delete: readonly string[];
}

/** `<node>.<peer>`: both are DNS subdomains, so is the name (hashed when too long). */
export function sessionStateName(node: string, peer: string): string {
  return statusName("", peer, node).replace(/^\./, "");
}

export function desiredSessionStates(status: BgpNodeStatus): DesiredObject<BGPSessionStateStatus>[] {
  return status.sessions.map((s) => ({
    name: sessionStateName(status.node, s.name),
    labels: {
      [STATUS_NODE_LABEL]: labelValueFor(status.node),
      [STATUS_PEER_LABEL]: labelValueFor(s.name),
      ...MANAGED_BY,
    },
    status: {
      node: status.node,
      peer: s.address,
      peerName: s.name,
      bgpStatus: s.state,
      // BFD is not implemented yet.
      bfdStatus: "N/A",
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
        labels: {
          [STATUS_NODE_LABEL]: labelValueFor(status.node),
          [STATUS_SERVICE_NAME_LABEL]: labelValueFor(name),
          [STATUS_SERVICE_NAMESPACE_LABEL]: labelValueFor(namespace),
          ...MANAGED_BY,
        },
        status: {
          node: status.node,
          serviceName: name,
          serviceNamespace: namespace,
          peers: [...peers].sort(),
        },
      };
    });
}

/** JSON with object keys sorted, so equal statuses compare equal whatever order the API returns. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** The writes that make `existing` (this node's objects of one kind) equal to `desired`. */
export function planObjectWrites<S>(
  existing: readonly ExistingObject[],
  desired: readonly DesiredObject<S>[],
): ObjectWrites<S> {
  const have = new Map<string, ExistingObject>();
  for (const obj of existing) {
    const name = obj.metadata?.name;
    if (name !== undefined && obj.metadata?.deletionTimestamp === undefined) have.set(name, obj);
  }
  const wanted = new Set(desired.map((d) => d.name));
  const create: DesiredObject<S>[] = [];
  const update: { desired: DesiredObject<S>; resourceVersion: string }[] = [];
  for (const d of desired) {
    const current = have.get(d.name);
    if (current === undefined) create.push(d);
    else if (canonical(current.status ?? {}) !== canonical(d.status)) {
      update.push({ desired: d, resourceVersion: current.metadata?.resourceVersion ?? "" });
    }
  }
  const remove = [...have.keys()].filter((name) => !wanted.has(name)).sort();
  return { create, update, delete: remove };
}
