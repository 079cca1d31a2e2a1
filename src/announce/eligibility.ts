/**
 * The rules both speakers share: which Services and addresses are considered, which nodes pass
 * each filter, and how a Service's endpoints narrow the nodes down.
 */
import type { PoolSpec } from "../ipam/pool.js";
import { formatIP, tryParseIP, type IPAddr } from "../net/ip.js";
import type { PoolIndex } from "./poolIndex.js";
import {
  whyNoEligibleNode,
  type FunnelStage,
  type IPNotAnnouncedReason,
  type ServiceSkipReason,
} from "./reasons.js";
import type { NodeSnapshot, ServiceSnapshot } from "./snapshot.js";

// ---------------------------------------------------------------------------------------------
// Services and their addresses

export interface ServiceAddress {
  /** Canonical text. */
  readonly ip: string;
  readonly addr: IPAddr;
  readonly pool: PoolSpec;
}

export type AddressResolution =
  | { readonly ok: true; readonly address: ServiceAddress }
  | { readonly ok: false; readonly ip: string; readonly reason: IPNotAnnouncedReason };

export type ServiceResolution =
  | { readonly considered: false; readonly reason: ServiceSkipReason }
  | { readonly considered: true; readonly addresses: readonly AddressResolution[] };

/** Whether IronLB announces this Service at all, and the pool of each of its addresses. */
export function resolveService(service: ServiceSnapshot, pools: PoolIndex): ServiceResolution {
  if (service.type !== "LoadBalancer") {
    return { considered: false, reason: { code: "notLoadBalancer", type: service.type } };
  }
  if (!service.ours) return { considered: false, reason: { code: "otherClass" } };
  const addresses: AddressResolution[] = [];
  const seen = new Set<string>();
  for (const text of service.ips) {
    const addr = tryParseIP(text);
    if (addr === undefined) {
      if (!seen.has(text)) addresses.push({ ok: false, ip: text, reason: { code: "invalidIP" } });
      seen.add(text);
      continue;
    }
    const ip = formatIP(addr);
    if (seen.has(ip)) continue;
    seen.add(ip);
    const pool = pools.poolOf(addr, service.allocatedFromPool);
    if (pool === undefined) {
      const annotated = service.allocatedFromPool;
      addresses.push({
        ok: false,
        ip,
        reason: { code: "ipNotInPool", ...(annotated === undefined ? {} : { allocatedFromPool: annotated }) },
      });
      continue;
    }
    addresses.push({ ok: true, address: { ip, addr, pool } });
  }
  if (addresses.length === 0) return { considered: false, reason: { code: "noIPs" } };
  return { considered: true, addresses };
}

/** The key rendezvous hashing uses for a Service: its first address, canonical. */
export function serviceHashKey(service: ServiceSnapshot): string | undefined {
  const first = service.ips[0];
  if (first === undefined) return undefined;
  const addr = tryParseIP(first);
  return addr === undefined ? first : formatIP(addr);
}

// ---------------------------------------------------------------------------------------------
// Node filters

export interface StagedNodes {
  /** Nodes left after each filter, in filter order; each set is a subset of the one before. */
  readonly steps: readonly { readonly stage: FunnelStage; readonly nodes: ReadonlySet<string> }[];
}

export interface NodeFilter {
  readonly stage: FunnelStage;
  readonly keep: (node: NodeSnapshot) => boolean;
}

export function stageNodes(nodes: readonly NodeSnapshot[], filters: readonly NodeFilter[]): StagedNodes {
  let current: readonly NodeSnapshot[] = nodes;
  const steps = filters.map((f) => {
    current = current.filter((n) => f.keep(n));
    return { stage: f.stage, nodes: new Set(current.map((n) => n.name)) };
  });
  return { steps };
}

/** Nodes that pass every filter of at least one of `staged`, stage by stage. */
export function unionStages(staged: readonly StagedNodes[]): StagedNodes {
  const first = staged[0];
  if (first === undefined) return { steps: [] };
  const steps = first.steps.map((step, i) => {
    const nodes = new Set<string>();
    for (const s of staged) for (const n of s.steps[i]?.nodes ?? []) nodes.add(n);
    return { stage: step.stage, nodes };
  });
  return { steps };
}

