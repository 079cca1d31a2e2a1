/**
 * The status objects a speaker writes about itself (ServiceL2Status, ServiceBGPStatus,
 * BGPSessionState), whatever their kind: in the IronLB namespace, named from what they describe
 * and the node, labelled with the node so each speaker lists only its own, owned by the Node so
 * they go away with it. Pure: names, labels, and the writes that turn this node's existing
 * objects of one kind into the desired ones.
 */
import { createHash } from "node:crypto";

export const STATUS_NODE_LABEL = "ironlb.io/node";
export const STATUS_SERVICE_NAME_LABEL = "ironlb.io/service-name";
export const STATUS_SERVICE_NAMESPACE_LABEL = "ironlb.io/service-namespace";
export const MANAGED_BY_SPEAKER = { "app.kubernetes.io/managed-by": "ironlb-speaker" } as const;

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

/**
 * `<namespace>.<service>.<node>` (namespaces and Service names hold no dots, so the name is
 * unambiguous), shortened with a hash when longer than an object name may be.
 */
export function statusName(serviceNamespace: string, serviceName: string, node: string): string {
  const plain = `${serviceNamespace}.${serviceName}.${node}`;
  if (plain.length <= MAX_NAME) return plain;
  return `${plain.slice(0, MAX_NAME - 17).replace(/[.-]+$/, "")}-${digest(plain, 16)}`;
}

export function nodeLabelSelector(node: string): string {
  return `${STATUS_NODE_LABEL}=${labelValueFor(node)}`;
}

/** The labels of a per-Service status object. */
export function serviceStatusLabels(
  node: string,
  serviceNamespace: string,
  serviceName: string,
): Record<string, string> {
  return {
    [STATUS_NODE_LABEL]: labelValueFor(node),
    [STATUS_SERVICE_NAME_LABEL]: labelValueFor(serviceName),
    [STATUS_SERVICE_NAMESPACE_LABEL]: labelValueFor(serviceNamespace),
    ...MANAGED_BY_SPEAKER,
  };
}

export interface DesiredObject<S> {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly status: S;
}

/** An object as read back from the API server (listed, or from an informer cache). */
export interface ExistingObject {
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

export interface ObjectWrites<S> {
  readonly create: readonly DesiredObject<S>[];
  /** Existing objects whose status differs, with the resourceVersion to update. */
  readonly update: readonly { readonly desired: DesiredObject<S>; readonly resourceVersion: string }[];
  /** Names of this node's objects nothing needs any more. */
  readonly delete: readonly string[];
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
