/**
 * Builders for announcement snapshots: a validated configuration from raw objects (the same path
 * the speakers take), Services and nodes as literals with the defaults most cases want.
 */
import { assertValidConfig, type ConfigInput } from "../../../src/api/config.js";
import type { IronLBConfig } from "../../../src/api/configTypes.js";
import type {
  AnnouncementSnapshot,
  EndpointCounts,
  NodeSnapshot,
  ServiceSnapshot,
} from "../../../src/announce/snapshot.js";

export function obj(name: string, spec: unknown, labels?: Record<string, string>): unknown {
  return { metadata: { name, namespace: "ironlb-system", ...(labels ? { labels } : {}) }, spec };
}

/** LAN pool for Layer 2, BGP pool for BGP (lab prefixes); cases add advertisements and peers. */
export const LAN_POOL = obj("lan", {
  addresses: ["192.0.2.200-192.0.2.250", "2001:db8:1::200-2001:db8:1::2ff"],
});
export const BGP_POOL = obj("bgp", { addresses: ["198.51.100.0/24", "2001:db8:100::/120"] }, { zone: "wan" });

export function config(input: ConfigInput): IronLBConfig {
  return assertValidConfig({ ipAddressPools: [LAN_POOL, BGP_POOL], ...input });
}

export function node(
  name: string,
  labels: Record<string, string> = {},
  networkUnavailable = false,
): NodeSnapshot {
  return { name, labels: { "kubernetes.io/hostname": name, ...labels }, networkUnavailable };
}

export interface ServiceOptions {
  ips: string[];
  etp?: "Cluster" | "Local";
  /** node → [ready, serving]; serving defaults to ready. */
  endpoints?: Record<string, [number, number?]>;
  withoutNode?: [number, number?];
  pool?: string;
  type?: string;
  ours?: boolean;
  labels?: Record<string, string>;
}

const counts = ([ready, serving]: [number, number?]): EndpointCounts => ({
  ready,
  serving: serving ?? ready,
});

/** A Service "default/NAME"; with no endpoints given it has one ready endpoint without a node. */
export function service(name: string, o: ServiceOptions): ServiceSnapshot {
  const byNode = new Map(Object.entries(o.endpoints ?? {}).map(([n, c]) => [n, counts(c)]));
  const withoutNode =
    o.withoutNode !== undefined
      ? counts(o.withoutNode)
      : o.endpoints === undefined
        ? { ready: 1, serving: 1 }
        : { ready: 0, serving: 0 };
  return {
    key: `default/${name}`,
    namespace: "default",
    name,
    labels: o.labels ?? {},
    type: o.type ?? "LoadBalancer",
    ours: o.ours ?? true,
    ips: o.ips,
    ...(o.pool === undefined ? {} : { allocatedFromPool: o.pool }),
    externalTrafficPolicy: o.etp ?? "Cluster",
    endpoints: { byNode, withoutNode },
  };
}

export function snapshot(
  cfg: IronLBConfig,
  services: ServiceSnapshot[],
  nodes: NodeSnapshot[],
  live: string[] = nodes.map((n) => n.name),
): AnnouncementSnapshot {
  return { config: cfg, services, nodes, liveSpeakers: new Set(live) };
}

export const THREE_NODES = [
  node("node-a", { rack: "r1" }),
  node("node-b", { rack: "r1" }),
  node("node-c", { rack: "r2" }),
];

/** A permutation of `items` chosen by `seed` (Fisher–Yates with a small LCG), for order-independence checks. */
export function permute<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}

/** The same snapshot with every list, map and set in another order. */
export function shuffled(snap: AnnouncementSnapshot, seed: number): AnnouncementSnapshot {
  return {
    config: snap.config,
    services: permute(snap.services, seed).map((s) => ({
      ...s,
      endpoints: {
        byNode: new Map(permute([...s.endpoints.byNode], seed + 1)),
        withoutNode: s.endpoints.withoutNode,
      },
    })),
    nodes: permute(snap.nodes, seed + 2),
    liveSpeakers: new Set(permute([...snap.liveSpeakers], seed + 3)),
  };
}
