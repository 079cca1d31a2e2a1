import { CONFIG_KINDS } from "../api/kinds.js";
import { IRONLB_API_VERSION } from "../api/schema/common.js";

/**
 * What a conversion could not carry over. `dropped`: configuration was lost (the user must act);
 * `note`: nothing was lost, but the user should know (a Secret to copy, status objects skipped).
 */
export interface ConversionIssue {
  readonly severity: "dropped" | "note";
  /** The input object, e.g. `ConfigMap metallb-system/config` or `metallb.io/v1beta2 BGPPeer "tor"`. */
  readonly source: string;
  /** Field path inside the source, e.g. `peers[0].vrf`; empty for the whole object. */
  readonly path: string;
  readonly message: string;
}

export interface IronLBObject {
  readonly apiVersion: typeof IRONLB_API_VERSION;
  readonly kind: string;
  readonly metadata: { name: string; namespace: string; labels?: Record<string, string> };
  readonly spec: Record<string, unknown>;
}

export interface ConversionOptions {
  /** Namespace of the IronLB objects produced from MetalLB ones (IronLB reads its own namespace). */
  readonly namespace: string;
}

/** Collects converted objects and issues for one input object. */
export class ConversionSink {
  readonly objects: IronLBObject[] = [];
  readonly issues: ConversionIssue[] = [];

  constructor(readonly options: ConversionOptions) {}

  emit(kind: string, name: string, spec: Record<string, unknown>, labels?: Record<string, string>): void {
    const metadata: IronLBObject["metadata"] = { name, namespace: this.options.namespace };
    if (labels && Object.keys(labels).length > 0) metadata.labels = labels;
    this.objects.push({ apiVersion: IRONLB_API_VERSION, kind, metadata, spec: inSchemaOrder(kind, spec) });
  }

  dropped(source: string, path: string, message: string): void {
    this.issues.push({ severity: "dropped", source, path, message });
  }

  note(source: string, path: string, message: string): void {
    this.issues.push({ severity: "note", source, path, message });
  }
}

/** The spec's fields in the order the schema declares them, so converted YAML reads like the docs. */
function inSchemaOrder(kind: string, spec: Record<string, unknown>): Record<string, unknown> {
  const properties = (CONFIG_KINDS.find((k) => k.kind === kind)?.spec as { properties?: object } | undefined)
    ?.properties;
  const order = Object.keys(properties ?? {});
  const rank = (key: string) => (order.includes(key) ? order.indexOf(key) : order.length);
  return Object.fromEntries(Object.entries(spec).sort(([a], [b]) => rank(a) - rank(b)));
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
