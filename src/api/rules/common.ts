import type { Findings } from "../configError.js";
import { validateLabelSelector, type LabelSelector } from "../labelSelector.js";

/** Reports every problem of a list of selectors at `path[i]...`; returns true when all parse. */
export function checkSelectors(
  selectors: readonly LabelSelector[] | undefined,
  path: string,
  kind: string,
  name: string,
  findings: Findings,
): boolean {
  let ok = true;
  (selectors ?? []).forEach((selector, i) => {
    for (const problem of validateLabelSelector(selector)) {
      findings.error(
        "InvalidSelector",
        kind,
        name,
        `${path}[${i}]${problem.path}`,
        problem.value,
        problem.message,
      );
      ok = false;
    }
  });
  return ok;
}

/**
 * Warns about names in `list` that are not in `known`; `what` names the referenced kind.
 * A dangling reference is a warning, not an error: it selects nothing until the object exists,
 * and rejecting it would make `kubectl apply` of a multi-document file depend on its order.
 */
export function checkReferences(
  list: readonly string[] | undefined,
  known: ReadonlySet<string>,
  what: string,
  path: string,
  kind: string,
  name: string,
  findings: Findings,
): void {
  (list ?? []).forEach((ref, i) => {
    if (!known.has(ref)) {
      findings.warn(
        "UnknownReference",
        kind,
        name,
        `${path}[${i}]`,
        ref,
        `no ${what} has this name (yet); it selects nothing until one exists`,
      );
    }
  });
}

/** Reports repeated entries of a list (a typo or a merge mistake, never intended). */
export function checkNoRepeats(
  list: readonly string[] | undefined,
  path: string,
  kind: string,
  name: string,
  findings: Findings,
): void {
  const seen = new Map<string, number>();
  (list ?? []).forEach((item, i) => {
    const first = seen.get(item);
    if (first !== undefined) {
      findings.warn("InvalidValue", kind, name, `${path}[${i}]`, item, `repeats ${path}[${first}]`);
    } else {
      seen.set(item, i);
    }
  });
}
