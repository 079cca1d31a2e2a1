import { appendPath } from "../api/schemaErrors.js";
import { isRecord, type ConversionSink } from "./types.js";

/** How one source field converts: to a target field (optionally transformed), or dropped with a reason. */
export type FieldRule =
  | string
  | { readonly to: string; readonly convert: (value: unknown, path: string) => unknown }
  | { readonly drop: string; readonly when?: (value: unknown) => boolean }
  /** Known and handled by the caller (a name, a protocol). */
  | { readonly skip: true };

/**
 * Copies the fields of `source` named in `rules` into a new object under their target names.
 * Unknown fields and fields with a `drop` rule are reported as dropped (a `drop` rule with `when`
 * drops only values it matches; others, e.g. a default, vanish silently). Values are copied
 * as-is: validateConfig judges them afterwards, so a bad value is reported once, with its path.
 */
export function convertFields(
  source: Record<string, unknown>,
  rules: Readonly<Record<string, FieldRule>>,
  sink: ConversionSink,
  from: string,
  path: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    const at = appendPath(path, key);
    const rule = rules[key];
    if (value === undefined || value === null) continue;
    if (rule === undefined) {
      sink.dropped(from, at, "unknown field, not converted");
    } else if (typeof rule === "string") {
      out[rule] = value;
    } else if ("skip" in rule) {
      continue;
    } else if ("drop" in rule) {
      if (!rule.when || rule.when(value)) sink.dropped(from, at, rule.drop);
    } else {
      const converted = rule.convert(value, at);
      if (converted !== undefined) out[rule.to] = converted;
    }
  }
  return out;
}

/** Converts each element of a list with `convert`; a non-list is passed through for validation. */
export function convertList(
  value: unknown,
  path: string,
  convert: (item: unknown, path: string) => unknown,
): unknown {
  return Array.isArray(value) ? value.map((item, i) => convert(item, `${path}[${i}]`)) : value;
}

/** MetalLB's legacy ConfigMap spells selectors in kebab case. */
export function legacySelector(sink: ConversionSink, from: string) {
  return (value: unknown, path: string): unknown => {
    if (!isRecord(value)) return value;
    return convertFields(
      value,
      {
        "match-labels": "matchLabels",
        "match-expressions": "matchExpressions",
        matchLabels: "matchLabels",
        matchExpressions: "matchExpressions",
      },
      sink,
      from,
      path,
    );
  };
}
