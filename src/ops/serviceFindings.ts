/**
 * Why a Service is pending or not announced. Pending: the allocator (loaded with every existing
 * assignment) dry-runs the Service's request and its typed reason names the trap; the condition
 * the controller wrote is cross-checked. Not announced: the Layer 2/BGP decisions name the filter
 * that left no node, and the nodes' labels, conditions and speaker Leases are the evidence.
 */
import { EXCLUDE_FROM_LB_LABEL } from "../announce/snapshot.js";
import type { ServiceObject } from "../controller/objects.js";
import { ingressIPs } from "../controller/serviceState.js";
import type { AllocationFailure } from "../ipam/reasons.js";
import { addressVerdicts, type AddressVerdict } from "./announcement.js";
import type { ClusterModel, ClusterObjects } from "./cluster.js";
import type { Finding } from "./findings.js";
import { allocationCondition } from "./status.js";

interface Trap {
  readonly code: string;
  readonly title: string;
  readonly fix: string;
}

/** The trap an allocation failure is, in the user's words. */
export function allocationTrap(reason: AllocationFailure): Trap {
  switch (reason.code) {
    case "NoPoolMatches":
      return {
        code: "NoPoolMatches",
        title: "no IPAddressPool may serve the Service",
        fix: `create an IPAddressPool with autoAssign: true (or a serviceAllocation naming namespace "${reason.namespace}"), or annotate the Service with ironlb.io/address-pool`,
      };
    case "PoolExhausted":
      return {
        code: "PoolExhausted",
        title: `pool exhausted: ${reason.pools.join(", ")}`,
        fix: "add addresses to the pool, delete unused LoadBalancer Services, or let Services share addresses (ironlb.io/allow-shared-ip)",
      };
    case "RequestedIPNotInAnyPool":
    case "RequestedIPAvoided":
    case "RequestedIPNotInRequestedPool":
    case "RequestedIPsInDifferentPools":
      return {
        code: "RequestedIPOutsidePools",
        title: "the requested address lies outside the pools the Service may use",
        fix: "request an address inside a pool (ironlb.io/loadBalancerIPs), or add it to an IPAddressPool",
      };
    case "RequestedIPInUse":
      if (reason.conflict === "port") {
        return {
          code: "SharingConflict",
          title: `sharing conflict: ${reason.ip} is used by Service ${reason.by} on port ${reason.port ?? "?"}`,
          fix: `use a different port, or a different address, than Service ${reason.by}`,
        };
      }
      if (reason.conflict === "backend") {
        return {
          code: "SharingConflict",
          title: `sharing conflict: ${reason.ip} is held by Service ${reason.by} with other backends (externalTrafficPolicy Local needs the same selector)`,
          fix: `give both Services the same selector, or use externalTrafficPolicy: Cluster, or another address`,
        };
      }
      return {
        code: "RequestedIPTaken",
        title: `the requested address ${reason.ip} is taken by Service ${reason.by}`,
        fix: `give both Services the same ironlb.io/allow-shared-ip value (and distinct ports), or request another address`,
      };
    case "ClassNotOurs":
      return {
        code: "ClassNotOurs",
        title: "the Service's loadBalancerClass is not the one IronLB serves",
        fix: "remove spec.loadBalancerClass (or set IronLB's --lb-class), or run the load balancer that serves this class",
      };
    case "RequestedPoolNotFound":
    case "PoolNotAllowed":
      return {
        code: reason.code,
        title:
          reason.code === "RequestedPoolNotFound"
            ? `the requested pool "${reason.pool}" does not exist`
            : `pool "${reason.pool}" does not serve the Service`,
        fix: "name an existing pool whose serviceAllocation admits the Service in ironlb.io/address-pool",
      };
    default:
      return {
        code: reason.code,
        title: `the Service cannot get an address (${reason.code})`,
        fix: "correct the Service as the message says",
      };
  }
}

