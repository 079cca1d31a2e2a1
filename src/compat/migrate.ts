/**
 * The conversion behind `ironlb migrate`: any mix of MetalLB CRs, MetalLB's legacy ConfigMap and
 * IronLB objects in, IronLB objects out, plus what could not be converted and the validation of
 * the result by the same validateConfig the daemons run.
 */
import { parseAllDocuments, stringify } from "yaml";
import { configInputFromObjects, validateConfig, type ConfigResult } from "../api/config.js";
import { IRONLB_API_VERSION } from "../api/schema/common.js";
import { convertLegacyConfig, convertLegacyConfigMap, looksLikeLegacyConfig } from "./legacyConfigMap.js";
import { convertMetalLBObject } from "./metallbCRs.js";
import {
  ConversionSink,
  isRecord,
  type ConversionIssue,
  type ConversionOptions,
  type IronLBObject,
} from "./types.js";

export interface MigrationResult {
  readonly objects: readonly IronLBObject[];
  readonly issues: readonly ConversionIssue[];
  readonly validation: ConfigResult;
}

export class MigrateInputError extends Error {
  override readonly name = "MigrateInputError";
  readonly code = "IRONLB_MIGRATE_INPUT";
}

/** Output order: referenced kinds before the kinds that reference them (webhooks see them in order). */
const KIND_ORDER = [
  "IPAddressPool",
  "Community",
  "BFDProfile",
  "BGPPeer",
  "L2Advertisement",
  "BGPAdvertisement",
];

function passThrough(obj: Record<string, unknown>, sink: ConversionSink): void {
  const kind = String(obj.kind);
  const metadata = isRecord(obj.metadata) ? obj.metadata : {};
  const name = typeof metadata.name === "string" ? metadata.name : "";
  if (!KIND_ORDER.includes(kind)) {
    const what = `${IRONLB_API_VERSION} ${kind}`;
    if (kind.endsWith("Status") || kind === "BGPSessionState") sink.note(what, "", "status object, skipped");
    else sink.dropped(what, "", "not an IronLB configuration kind; not converted");
    return;
  }
  const namespace = typeof metadata.namespace === "string" ? metadata.namespace : sink.options.namespace;
  const labels = isRecord(metadata.labels) ? (metadata.labels as Record<string, string>) : undefined;
  const spec = isRecord(obj.spec) ? obj.spec : {};
  sink.objects.push({
    apiVersion: IRONLB_API_VERSION,
    kind,
    metadata: { name, namespace, ...(labels ? { labels } : {}) },
    spec,
  });
}

function describeOther(doc: unknown, index: number): string {
  if (!isRecord(doc)) return `document ${index + 1}`;
  const meta = isRecord(doc.metadata) ? doc.metadata : {};
  const name = typeof meta.name === "string" ? ` "${meta.name}"` : "";
  const text = (v: unknown) => (typeof v === "string" ? v : "?");
  return `${text(doc.apiVersion)} ${text(doc.kind)}${name}`;
}

function convertDocument(doc: unknown, index: number, sink: ConversionSink): void {
  if (doc === null || doc === undefined) return;
  if (isRecord(doc) && doc.kind === "List" && Array.isArray(doc.items)) {
    doc.items.forEach((item) => {
      convertDocument(item, index, sink);
    });
    return;
  }
  if (looksLikeLegacyConfig(doc)) {
    convertLegacyConfig(doc, sink, `document ${index + 1} (MetalLB configuration)`);
    return;
  }
  if (isRecord(doc) && typeof doc.apiVersion === "string") {
    if (doc.apiVersion === IRONLB_API_VERSION) {
      passThrough(doc, sink);
      return;
    }
    if (doc.apiVersion.startsWith("metallb.io/")) {
      convertMetalLBObject(doc, sink);
      return;
    }
    if (doc.apiVersion === "v1" && doc.kind === "ConfigMap") {
      convertLegacyConfigMap(doc, sink);
      return;
    }
  }
  sink.dropped(describeOther(doc, index), "", "not a MetalLB or IronLB configuration object; not converted");
}

function kindRank(obj: IronLBObject): number {
  const i = KIND_ORDER.indexOf(obj.kind);
  return i < 0 ? KIND_ORDER.length : i;
}

/** Converts parsed documents and validates the result. */
export function migrateDocuments(docs: readonly unknown[], options: ConversionOptions): MigrationResult {
  const sink = new ConversionSink(options);
  docs.forEach((doc, i) => {
    convertDocument(doc, i, sink);
  });
  // Stable sort: within a kind, the input order is kept.
  const objects = [...sink.objects].sort((a, b) => kindRank(a) - kindRank(b));
  const validation = validateConfig(configInputFromObjects(objects).input);
  return { objects, issues: sink.issues, validation };
}

/** Parses multi-document YAML; throws MigrateInputError on a syntax error (with its line). */
export function parseDocuments(text: string): unknown[] {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return [];
  const errors = docs.flatMap((d) => d.errors);
  const first = errors[0];
  // The yaml library's message continues with a source excerpt on further lines.
  if (first)
    throw new MigrateInputError(
      `the input is not valid YAML: ${(first.message.split("\n")[0] ?? "").replace(/:$/, "")}`,
    );
  return docs.map((d) => d.toJS() as unknown);
}

export function migrateYaml(text: string, options: ConversionOptions): MigrationResult {
  return migrateDocuments(parseDocuments(text), options);
}

/** Multi-document YAML of the converted objects. */
export function renderObjects(objects: readonly IronLBObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
}
