/** A doctor finding: what is wrong, the objects and fields that show it, and how to fix it. */
export type Severity = "error" | "warning" | "info";

export interface Finding {
  readonly severity: Severity;
  /** Stable identifier of the check, e.g. "PoolExhausted", "KubeProxyStrictARP". */
  readonly code: string;
  readonly title: string;
  /** "namespace/name" of the Service the finding is about, when it is about one. */
  readonly service?: string;
  /** The objects and fields involved, one line each ("Service a/b spec.loadBalancerIP: 192.0.2.7"). */
  readonly evidence: readonly string[];
  readonly fix: string;
}

/** Errors and warnings are problems (non-zero exit); info findings are not. */
export const isProblem = (f: Finding): boolean => f.severity !== "info";

const ORDER: Readonly<Record<Severity, number>> = { error: 0, warning: 1, info: 2 };

export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      ORDER[a.severity] - ORDER[b.severity] ||
      (a.service ?? "").localeCompare(b.service ?? "") ||
      a.code.localeCompare(b.code),
  );
}

export function renderFindings(findings: readonly Finding[]): string {
  if (findings.length === 0) return "No problems found.\n";
  let out = "";
  for (const f of sortFindings(findings)) {
    out += `[${f.severity.toUpperCase()}] ${f.title}${f.service === undefined ? "" : ` (Service ${f.service})`}\n`;
    for (const e of f.evidence) out += `  evidence: ${e}\n`;
    out += `  fix: ${f.fix}\n\n`;
  }
  const problems = findings.filter(isProblem).length;
  out += `${String(problems)} problem${problems === 1 ? "" : "s"} found.\n`;
  return out;
}