function serviceEvidence(key: string, svc: ServiceObject): string[] {
  const out: string[] = [];
  const annotations = svc.metadata?.annotations ?? {};
  for (const [name, value] of Object.entries(annotations).sort()) {
    if (/^(ironlb\.io|metallb\.io|metallb\.universe\.tf)\//.test(name))
      out.push(`Service ${key} metadata.annotations["${name}"]: ${value}`);
  }
  const spec = svc.spec;
  if (spec?.loadBalancerIP !== undefined && spec.loadBalancerIP !== "")
    out.push(`Service ${key} spec.loadBalancerIP: ${spec.loadBalancerIP}`);
  if (spec?.loadBalancerClass !== undefined)
    out.push(`Service ${key} spec.loadBalancerClass: ${spec.loadBalancerClass}`);
  if (spec?.ports !== undefined && spec.ports.length > 0) {
    out.push(
      `Service ${key} spec.ports: ${spec.ports.map((p) => `${p.protocol ?? "TCP"}/${String(p.port)}`).join(", ")}`,
    );
  }
  return out;
}

function conditionEvidence(key: string, svc: ServiceObject, recomputed: string | undefined): string[] {
  const condition = allocationCondition(svc);
  if (condition === undefined)
    return [
      `Service ${key} status.conditions: no ironlb.io/IPAllocated condition (the controller has not handled it)`,
    ];
  const line = `Service ${key} condition ironlb.io/IPAllocated: ${condition.status} ${condition.reason}: ${condition.message}`;
  if (recomputed !== undefined && condition.reason !== recomputed) {
    return [
      line,
      `the controller's reason (${condition.reason}) differs from the recomputed one (${recomputed}): the cluster changed since, or the controller is behind`,
    ];
  }
  return [line];
}

function pendingFindings(key: string, svc: ServiceObject, model: ClusterModel): Finding[] {
  const intent = model.intents.get(key);
  if (intent?.ours !== true) return [];
  const result = model.allocator.allocate(intent.request);
  if (result.ok) {
    // A dry run: put the allocator back as it was for the next Service.
    model.allocator.release(key);
    return [
      {
        severity: "warning",
        code: "NotAllocatedYet",
        title: `pending although pool "${result.pool}" could give it ${result.ips.join(", ")}`,
        service: key,
        evidence: [...serviceEvidence(key, svc), ...conditionEvidence(key, svc, undefined)],
        fix: "check that the IronLB controller runs and serves this Service's class (its logs name the Service)",
      },
    ];
  }
  const trap = allocationTrap(result.reason);
  const evidence = [...serviceEvidence(key, svc), `allocator: ${result.reason.message}`];
  if (result.reason.code === "PoolExhausted") {
    for (const pool of result.reason.pools) {
      const s = model.allocator.poolStats(pool);
      if (s !== undefined) {
        evidence.push(
          `IPAddressPool ${pool}: IPv4 ${s.assignedIPv4.toString()} assigned, ${s.availableIPv4.toString()} available; IPv6 ${s.assignedIPv6.toString()} assigned, ${s.availableIPv6.toString()} available`,
        );
      }
    }
  }
  if (result.reason.code === "RequestedIPInUse") {
    const holder = model.services.get(result.reason.by) as ServiceObject | undefined;
    if (holder !== undefined) evidence.push(...serviceEvidence(result.reason.by, holder));
  }
  evidence.push(...conditionEvidence(key, svc, result.reason.code));
  return [{ severity: "error", code: trap.code, title: trap.title, service: key, evidence, fix: trap.fix }];
}

function nodeEvidence(
  objects: ClusterObjects,
  model: ClusterModel,
  verdict: Extract<AddressVerdict, { announced: false }>,
): string[] {
  const reason = verdict.reason;
  if (reason.code !== "noEligibleNode") return [];
  const out: string[] = [];
  switch (reason.why) {
    case "allExcluded":
      for (const node of objects.nodes) {
        const name = node.metadata?.name ?? "";
        if (Object.prototype.hasOwnProperty.call(node.metadata?.labels ?? {}, EXCLUDE_FROM_LB_LABEL)) {
          out.push(`Node ${name} metadata.labels["${EXCLUDE_FROM_LB_LABEL}"] is set`);
        }
        if (
          (node.status?.conditions ?? []).some((c) => c.type === "NetworkUnavailable" && c.status === "True")
        ) {
          out.push(`Node ${name} status.conditions NetworkUnavailable: True`);
        }
      }
      break;
    case "noLiveSpeaker":
      for (const node of objects.nodes) {
        const name = node.metadata?.name ?? "";
        if (model.liveSpeakers.has(name)) continue;
        const lease = objects.leases.find((l) => l.spec?.holderIdentity === name);
        const renew = lease?.spec?.renewTime;
        out.push(
          lease === undefined
            ? `Node ${name}: no speaker Lease (the speaker is not running there)`
            : `Lease ${lease.metadata?.namespace ?? ""}/${lease.metadata?.name ?? ""} of node ${name}: last renewed ${renew instanceof Date ? renew.toISOString() : (renew ?? "never")}, expired`,
        );
      }
      break;
    case "noReadyEndpoint":
      out.push(
        reason.endpointNodes.length === 0
          ? "EndpointSlices of the Service: no ready endpoint (externalTrafficPolicy Local announces only from nodes with one)"
          : `ready endpoints only on nodes that may not announce: ${reason.endpointNodes.join(", ")}`,
      );
      break;
    case "nodeSelectors":
      out.push(`advertisements ${reason.advertisements.join(", ")} select no node`);
      break;
    case "noNodes":
    case "noPeerSession":
      break;
  }
  return out;
}

const NOT_ANNOUNCED_FIX: Readonly<Record<string, string>> = {
  noAdvertisement: "create an L2Advertisement (or BGPAdvertisement) whose ipAddressPools cover the pool",
  nodeSelectors: "correct the advertisement's nodeSelectors, or label the nodes that should announce",
  allExcluded:
    "remove the node.kubernetes.io/exclude-from-external-load-balancers label, or fix the nodes' network (NetworkUnavailable)",
  noLiveSpeaker:
    "start the IronLB speaker on the selected nodes (check the DaemonSet's nodeSelector and tolerations)",
  noReadyEndpoint:
    "make a backend pod ready on a node that may announce, or use externalTrafficPolicy: Cluster",
  noPeerSession: "select, in the BGPPeers' nodeSelectors, nodes that the advertisement also selects",
  noNodes: "add nodes",
  ipNotInPool: "the address lies in no pool any more: the controller will re-allocate it once it runs",
  invalidIP: "correct status.loadBalancer.ingress (the controller rewrites it)",
};

function notAnnouncedFindings(
  key: string,
  svc: ServiceObject,
  objects: ClusterObjects,
  model: ClusterModel,
): Finding[] {
  if (model.layer2 === undefined || model.bgp === undefined) return [];
  const verdicts = addressVerdicts(key, model.layer2, model.bgp) ?? [];
  const findings: Finding[] = [];
  for (const v of verdicts) {
    if (v.announced) continue;
    const sub = v.reason.code === "noEligibleNode" ? v.reason.why : v.reason.code;
    findings.push({
      severity: "error",
      code:
        v.reason.code === "noEligibleNode"
          ? "NoEligibleNode"
          : v.reason.code === "noAdvertisement"
            ? "NoAdvertisement"
            : "NotAnnounced",
      title: `${v.ip} is not announced: ${v.message}`,
      service: key,
      evidence: [
        `Service ${key} status.loadBalancer.ingress: ${ingressIPs(svc).join(", ")}`,
        ...nodeEvidence(objects, model, v),
      ],
      fix: NOT_ANNOUNCED_FIX[sub] ?? "see the reason",
    });
  }
  return findings;
}

export interface ServiceFindingOptions {
  /** "namespace/name": check only this Service (and report a foreign class as a problem). */
  readonly target?: string | undefined;
}

export function serviceFindings(
  objects: ClusterObjects,
  model: ClusterModel,
  options: ServiceFindingOptions = {},
): Finding[] {
  const findings: Finding[] = [];
  const keys = options.target === undefined ? [...model.services.keys()].sort() : [options.target];
  for (const key of keys) {
    const svc = model.services.get(key) as ServiceObject | undefined;
    if (svc === undefined) continue;
    const intent = model.intents.get(key);
    const ips = ingressIPs(svc);
    if (intent?.ours !== true) {
      if (ips.length > 0) continue;
      const trap = allocationTrap({
        code: "ClassNotOurs",
        message: "",
        loadBalancerClass: svc.spec?.loadBalancerClass,
        servedClass: undefined,
      });
      // Cluster-wide, another load balancer may serve that class: worth naming, not a problem.
      findings.push({
        severity: options.target === undefined ? "info" : "error",
        code: trap.code,
        title: trap.title,
        service: key,
        evidence: serviceEvidence(key, svc),
        fix: trap.fix,
      });
      continue;
    }
    if (!model.validation.ok) continue; // the configuration findings come first; nothing else can be judged
    if (ips.length === 0) {
      findings.push(...pendingFindings(key, svc, model));
      continue;
    }
    const rejected = model.rejected.find((r) => r.service === key);
    if (rejected !== undefined) {
      const trap = allocationTrap(rejected.reason);
      findings.push({
        severity: "error",
        code: trap.code,
        title: `its current addresses cannot be kept: ${trap.title}`,
        service: key,
        evidence: [
          ...serviceEvidence(key, svc),
          `Service ${key} status.loadBalancer.ingress: ${ips.join(", ")}`,
          `allocator: ${rejected.reason.message}`,
        ],
        fix: trap.fix,
      });
      continue;
    }
    findings.push(...notAnnouncedFindings(key, svc, objects, model));
  }
  return findings;
}
