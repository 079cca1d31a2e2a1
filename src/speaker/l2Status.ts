/**
 * ServiceL2Status objects (ironlb.io/v1beta1): one per Service this node announces, in the
 * IronLB namespace, named `<namespace>.<service>.<node>` (namespaces and Service names hold no
 * dots, so the name is unambiguous), labelled with the node so each speaker lists only its own,
 * and owned by the Node so they go away with it. Pure: desired objects and the writes that turn
 * the existing ones into them.
 */
import { createHash } from "node:crypto";
import type { ServiceL2StatusStatus } from "../api/schema/serviceStatus.js";
import type { AnnouncedService } from "./nodePlan.js";

export const STATUS_NODE_LABEL = "ironlb.io/node";
export const STATUS_SERVICE_NAME_LABEL = "ironlb.io/service-name";
export const STATUS_SERVICE_NAMESPACE_LABEL = "ironlb.io/service-namespace";

const MAX_NAME = 253;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const digest = (text: string, length: number): string =>
  createHash("sha256").update(text).digest("hex").slice(0, length);

/** A label value for `text`: itself when valid, else a readable head plus a hash. */
export function labelValueFor(text: string): string {
  if (text.length <= 63 && LABEL_VALUE.test(text)) return text;
  const head = text
    .slice(0, 46)
    .replace(/[^-A-Za-z0-9_.]/g, "-")
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
  return `${head}${head === "" ? "" : "-"}${digest(text, 16)}`;
}

export function statusName(serviceNamespace: string, serviceName: string, node: string): string {
  const plain = `${serviceNamespace}.${serviceName}.${node}`;
  if (plain.length <= MAX_NAME) return plain;
  return `${plain.slice(0, MAX_NAME - 17).replace(/[.-]+$/, "")}-${digest(plain, 16)}`;
}

export function nodeLabelSelector(node: string): string {
  return `${STATUS_NODE_LABEL}=${labelValueFor(node)}`;
}

export interface DesiredL2Status {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly status: ServiceL2StatusStatus;
}

/** A ServiceL2Status as read back (from the informer). */
export interface ExistingL2Status {
  readonly metadata?:
    | {
        readonly name?: string | undefined;
        readonly resourceVersion?: string | undefined;
        readonly labels?: Readonly<Record<string, string>> | undefined;
        readonly deletionTimestamp?: unknown;
      }
    | undefined;
  readonly status?: unknown;
}

export function desiredStatuses(services: readonly AnnouncedService[], node: string): DesiredL2Status[] {
  return services.map((svc) => ({
    name: statusName(svc.namespace, svc.name, node),
    labels: {
      [STATUS_NODE_LABEL]: labelValueFor(node),
      [STATUS_SERVICE_NAME_LABEL]: labelValueFor(svc.name),
      [STATUS_SERVICE_NAMESPACE_LABEL]: labelValueFor(svc.namespace),
      "app.kubernetes.io/managed-by": "ironlb-speaker",
    },
    status: {
      node,
      serviceName: svc.name,
      serviceNamespace: svc.namespace,
      interfaces: svc.interfaces.map((name) => ({ name })),
    },
  }));
}

export interface StatusWrites {
  readonly create: readonly DesiredL2Status[];
  /** Existing objects whose status differs, with the resourceVersion to update. */
  readonly update: readonly { readonly desired: DesiredL2Status; readonly resourceVersion: string }[];
  /** Names of this node's objects no Service needs any more. */
  readonly delete: readonly string[];
}

/** The writes that make `existing` (this node's objects) equal to `desired`. */
export function planStatusWrites(
  existing: readonly ExistingL2Status[],
  desired: readonly DesiredL2Status[],
): StatusWrites {
  const have = new Map<string, ExistingL2Status>();
  for (const obj of existing) {
    const name = obj.metadata?.name;
    if (name !== undefined && obj.metadata?.deletionTimestamp === undefined) have.set(name, obj);
  }
  const wanted = new Set(desired.map((d) => d.name));
  const create: DesiredL2Status[] = [];
  const update: { desired: DesiredL2Status; resourceVersion: string }[] = [];
  for (const d of desired) {
    const current = have.get(d.name);
    if (current === undefined) create.push(d);
    else if (!sameStatus(current.status, d.status)) {
      update.push({ desired: d, resourceVersion: current.metadata?.resourceVersion ?? "" });
    }
  }
  const remove = [...have.keys()].filter((name) => !wanted.has(name)).sort();
  return { create, update, delete: remove };
}

export function isEmptyStatusWrites(writes: StatusWrites): boolean {
  return writes.create.length + writes.update.length + writes.delete.length === 0;
}

function sameStatus(current: unknown, desired: ServiceL2StatusStatus): boolean {
  if (typeof current !== "object" || current === null) return false;
  const c = current as ServiceL2StatusStatus;
  const names = (s: ServiceL2StatusStatus): string =>
    JSON.stringify((s.interfaces ?? []).map((i) => i.name ?? ""));
  return (
    c.node === desired.node &&
    c.serviceName === desired.serviceName &&
    c.serviceNamespace === desired.serviceNamespace &&
    names(c) === names(desired)
  );
}
