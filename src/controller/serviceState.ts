/**
 * What IronLB wants a Service to show, and the smallest set of writes that gets it there.
 * Pure: the reconcile loop computes a plan from the cached Service and an allocation outcome,
 * and writes only when the plan is not empty.
 */
import type { AllocationFailure } from "../ipam/reasons.js";
import { ALLOCATED_FROM_POOL_ANNOTATION } from "./annotations.js";
import type {
  ConditionObject,
  LoadBalancerIngressObject,
  ServiceObject,
  ServiceStatusObject,
} from "./objects.js";
import type { NotOursReason } from "./serviceRequest.js";

/** The Service condition IronLB keeps. */
export const IP_ALLOCATED_CONDITION = "ironlb.io/IPAllocated";
/** Reason of the condition when the Service holds its addresses. */
export const ALLOCATED_REASON = "Allocated";

export type AllocationOutcome =
  | { readonly ok: true; readonly ips: readonly string[]; readonly pool: string }
  | { readonly ok: false; readonly reason: AllocationFailure };

export interface DesiredCondition {
  readonly status: "True" | "False";
  readonly reason: string;
  readonly message: string;
}

/** What IronLB's fields of a Service should hold; undefined fields are to be absent. */
export interface DesiredServiceState {
  readonly ingressIPs: readonly string[];
  readonly pool: string | undefined;
  readonly condition: DesiredCondition | undefined;
}

export type ServiceEventReason = "IPAllocated" | "AllocationFailed" | "ClearAssignment";

export interface ServiceEvent {
  readonly type: "Normal" | "Warning";
  readonly reason: ServiceEventReason;
  /** What the controller did (events.k8s.io `action`). */
  readonly action: "Allocate" | "Release";
  readonly note: string;
}

/** The writes that bring a Service to its desired state, and the Events that tell the user. */
export interface ServicePlan {
  /** The Service's new status (written through the status subresource), when it changes. */
  readonly status: ServiceStatusObject | undefined;
  /** A merge patch of metadata.annotations (null deletes), when it changes. */
  readonly annotations: Readonly<Record<string, string | null>> | undefined;
  readonly events: readonly ServiceEvent[];
}

export function desiredForOutcome(outcome: AllocationOutcome): DesiredServiceState {
  if (outcome.ok) {
    return {
      ingressIPs: outcome.ips,
      pool: outcome.pool,
      condition: {
        status: "True",
        reason: ALLOCATED_REASON,
        message: `${outcome.ips.join(", ")} from pool "${outcome.pool}"`,
      },
    };
  }
  return {
    ingressIPs: [],
    pool: undefined,
    condition: { status: "False", reason: outcome.reason.code, message: outcome.reason.message },
  };
}

/** Nothing of IronLB's left on the Service. */
export const CLEARED: DesiredServiceState = { ingressIPs: [], pool: undefined, condition: undefined };

/** IP addresses of status.loadBalancer.ingress, in order (hostname-only entries skipped). */
export function ingressIPs(service: ServiceObject): string[] {
  return (service.status?.loadBalancer?.ingress ?? []).flatMap((i) =>
    i.ip === undefined || i.ip === "" ? [] : [i.ip],
  );
}

export function ourCondition(service: ServiceObject): ConditionObject | undefined {
  return service.status?.conditions?.find((c) => c.type === IP_ALLOCATED_CONDITION);
}

export function allocatedFromPool(service: ServiceObject): string | undefined {
  return service.metadata?.annotations?.[ALLOCATED_FROM_POOL_ANNOTATION];
}

/**
 * Whether the Service carries a mark that IronLB served it (its pool annotation or condition).
 * Without one, an ingress on a Service that is not ours belongs to someone else and is left alone.
 */
export function carriesOurMarks(service: ServiceObject): boolean {
  return allocatedFromPool(service) !== undefined || ourCondition(service) !== undefined;
}

/** The state a Service should reach once it is no longer ours. */
export function desiredWhenNotOurs(service: ServiceObject, heldAddresses: boolean): DesiredServiceState {
  if (heldAddresses || carriesOurMarks(service)) return CLEARED;
  // Someone else's Service: keep its ingress, there is nothing of ours to remove.
  return { ingressIPs: ingressIPs(service), pool: undefined, condition: undefined };
}

