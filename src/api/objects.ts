import type { Static, TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { labelKeyProblem, labelValueProblem, type Labels } from "./labelSelector.js";
import type { Findings } from "./configError.js";
import type { KindDefinition } from "./kinds.js";
import { IRONLB_API_VERSION } from "./schema/common.js";
import { schemaProblems } from "./schemaErrors.js";

/** One object of a kind whose envelope and spec passed the schema; defaults are filled in. */
export interface CheckedObject<Spec> {
  readonly name: string;
  readonly namespace: string | undefined;
  readonly labels: Labels;
  readonly spec: Spec;
}

export interface ReadResult<Spec> {
  /** Names of every object with a usable name, valid or not: references to them are not "unknown". */
  readonly names: ReadonlySet<string>;
  readonly objects: readonly CheckedObject<Spec>[];
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function nameProblem(name: string): string | undefined {
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    return "must be a DNS subdomain: lower-case letters, digits, '-' and '.', at most 253 characters, starting and ending alphanumeric";
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readLabels(raw: unknown, kind: string, name: string, findings: Findings): Labels | undefined {
  if (raw === undefined) return {};
  if (!isRecord(raw)) {
    findings.error("InvalidObject", kind, name, "metadata.labels", raw, "must be a map of strings");
    return undefined;
  }
  let ok = true;
  for (const [key, value] of Object.entries(raw)) {
    const problem =
      labelKeyProblem(key) ?? (typeof value === "string" ? labelValueProblem(value) : "must be a string");
    if (problem) {
      findings.error("InvalidObject", kind, name, `metadata.labels[${key}]`, value, problem);
      ok = false;
    }
  }
  return ok ? (raw as Labels) : undefined;
}

/**
 * Checks the envelope (apiVersion, kind, metadata) and the spec of every object of one kind,
 * reporting problems into `findings`. Objects with any error are left out of `objects`; unknown
 * spec fields are warnings only (the API server prunes them; an older IronLB must not reject a
 * newer field).
 */
export function readObjects<S extends TSchema>(
  def: Pick<KindDefinition, "kind" | "specRequired">,
  schema: S,
  raws: readonly unknown[],
  findings: Findings,
): ReadResult<Static<S>> {
  const kind = def.kind;
  const names = new Set<string>();
  const objects: CheckedObject<Static<S>>[] = [];
  raws.forEach((raw, index) => {
    const placeholder = `#${index}`;
    if (!isRecord(raw)) {
      findings.error("InvalidObject", kind, placeholder, "", raw, "must be an object");
      return;
    }
    const meta = raw.metadata;
    const rawName = isRecord(meta) ? meta.name : undefined;
    if (typeof rawName !== "string" || rawName === "") {
      findings.error("InvalidName", kind, placeholder, "metadata.name", rawName, "is required");
      return;
    }
    const name = rawName;
    let ok = true;
    const np = nameProblem(name);
    if (np) {
      findings.error("InvalidName", kind, name, "metadata.name", name, np);
      ok = false;
    }
    if (names.has(name)) {
      findings.error("DuplicateName", kind, name, "metadata.name", name, `another ${kind} has the same name`);
      return;
    }
    names.add(name);
    if (raw.apiVersion !== undefined && raw.apiVersion !== IRONLB_API_VERSION) {
      const hint =
        typeof raw.apiVersion === "string" && raw.apiVersion.startsWith("metallb.io/")
          ? " (convert it with `ironlb migrate`)"
          : "";
      findings.error(
        "InvalidObject",
        kind,
        name,
        "apiVersion",
        raw.apiVersion,
        `must be ${IRONLB_API_VERSION}${hint}`,
      );
      ok = false;
    }
    if (raw.kind !== undefined && raw.kind !== kind) {
      findings.error("InvalidObject", kind, name, "kind", raw.kind, `must be ${kind}`);
      ok = false;
    }
    const namespace = isRecord(meta) && typeof meta.namespace === "string" ? meta.namespace : undefined;
    const labels = readLabels(isRecord(meta) ? meta.labels : undefined, kind, name, findings);
    if (labels === undefined) ok = false;

    if (raw.spec === undefined && def.specRequired) {
      findings.error("SchemaViolation", kind, name, "spec", undefined, "is required");
      return;
    }
    const spec: unknown = Value.Default(schema, Value.Clone(raw.spec ?? {}));
    for (const problem of schemaProblems(schema, spec, "spec")) {
      if (problem.unknownField) {
        findings.warn("UnknownField", kind, name, problem.path, problem.value, problem.message);
      } else {
        findings.error("SchemaViolation", kind, name, problem.path, problem.value, problem.message);
        ok = false;
      }
    }
    if (ok && labels !== undefined && Value.Check(schema, spec)) {
      objects.push({ name, namespace, labels, spec });
    } else if (ok && labels !== undefined) {
      // Only unknown fields remain: check the object with them removed.
      const cleaned: unknown = Value.Clean(schema, Value.Clone(spec));
      if (Value.Check(schema, cleaned)) objects.push({ name, namespace, labels, spec: cleaned });
    }
  });
  return { names, objects };
}