export function finalNodes(staged: StagedNodes): ReadonlySet<string> {
  return staged.steps.at(-1)?.nodes ?? new Set();
}

// ---------------------------------------------------------------------------------------------
// Endpoints

/** Some endpoint anywhere (also on no node) can take traffic: ready, or serving while terminating. */
export function hasUsableEndpoint(service: ServiceSnapshot): boolean {
  const w = service.endpoints.withoutNode;
  if (w.ready > 0 || w.serving > 0) return true;
  for (const c of service.endpoints.byNode.values()) if (c.ready > 0 || c.serving > 0) return true;
  return false;
}

/** Nodes holding a ready or serving endpoint of the Service, sorted. */
export function endpointNodes(service: ServiceSnapshot): string[] {
  const out: string[] = [];
  for (const [node, c] of service.endpoints.byNode) if (c.ready > 0 || c.serving > 0) out.push(node);
  return out.sort();
}

/**
 * Of `candidates`, the nodes that may announce the Service, sorted by name.
 * Cluster: all of them, while some endpoint anywhere is usable (kube-proxy forwards from any node).
 * Local: those with a ready local endpoint; when no candidate has one, those with a serving
 * (terminating but still serving) one, the fallback kube-proxy itself applies to Local traffic,
 * so connections drain instead of being black-holed during a rollout.
 */
export function nodesWithEndpoints(
  service: ServiceSnapshot,
  candidates: ReadonlySet<string>,
): readonly string[] {
  if (service.externalTrafficPolicy === "Cluster") {
    // Shared between Services: the list is never mutated.
    return hasUsableEndpoint(service) ? sortedOnce(candidates) : [];
  }
  const ready: string[] = [];
  const serving: string[] = [];
  for (const [node, c] of service.endpoints.byNode) {
    if (!candidates.has(node)) continue;
    if (c.ready > 0) ready.push(node);
    else if (c.serving > 0) serving.push(node);
  }
  return (ready.length > 0 ? ready : serving).sort();
}

const sortedSets = new WeakMap<ReadonlySet<string>, readonly string[]>();

/** The members of a (never mutated) candidate set in name order, sorted once per set. */
function sortedOnce(set: ReadonlySet<string>): readonly string[] {
  let sorted = sortedSets.get(set);
  if (sorted === undefined) sortedSets.set(set, (sorted = [...set].sort()));
  return sorted;
}

/** The noEligibleNode reason for an address whose filters (then endpoints) left no node. */
export function noEligibleNodeReason(
  service: ServiceSnapshot,
  pool: string,
  advertisements: readonly string[],
  nodeCount: number,
  staged: StagedNodes,
  eligible: readonly string[],
): IPNotAnnouncedReason {
  const funnel = [
    ...staged.steps.map((s) => ({ stage: s.stage, remaining: s.nodes.size })),
    { stage: "endpoints" as const, remaining: eligible.length },
  ];
  return {
    code: "noEligibleNode",
    why: whyNoEligibleNode(nodeCount, funnel),
    pool,
    advertisements: [...advertisements].sort(),
    nodes: nodeCount,
    funnel,
    endpointNodes: endpointNodes(service),
  };
}

export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** IPv4 before IPv6, then by numeric value. */
export function compareAddresses(a: IPAddr, b: IPAddr): number {
  if (a.family !== b.family) return a.family === "IPv4" ? -1 : 1;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/**
 * Whether `node` is among nodesWithEndpoints(service, candidates), without listing them all: the
 * cheap test a speaker uses for its own node.
 */
export function nodeHasEndpoints(
  service: ServiceSnapshot,
  candidates: ReadonlySet<string>,
  node: string,
): boolean {
  if (!candidates.has(node)) return false;
  if (service.externalTrafficPolicy === "Cluster") return hasUsableEndpoint(service);
  const mine = service.endpoints.byNode.get(node);
  if (mine === undefined) return false;
  if (mine.ready > 0) return true;
  if (mine.serving === 0) return false;
  for (const [other, c] of service.endpoints.byNode) if (c.ready > 0 && candidates.has(other)) return false;
  return true;
}
