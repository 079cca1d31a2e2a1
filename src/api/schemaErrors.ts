import type { TSchema } from "@sinclair/typebox";
import { ValueErrorType, type ValueError } from "@sinclair/typebox/errors";
import { Value } from "@sinclair/typebox/value";

/** A schema problem at a field path such as `spec.nodeSelectors[0].matchLabels`. */
export interface SchemaProblem {
  readonly path: string;
  readonly value: unknown;
  readonly message: string;
  /** true: an unknown field, which the API server would prune; reported as a warning. */
  readonly unknownField: boolean;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** Appends one path segment: `[3]` for indexes, `.name` for names (kebab-case too), `[odd/key]` otherwise. */
export function appendPath(path: string, segment: string | number): string {
  if (typeof segment === "number" || /^\d+$/.test(segment)) return `${path}[${segment}]`;
  if (IDENTIFIER.test(segment)) return path === "" ? segment : `${path}.${segment}`;
  return `${path}[${segment}]`;
}

/** Converts a JSON pointer ("/addresses/1") into a field path under `prefix` ("spec.addresses[1]"). */
export function pointerToPath(prefix: string, pointer: string): string {
  if (pointer === "") return prefix;
  return pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce<string>((path, segment) => appendPath(path, segment), prefix);
}

function keyword(schema: TSchema, name: string): unknown {
  return (schema as Record<string, unknown>)[name];
}

function describe(error: ValueError): string {
  const s = error.schema;
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return "is required";
    case ValueErrorType.ObjectAdditionalProperties:
      return "unknown field (ignored)";
    case ValueErrorType.Object:
      return "must be an object";
    case ValueErrorType.Array:
      return "must be a list";
    case ValueErrorType.String:
      return "must be a string";
    case ValueErrorType.Boolean:
      return "must be true or false";
    case ValueErrorType.Integer:
      return "must be an integer";
    case ValueErrorType.Number:
      return "must be a number";
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum:
      return `must be at least ${String(keyword(s, "minimum"))}`;
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMaximum:
      return `must be at most ${String(keyword(s, "maximum"))}`;
    case ValueErrorType.ArrayMinItems: {
      const min = Number(keyword(s, "minItems"));
      return min === 1 ? "must not be empty" : `must have at least ${min} items`;
    }
    case ValueErrorType.StringMinLength: {
      const min = Number(keyword(s, "minLength"));
      return min === 1 ? "must not be empty" : `must be at least ${min} characters long`;
    }
    case ValueErrorType.StringMaxLength:
      return `must be at most ${String(keyword(s, "maxLength"))} characters long`;
    case ValueErrorType.StringPattern: {
      const custom = keyword(s, "errorMessage");
      return typeof custom === "string" ? custom : `must match ${String(keyword(s, "pattern"))}`;
    }
    case ValueErrorType.Union: {
      const options = keyword(s, "anyOf");
      if (
        Array.isArray(options) &&
        options.every((o) => typeof (o as { const?: unknown }).const === "string")
      ) {
        return `must be one of ${options.map((o) => JSON.stringify((o as { const: string }).const)).join(", ")}`;
      }
      return "does not match any allowed form";
    }
    default:
      return error.message;
  }
}

/**
 * Every schema problem of `value`, one per field path (TypeBox reports a missing field both as
 * "required" and as a type mismatch; the first, clearer one is kept).
 */
export function schemaProblems(schema: TSchema, value: unknown, prefix: string): SchemaProblem[] {
  const seen = new Set<string>();
  const problems: SchemaProblem[] = [];
  for (const error of Value.Errors(schema, value)) {
    const path = pointerToPath(prefix, error.path);
    if (seen.has(path)) continue;
    seen.add(path);
    problems.push({
      path,
      value: error.value,
      message: describe(error),
      unknownField: error.type === ValueErrorType.ObjectAdditionalProperties,
    });
  }
  return problems;
}
