import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Type } from "@sinclair/typebox";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import {
  buildCRD,
  CRDGenerationError,
  renderCRDs,
  toStructural,
  type JSONSchemaProps,
} from "../../../src/api/crd.js";
import { ALL_KINDS, CONFIG_KINDS } from "../../../src/api/kinds.js";

const crdDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "deploy", "crds");

/** The keywords apiextensions.k8s.io/v1 JSONSchemaProps accepts that IronLB may use. */
const ALLOWED = new Set([
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
  "properties",
  "required",
  "items",
  "additionalProperties",
  "x-kubernetes-map-type",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-int-or-string",
  "x-kubernetes-validations",
]);
const TYPES = new Set(["object", "array", "string", "integer", "number", "boolean"]);

function matchesType(value: unknown, type: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number";
    case "boolean":
      return typeof value === "boolean";
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    default:
      return false;
  }
}

/** Kubernetes structural-schema rules, checked at every node; returns every violation. */
function structuralProblems(node: unknown, path: string): string[] {
  if (typeof node !== "object" || node === null || Array.isArray(node))
    return [`${path}: not a schema object`];
  const s = node as JSONSchemaProps;
  const problems: string[] = [];
  for (const key of Object.keys(s)) {
    if (!ALLOWED.has(key)) problems.push(`${path}: keyword ${key} is not allowed`);
  }
  const untyped =
    s["x-kubernetes-int-or-string"] === true || s["x-kubernetes-preserve-unknown-fields"] === true;
  if (!untyped && !TYPES.has(s.type as string)) problems.push(`${path}: missing or unknown type`);
  if (s.type === "array" && (typeof s.items !== "object" || Array.isArray(s.items))) {
    problems.push(`${path}: an array needs one items schema`);
  }
  if (s.type !== "array" && s.items !== undefined) problems.push(`${path}: items on a non-array`);
  if (s.type !== "object" && (s.properties !== undefined || s.additionalProperties !== undefined)) {
    problems.push(`${path}: properties on a non-object`);
  }
  if (s.properties !== undefined && s.additionalProperties !== undefined) {
    problems.push(`${path}: properties and additionalProperties are exclusive`);
  }
  if (typeof s.additionalProperties === "boolean")
    problems.push(`${path}: additionalProperties must be a schema`);
  if (s.required !== undefined) {
    const props = (s.properties ?? {}) as Record<string, unknown>;
    if (!Array.isArray(s.required) || s.required.length === 0)
      problems.push(`${path}: required must be non-empty`);
    for (const r of (s.required as unknown[] | undefined) ?? []) {
      if (typeof r !== "string" || !(r in props))
        problems.push(`${path}: required ${String(r)} is not a property`);
    }
  }
  if (s.enum !== undefined) {
    if (!Array.isArray(s.enum) || s.enum.some((v) => !matchesType(v, s.type))) {
      problems.push(`${path}: enum values must match the type`);
    }
  }
  if (s.default !== undefined && !matchesType(s.default, s.type))
    problems.push(`${path}: default must match the type`);
  if (s["x-kubernetes-map-type"] !== undefined && s.type !== "object") {
    problems.push(`${path}: x-kubernetes-map-type on a non-object`);
  }
  for (const [name, child] of Object.entries((s.properties ?? {}) as Record<string, unknown>)) {
    problems.push(...structuralProblems(child, `${path}.properties.${name}`));
  }
  if (typeof s.items === "object") problems.push(...structuralProblems(s.items, `${path}.items`));
  if (typeof s.additionalProperties === "object") {
    problems.push(...structuralProblems(s.additionalProperties, `${path}.additionalProperties`));
  }
  return problems;
}

interface CRD {
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; listKind: string; singular: string };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status: object };
      additionalPrinterColumns: { name: string; type: string; jsonPath: string }[];
      schema: { openAPIV3Schema: JSONSchemaProps };
    }[];
  };
}

function schemaAt(root: JSONSchemaProps, jsonPath: string): JSONSchemaProps | undefined {
  let node: JSONSchemaProps | undefined = root;
  for (const part of jsonPath.split(".").slice(1)) {
    node = (node?.properties as Record<string, JSONSchemaProps> | undefined)?.[part];
  }
  return node;
}

