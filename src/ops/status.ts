/**
 * The `ironlb status` report: pools with their address counts per family, every LoadBalancer
 * Service with its addresses, pool, sharing key, who announces it and its state, and every node's
 * BGP sessions (peer, state, prefixes advertised, BFD). Built from the listed objects only (no
 * per-Service API call), so it stays fast on large clusters.
 */
import { readAnnotation } from "../controller/annotations.js";
import type { ConditionObject, CustomObject, ServiceObject } from "../controller/objects.js";
import { ingressIPs, IP_ALLOCATED_CONDITION } from "../controller/serviceState.js";
import type { PoolStats } from "../ipam/allocator.js";
import { addressVerdicts } from "./announcement.js";
import { bfdCell, bgpSessionRows, peerLabel, type BgpSessionRow } from "./bgpSessions.js";
import type { ClusterModel, ClusterObjects } from "./cluster.js";
import { formatTable } from "./table.js";

/** Decimal strings: IPv6 pools exceed what a JSON number holds exactly. */
export interface FamilyCounts {
  readonly total: string;
  readonly assigned: string;
  readonly available: string;
}

export interface PoolRow {
  readonly name: string;
  /** Where the pool is defined: an IronLB IPAddressPool or a MetalLB one (converted). */
  readonly source: "ironlb" | "metallb";
  /** "status": IPAddressPool.status as the controller wrote it; "computed": from Service status. */
  readonly counts: "status" | "computed";
  readonly ipv4: FamilyCounts | undefined;
  readonly ipv6: FamilyCounts | undefined;
}

export type ServiceState = "allocated" | "pending" | "not-announced" | "other-class";

export interface BGPAnnouncer {
  readonly node: string;
  readonly peers: readonly string[];
}

export interface ServiceRow {
  readonly namespace: string;
  readonly name: string;
  readonly ips: readonly string[];
  readonly pool: string | undefined;
  readonly sharingKey: string | undefined;
  /** Nodes with a ServiceL2Status for the Service (normally one). */
  readonly l2Nodes: readonly string[];
  /** Nodes with a ServiceBGPStatus for the Service and the peers each announces to. */
  readonly bgp: readonly BGPAnnouncer[];
  readonly state: ServiceState;
  /** Why the Service is pending or not announced (or whose class it has). */
  readonly reason: string | undefined;
}

export interface StatusReport {
  /** Undefined when the configuration is valid; else its first errors, as text. */
  readonly configErrors: readonly string[];
  readonly pools: readonly PoolRow[];
  readonly services: readonly ServiceRow[];
  /** Every node's BGP sessions, from the BGPSessionState objects the speakers write. */
  readonly bgpSessions: readonly BgpSessionRow[];
}

const FIELDS = ["assignedIPv4", "assignedIPv6", "availableIPv4", "availableIPv6"] as const;

/** IPAddressPool.status counts when all four are present, else undefined. */
export function statusCounts(status: unknown): PoolStats | undefined {
  if (typeof status !== "object" || status === null) return undefined;
  const record = status as Record<string, unknown>;
  const out: Partial<Record<(typeof FIELDS)[number], bigint>> = {};
  for (const f of FIELDS) {
    const v = record[f];
    if (typeof v === "number" && Number.isInteger(v) && v >= 0) out[f] = BigInt(v);
    else if (typeof v === "string" && /^\d+$/.test(v)) out[f] = BigInt(v);
    else return undefined;
  }
  return out as PoolStats;
}

function family(assigned: bigint, available: bigint): FamilyCounts | undefined {
  if (assigned + available === 0n) return undefined;
  return {
    total: (assigned + available).toString(),
    assigned: assigned.toString(),
    available: available.toString(),
  };
}

function poolRows(objects: ClusterObjects, model: ClusterModel): PoolRow[] {
  const ironlbPools = new Map<string, CustomObject>();
  for (const o of objects.ironlbConfig) {
    if (o.kind === "IPAddressPool" && o.metadata?.name !== undefined) ironlbPools.set(o.metadata.name, o);
  }
  const rows: PoolRow[] = [];
  for (const name of model.allocator.poolNames().sort()) {
    const object = ironlbPools.get(name);
    const fromStatus = object === undefined ? undefined : statusCounts(object.status);
    const stats = fromStatus ?? model.allocator.poolStats(name);
    if (stats === undefined) continue;
    rows.push({
      name,
      source: object === undefined ? "metallb" : "ironlb",
      counts: fromStatus === undefined ? "computed" : "status",
      ipv4: family(stats.assignedIPv4, stats.availableIPv4),
      ipv6: family(stats.assignedIPv6, stats.availableIPv6),
    });
  }
  return rows;
}

interface StatusFields {
  readonly node?: string;
  readonly serviceName?: string;
  readonly serviceNamespace?: string;
  readonly peers?: readonly string[];
}

function byService(list: readonly CustomObject[]): Map<string, StatusFields[]> {
  const out = new Map<string, StatusFields[]>();
  for (const o of list) {
    const s = (o.status ?? {}) as StatusFields;
    if (s.serviceName === undefined || s.serviceNamespace === undefined) continue;
    const key = `${s.serviceNamespace}/${s.serviceName}`;
    let entries = out.get(key);
    if (entries === undefined) out.set(key, (entries = []));
    entries.push(s);
  }
  return out;
}

