import { stringify } from "yaml";
import { API_GROUP, API_VERSION } from "./schema/common.js";
import { ALL_KINDS, type KindDefinition } from "./kinds.js";

/** An OpenAPI v3 schema node as apiextensions.k8s.io/v1 accepts it (JSONSchemaProps). */
export type JSONSchemaProps = Record<string, unknown>;

export class CRDGenerationError extends Error {
  override readonly name = "CRDGenerationError";
  readonly code = "IRONLB_CRD_GENERATION";
  constructor(
    readonly at: string,
    reason: string,
  ) {
    super(`${at}: ${reason}`);
  }
}

/** Keywords copied verbatim, in the order they are written (keeps the YAML stable and readable). */
const SCALAR_KEYWORDS = [
  "description",
  "type",
  "format",
  "enum",
  "default",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "pattern",
  "minItems",
  "maxItems",
  "nullable",
] as const;

/** Keywords the validator uses that have no place in a CRD (TypeBox-only or IronLB-only). */
const VALIDATOR_ONLY = new Set([
  "errorMessage",
  "const",
  "anyOf",
  "patternProperties",
  "additionalProperties",
]);
const STRUCTURAL = new Set<string>([...SCALAR_KEYWORDS, "properties", "required", "items"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A union of literals (TypeBox's shape for string enums) becomes a typed `enum`. */
function literalUnionToEnum(schema: Record<string, unknown>, at: string): JSONSchemaProps {
  const options = schema.anyOf as unknown[];
  const values = options.map((option, i) => {
    if (!isRecord(option) || typeof option.const !== "string") {
      throw new CRDGenerationError(
        `${at}.anyOf[${i}]`,
        "only unions of string literals can become a CRD enum",
      );
    }
    return option.const;
  });
  const out: JSONSchemaProps = {};
  if (typeof schema.description === "string") out.description = schema.description;
  out.type = "string";
  out.enum = values;
  if (schema.default !== undefined) out.default = schema.default;
  return out;
}

/**
 * Converts a TypeBox schema into a Kubernetes structural schema node: every node typed, maps as
 * `additionalProperties` (never `patternProperties`), no `additionalProperties: false` (the API
 * server prunes unknown fields instead), unions of literals as `enum`, `x-kubernetes-*` kept.
 * Throws on anything it cannot express, so a new schema construct cannot slip into a CRD unseen.
 */
export function toStructural(schema: unknown, at = "schema"): JSONSchemaProps {
  if (!isRecord(schema)) throw new CRDGenerationError(at, "a schema node must be an object");
  if (Array.isArray(schema.anyOf)) return literalUnionToEnum(schema, at);
  if (typeof schema.const === "string") {
    return toStructural({ ...schema, const: undefined, type: "string", enum: [schema.const] }, at);
  }
  for (const key of Object.keys(schema)) {
    if (!STRUCTURAL.has(key) && !VALIDATOR_ONLY.has(key) && !key.startsWith("x-kubernetes-")) {
      throw new CRDGenerationError(`${at}.${key}`, "keyword not supported in a CRD schema");
    }
  }
  const out: JSONSchemaProps = {};
  for (const key of SCALAR_KEYWORDS) {
    if (schema[key] !== undefined) out[key] = schema[key];
  }
  if (isRecord(schema.properties)) {
    const properties: Record<string, JSONSchemaProps> = {};
    for (const [name, child] of Object.entries(schema.properties)) {
      properties[name] = toStructural(child, `${at}.properties.${name}`);
    }
    out.properties = properties;
    if (Array.isArray(schema.required) && schema.required.length > 0)
      out.required = (schema.required as unknown[]).slice();
  }
  if (schema.items !== undefined) out.items = toStructural(schema.items, `${at}.items`);
  if (isRecord(schema.patternProperties)) {
    const patterns = Object.values(schema.patternProperties);
    if (patterns.length !== 1)
      throw new CRDGenerationError(`${at}.patternProperties`, "expected one pattern");
    out.additionalProperties = toStructural(patterns[0], `${at}.additionalProperties`);
  } else if (isRecord(schema.additionalProperties)) {
    out.additionalProperties = toStructural(schema.additionalProperties, `${at}.additionalProperties`);
  }
  for (const key of Object.keys(schema).filter((k) => k.startsWith("x-kubernetes-"))) {
    out[key] = schema[key];
  }
  return out;
}

function openAPIV3Schema(def: KindDefinition): JSONSchemaProps {
  const properties: Record<string, JSONSchemaProps> = {
    apiVersion: {
      description: "Versioned schema of this representation of an object.",
      type: "string",
    },
    kind: { description: "REST resource this object represents.", type: "string" },
    metadata: { type: "object" },
    spec: toStructural(def.spec, `${def.kind}.spec`),
  };
  if (def.status) properties.status = toStructural(def.status, `${def.kind}.status`);
  const root: JSONSchemaProps = { description: def.description, type: "object", properties };
  if (def.specRequired) root.required = ["spec"];
  return root;
}

/** The apiextensions.k8s.io/v1 CustomResourceDefinition of one kind. */
export function buildCRD(def: KindDefinition): Record<string, unknown> {
  const version: Record<string, unknown> = { name: API_VERSION, served: true, storage: true };
  if (def.status) version.subresources = { status: {} };
  version.additionalPrinterColumns = def.printerColumns.map((c) => ({ ...c }));
  version.schema = { openAPIV3Schema: openAPIV3Schema(def) };
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${def.plural}.${API_GROUP}` },
    spec: {
      group: API_GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.kind.toLowerCase(),
        categories: ["ironlb"],
      },
      scope: "Namespaced",
      versions: [version],
    },
  };
}

export interface RenderedCRD {
  readonly fileName: string;
  readonly yaml: string;
}

const HEADER = "# Generated from src/api by scripts/gen-crds.ts; do not edit. Run: npm run gen:crds\n";

/** Every CRD as the YAML text committed under deploy/crds/. */
export function renderCRDs(kinds: readonly KindDefinition[] = ALL_KINDS): RenderedCRD[] {
  return kinds.map((def) => ({
    fileName: `${API_GROUP}_${def.plural}.yaml`,
    yaml: HEADER + stringify(buildCRD(def), { lineWidth: 0 }),
  }));
}