describe("generated CRDs", () => {
  it("match the committed deploy/crds files (run npm run gen:crds when this fails)", () => {
    const rendered = renderCRDs();
    for (const { fileName, yaml } of rendered) {
      let committed = "";
      try {
        committed = readFileSync(join(crdDir, fileName), "utf8");
      } catch {
        committed = "<missing>";
      }
      expect(committed, `deploy/crds/${fileName} is stale: run npm run gen:crds`).toBe(yaml);
    }
    const generated = readdirSync(crdDir).filter((f) => f.startsWith("ironlb.io_"));
    expect(
      generated.sort(),
      "deploy/crds has files for kinds that no longer exist: run npm run gen:crds",
    ).toEqual(rendered.map((r) => r.fileName).sort());
  });

  describe.each(ALL_KINDS.map((def) => [def.kind, def] as const))("%s", (_kind, def) => {
    const crd = parse(readFileSync(join(crdDir, `ironlb.io_${def.plural}.yaml`), "utf8")) as CRD;
    const version = crd.spec.versions[0];
    const schema = version?.schema.openAPIV3Schema ?? {};

    it("is a structural schema at every node", () => {
      expect(structuralProblems(schema, "openAPIV3Schema")).toEqual([]);
    });

    it("names group ironlb.io, one served and stored v1beta1", () => {
      expect(crd.metadata.name).toBe(`${def.plural}.ironlb.io`);
      expect(crd.spec.group).toBe("ironlb.io");
      expect(crd.spec.scope).toBe("Namespaced");
      expect(crd.spec.names).toMatchObject({
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
      });
      expect(crd.spec.versions).toHaveLength(1);
      expect(version).toMatchObject({ name: "v1beta1", served: true, storage: true });
    });

    it("has a status subresource exactly when the kind has a status", () => {
      expect(version?.subresources !== undefined).toBe(def.status !== undefined);
      expect(schemaAt(schema, ".status") !== undefined).toBe(def.status !== undefined);
    });

    it("points every printer column at a field of the schema with the same type", () => {
      for (const column of version?.additionalPrinterColumns ?? []) {
        if (column.jsonPath.startsWith(".metadata.")) continue;
        const field = schemaAt(schema, column.jsonPath);
        expect(field, `${column.name}: ${column.jsonPath}`).toBeDefined();
        if (column.type !== "string") expect(field?.type, column.name).toBe(column.type);
      }
    });
  });

  it.each([
    ["IPAddressPool", ".spec.autoAssign", true],
    ["IPAddressPool", ".spec.avoidBuggyIPs", false],
    ["BGPAdvertisement", ".spec.aggregationLength", 32],
    ["BGPAdvertisement", ".spec.aggregationLengthV6", 128],
    ["BGPPeer", ".spec.peerPort", 179],
    ["BFDProfile", ".spec.receiveInterval", 300],
    ["BFDProfile", ".spec.transmitInterval", 300],
    ["BFDProfile", ".spec.detectMultiplier", 3],
    ["BFDProfile", ".spec.echoInterval", 50],
    ["BFDProfile", ".spec.minimumTtl", 254],
  ])("%s %s defaults to %j", (kind, path, expected) => {
    const def = CONFIG_KINDS.find((k) => k.kind === kind);
    if (!def) throw new Error(kind);
    const schema = (buildCRD(def) as unknown as CRD).spec.versions[0]?.schema.openAPIV3Schema ?? {};
    expect(schemaAt(schema, path)?.default).toEqual(expected);
  });

  it("types the IPAddressPool status counters as int64 integers", () => {
    const def = ALL_KINDS.find((k) => k.kind === "IPAddressPool");
    if (!def) throw new Error("IPAddressPool");
    const schema = (buildCRD(def) as unknown as CRD).spec.versions[0]?.schema.openAPIV3Schema ?? {};
    for (const field of ["assignedIPv4", "assignedIPv6", "availableIPv4", "availableIPv6"]) {
      expect(schemaAt(schema, `.status.${field}`)).toMatchObject({ type: "integer", format: "int64" });
    }
  });
});

describe("the structural-schema checker", () => {
  it.each([
    { description: "an untyped node", schema: { properties: {} }, problem: "missing or unknown type" },
    {
      description: "a $ref",
      schema: { type: "object", $ref: "#/x" },
      problem: "keyword $ref is not allowed",
    },
    { description: "anyOf", schema: { type: "string", anyOf: [] }, problem: "keyword anyOf is not allowed" },
    {
      description: "additionalProperties: false",
      schema: { type: "object", additionalProperties: false },
      problem: "additionalProperties must be a schema",
    },
    {
      description: "an untyped nested array item",
      schema: { type: "object", properties: { a: { type: "array", items: {} } } },
      problem: "openAPIV3Schema.properties.a.items: missing or unknown type",
    },
    {
      description: "a default of the wrong type",
      schema: { type: "integer", default: "1" },
      problem: "default must match the type",
    },
  ])("flags $description", ({ schema, problem }) => {
    expect(structuralProblems(schema, "openAPIV3Schema").join("\n")).toContain(problem);
  });
});

describe("toStructural", () => {
  it.each([
    {
      description: "a string-literal union becomes a typed enum",
      schema: Type.Union([Type.Literal("a"), Type.Literal("b")]),
      expected: { type: "string", enum: ["a", "b"] },
    },
    {
      description: "a record becomes additionalProperties",
      schema: Type.Record(Type.String(), Type.Integer()),
      expected: { type: "object", additionalProperties: { type: "integer" } },
    },
    {
      description: "additionalProperties: false is dropped (the API server prunes instead)",
      schema: Type.Object({ a: Type.String() }, { additionalProperties: false }),
      expected: { type: "object", properties: { a: { type: "string" } }, required: ["a"] },
    },
    {
      description: "validator-only keywords are dropped, x-kubernetes keywords kept",
      schema: Type.String({ errorMessage: "nope", pattern: "^a$", "x-kubernetes-list-type": "atomic" }),
      expected: { type: "string", pattern: "^a$", "x-kubernetes-list-type": "atomic" },
    },
  ])("$description", ({ schema, expected }) => {
    expect(toStructural(schema)).toEqual(expected);
  });

  it.each([
    { description: "a union of objects", schema: Type.Union([Type.Object({}), Type.String()]) },
    { description: "a $ref", schema: { $ref: "#/definitions/x" } },
    { description: "a tuple-style keyword", schema: { type: "array", additionalItems: false } },
  ])("refuses $description", ({ schema }) => {
    expect(() => toStructural(schema)).toThrow(CRDGenerationError);
  });
});