/** The IronLB condition on a Service, if the controller wrote one. */
export function allocationCondition(svc: ServiceObject): ConditionObject | undefined {
  return svc.status?.conditions?.find((c) => c.type === IP_ALLOCATED_CONDITION);
}

function pendingReason(svc: ServiceObject): string {
  const condition = allocationCondition(svc);
  if (condition === undefined || condition.status === "True") {
    return "no address yet and no ironlb.io/IPAllocated condition: the controller has not handled it";
  }
  return `${condition.reason}: ${condition.message}`;
}

export function buildStatusReport(objects: ClusterObjects, model: ClusterModel): StatusReport {
  const l2 = byService(objects.l2Statuses);
  const bgp = byService(objects.bgpStatuses);
  const services: ServiceRow[] = [];
  const keys = [...model.services.keys()].sort();
  for (const key of keys) {
    const svc = model.services.get(key) as ServiceObject;
    const intent = model.intents.get(key);
    const ips = ingressIPs(svc);
    const annotations = svc.metadata?.annotations;
    const pool =
      readAnnotation(annotations, "ip-allocated-from-pool")?.value ?? model.allocator.assignmentOf(key)?.pool;
    let state: ServiceState;
    let reason: string | undefined;
    if (intent?.ours !== true) {
      state = "other-class";
      const cls = svc.spec?.loadBalancerClass;
      reason = cls === undefined || cls === "" ? "no loadBalancerClass" : `loadBalancerClass ${cls}`;
    } else if (ips.length === 0) {
      state = "pending";
      reason = pendingReason(svc);
    } else {
      const verdicts =
        model.layer2 === undefined || model.bgp === undefined
          ? undefined
          : addressVerdicts(key, model.layer2, model.bgp);
      const missed = verdicts?.find((v) => !v.announced);
      if (missed?.announced === false) {
        state = "not-announced";
        reason = missed.message;
      } else state = "allocated";
    }
    services.push({
      namespace: svc.metadata?.namespace ?? "",
      name: svc.metadata?.name ?? "",
      ips,
      pool,
      sharingKey: readAnnotation(annotations, "allow-shared-ip")?.value,
      l2Nodes: (l2.get(key) ?? [])
        .map((s) => s.node ?? "")
        .filter((n) => n !== "")
        .sort(),
      bgp: (bgp.get(key) ?? [])
        .map((s) => ({ node: s.node ?? "", peers: [...(s.peers ?? [])].sort() }))
        .sort((a, b) => (a.node < b.node ? -1 : 1)),
      state,
      reason,
    });
  }
  const configErrors = model.validation.ok ? [] : model.validation.errors.map((e) => e.toString());
  return {
    configErrors,
    pools: poolRows(objects, model),
    services,
    bgpSessions: bgpSessionRows(objects.bgpSessions),
  };
}

const countCell = (c: FamilyCounts | undefined): string =>
  c === undefined ? "-" : `${c.assigned}/${c.total} (${c.available} free)`;

export function renderStatusTable(report: StatusReport): string {
  let out = "";
  if (report.configErrors.length > 0) {
    out += `The IronLB configuration is invalid (run ironlb doctor):\n${report.configErrors
      .map((e) => `  ${e}\n`)
      .join("")}\n`;
  }
  out += "POOLS\n";
  out += formatTable(
    ["NAME", "SOURCE", "IPV4 ASSIGNED/TOTAL", "IPV6 ASSIGNED/TOTAL", "COUNTS"],
    report.pools.map((p) => [p.name, p.source, countCell(p.ipv4), countCell(p.ipv6), p.counts]),
  );
  out += "\nSERVICES\n";
  out += formatTable(
    ["NAMESPACE/NAME", "IPS", "POOL", "SHARING KEY", "ANNOUNCED BY", "STATE"],
    report.services.map((s) => {
      const by = [
        ...s.l2Nodes.map((n) => `l2:${n}`),
        ...s.bgp.map((b) => `bgp:${b.node}${b.peers.length > 0 ? `(${b.peers.join(",")})` : ""}`),
      ];
      return [
        `${s.namespace}/${s.name}`,
        s.ips.length === 0 ? "<pending>" : s.ips.join(","),
        s.pool ?? "-",
        s.sharingKey ?? "-",
        by.length === 0 ? "-" : by.join(" "),
        s.reason === undefined ? s.state : `${s.state} (${s.reason})`,
      ];
    }),
  );
  // Layer 2 only clusters have no sessions: no empty table.
  if (report.bgpSessions.length > 0) {
    out += "\nBGP SESSIONS\n";
    out += formatTable(
      ["NODE", "PEER", "STATE", "PREFIXES", "BFD"],
      report.bgpSessions.map((b) => [
        b.node,
        peerLabel(b),
        b.state,
        String(b.advertisedPrefixes),
        bfdCell(b),
      ]),
    );
  }
  return out;
}