export function describeNotOurs(why: NotOursReason): string {
  switch (why.code) {
    case "Deleted":
      return "the Service is being deleted";
    case "NotLoadBalancer":
      return `the Service is of type ${why.type}, no longer LoadBalancer`;
    case "OtherClass":
      return why.loadBalancerClass === undefined
        ? "the Service has no loadBalancerClass, which this IronLB does not serve"
        : `the Service has loadBalancerClass "${why.loadBalancerClass}", which this IronLB does not serve`;
  }
}

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The writes and Events that take `service` to `desired`. `notOurs` explains a clearing (for the
 * ClearAssignment Event) and `releasedIPs` names what the allocator gave back, since the API
 * server may have emptied the ingress itself (it does on a type change). `now` stamps a condition
 * whose status changes.
 */
export function planService(
  service: ServiceObject,
  desired: DesiredServiceState,
  now: Date,
  notOurs?: NotOursReason,
  releasedIPs: readonly string[] = [],
): ServicePlan {
  const currentIPs = ingressIPs(service);
  const currentCondition = ourCondition(service);
  const currentPool = allocatedFromPool(service);

  const ingressChanged =
    !sameList(currentIPs, desired.ingressIPs) || hasForeignIngressFields(service, desired);
  const conditionChanged = !sameCondition(currentCondition, desired.condition, service.metadata?.generation);
  const status =
    ingressChanged || conditionChanged ? nextStatus(service, desired, currentCondition, now) : undefined;
  const annotations =
    currentPool === desired.pool ? undefined : { [ALLOCATED_FROM_POOL_ANNOTATION]: desired.pool ?? null };

  const events: ServiceEvent[] = [];
  const d = desired.condition;
  if (d?.status === "True" && !sameList(currentIPs, desired.ingressIPs)) {
    events.push({
      type: "Normal",
      reason: "IPAllocated",
      action: "Allocate",
      note: `Assigned IP ${desired.ingressIPs.join(", ")} from pool "${desired.pool ?? ""}"`,
    });
  } else if (
    d?.status === "False" &&
    (currentCondition?.reason !== d.reason || currentCondition.message !== d.message)
  ) {
    events.push({
      type: "Warning",
      reason: "AllocationFailed",
      action: "Allocate",
      note: `${d.reason}: ${d.message}`,
    });
  } else if (
    d === undefined &&
    (status !== undefined || annotations !== undefined) &&
    notOurs !== undefined
  ) {
    const gone = currentIPs.length > 0 ? currentIPs : releasedIPs;
    const released = gone.length > 0 ? `released ${gone.join(", ")}: ` : "";
    events.push({
      type: "Normal",
      reason: "ClearAssignment",
      action: "Release",
      note: `${released}${describeNotOurs(notOurs)}`,
    });
  }
  return { status, annotations, events };
}

/** An ingress we own should be exactly `{ip, ipMode: VIP}` entries; anything else is rewritten. */
function hasForeignIngressFields(service: ServiceObject, desired: DesiredServiceState): boolean {
  if (desired.condition === undefined) return false;
  return (service.status?.loadBalancer?.ingress ?? []).some(
    (i) => i.hostname !== undefined || (i.ports !== undefined && i.ports.length > 0),
  );
}

function sameCondition(
  current: ConditionObject | undefined,
  desired: DesiredCondition | undefined,
  generation: number | undefined,
): boolean {
  if (current === undefined || desired === undefined) return current === desired;
  return (
    current.status === desired.status &&
    current.reason === desired.reason &&
    current.message === desired.message &&
    (generation === undefined || current.observedGeneration === generation)
  );
}

function nextStatus(
  service: ServiceObject,
  desired: DesiredServiceState,
  current: ConditionObject | undefined,
  now: Date,
): ServiceStatusObject {
  const ingress: LoadBalancerIngressObject[] = desired.ingressIPs.map((ip) => ({ ip, ipMode: "VIP" }));
  const conditions: ConditionObject[] = [...(service.status?.conditions ?? [])];
  const d = desired.condition;
  const at = conditions.findIndex((c) => c.type === IP_ALLOCATED_CONDITION);
  if (d === undefined) {
    if (at >= 0) conditions.splice(at, 1);
  } else {
    const generation = service.metadata?.generation;
    const next: ConditionObject = {
      type: IP_ALLOCATED_CONDITION,
      status: d.status,
      reason: d.reason,
      // The API server caps condition messages at 32768 characters.
      message: d.message.slice(0, 32768),
      // Per Kubernetes convention the time moves only when the status flips.
      lastTransitionTime:
        current !== undefined && current.status === d.status ? current.lastTransitionTime : now,
      ...(generation !== undefined && { observedGeneration: generation }),
    };
    if (at >= 0) conditions[at] = next;
    else conditions.push(next);
  }
  return {
    ...service.status,
    loadBalancer: { ...service.status?.loadBalancer, ingress },
    conditions,
  };
}
