/**
 * Kubernetes label selectors (metav1.LabelSelector): validation with field paths, and matching.
 * Semantics follow apimachinery: matchLabels and matchExpressions are ANDed; an empty selector
 * matches everything.
 */

export type SelectorOperator = "In" | "NotIn" | "Exists" | "DoesNotExist";

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type Labels = Readonly<Record<string, string>>;

export interface SelectorProblem {
  /** Path relative to the selector, e.g. `.matchExpressions[0].operator`. */
  path: string;
  value: unknown;
  message: string;
}

const NAME_PART = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Returns why `key` is not a valid label key, or undefined when it is. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    if (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) {
      return "the prefix must be a DNS subdomain of at most 253 characters";
    }
  }
  if (name.length === 0 || name.length > 63 || !NAME_PART.test(name)) {
    return "the name must be 1-63 alphanumeric characters, '-', '_' or '.', starting and ending alphanumeric";
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63 || !LABEL_VALUE.test(value)) {
    return "a label value must be at most 63 alphanumeric characters, '-', '_' or '.', starting and ending alphanumeric";
  }
  return undefined;
}

export function validateLabelSelector(selector: LabelSelector): SelectorProblem[] {
  const problems: SelectorProblem[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    const kp = labelKeyProblem(key);
    if (kp) problems.push({ path: `.matchLabels[${key}]`, value: key, message: `invalid label key: ${kp}` });
    const vp = labelValueProblem(value);
    if (vp) problems.push({ path: `.matchLabels[${key}]`, value, message: vp });
  }
  (selector.matchExpressions ?? []).forEach((req, i) => {
    const at = `.matchExpressions[${i}]`;
    const kp = labelKeyProblem(req.key);
    if (kp) problems.push({ path: `${at}.key`, value: req.key, message: `invalid label key: ${kp}` });
    const values = req.values ?? [];
    switch (req.operator) {
      case "In":
      case "NotIn":
        if (values.length === 0) {
          problems.push({
            path: `${at}.values`,
            value: values,
            message: `operator ${req.operator} needs at least one value`,
          });
        }
        values.forEach((v, j) => {
          const vp = labelValueProblem(v);
          if (vp) problems.push({ path: `${at}.values[${j}]`, value: v, message: vp });
        });
        break;
      case "Exists":
      case "DoesNotExist":
        if (values.length > 0) {
          problems.push({
            path: `${at}.values`,
            value: values,
            message: `operator ${req.operator} takes no values`,
          });
        }
        break;
      default:
        problems.push({
          path: `${at}.operator`,
          value: req.operator,
          message: "operator must be one of In, NotIn, Exists, DoesNotExist",
        });
    }
  });
  return problems;
}

/** True when `labels` satisfy the selector. Call only on selectors that validated. */
export function matchesSelector(selector: LabelSelector, labels: Labels): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, req.key);
    const value = labels[req.key];
    switch (req.operator) {
      case "In":
        if (!has || value === undefined || !(req.values ?? []).includes(value)) return false;
        break;
      case "NotIn":
        if (has && value !== undefined && (req.values ?? []).includes(value)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** True when any of the selectors matches; an empty list matches everything (MetalLB's rule). */
export function matchesAnySelector(selectors: readonly LabelSelector[], labels: Labels): boolean {
  return selectors.length === 0 || selectors.some((s) => matchesSelector(s, labels));
}
