/**
 * The install's knobs: the same tree as the Helm chart's values.yaml, which holds the defaults
 * (one source: the chart and the TypeScript generator read the same file).
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";

export interface ResourceRequirements {
  readonly requests?: Readonly<Record<string, string>>;
  readonly limits?: Readonly<Record<string, string>>;
}

export interface Toleration {
  readonly key?: string;
  readonly operator?: string;
  readonly value?: string;
  readonly effect?: string;
  readonly tolerationSeconds?: number;
}

export interface Placement {
  readonly resources: ResourceRequirements;
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly tolerations: readonly Toleration[];
  readonly affinity: Readonly<Record<string, unknown>>;
}

export interface DeployValues {
  readonly createNamespace: boolean;
  readonly namespace: string;
  readonly image: { readonly repository: string; readonly tag: string; readonly pullPolicy: string };
  readonly logLevel: string;
  readonly loadBalancerClass: string;
  readonly layer2: { readonly enabled: boolean };
  readonly bgp: { readonly enabled: boolean; readonly md5: boolean };
  readonly membership: { readonly secretName: string; readonly port: number };
  readonly metrics: {
    readonly port: number;
    readonly serviceMonitor: {
      readonly enabled: boolean;
      readonly interval: string;
      readonly labels: Readonly<Record<string, string>>;
    };
  };
  readonly webhook: {
    readonly port: number;
    readonly failurePolicy: "Fail" | "Ignore";
    readonly timeoutSeconds: number;
  };
  readonly controller: Placement & { readonly replicas: number; readonly healthPort: number };
  readonly speaker: Placement & { readonly healthPort: number; readonly runOnControlPlane: boolean };
}

/** The chart's folder (charts/ironlb), from src/deploy or dist/deploy alike. */
export const CHART_DIR = new URL("../../charts/ironlb/", import.meta.url);

export class DeployValuesError extends Error {
  override readonly name = "DeployValuesError";
  readonly code = "ERR_DEPLOY_VALUES";
}

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Helm's merge of user values over defaults: maps merge key by key, anything else (lists
 * included) replaces; a null removes the default.
 */
export function mergeValues(defaults: unknown, overrides: unknown): unknown {
  if (!isTree(defaults) || !isTree(overrides)) return overrides === undefined ? defaults : overrides;
  const merged = new Map(Object.entries(defaults));
  for (const [key, value] of Object.entries(overrides)) {
    if (value === null) merged.delete(key);
    else merged.set(key, mergeValues(defaults[key], value));
  }
  return Object.fromEntries(merged);
}

export function readDefaultValues(chartDir: URL = CHART_DIR): DeployValues {
  const parsed: unknown = parse(readFileSync(new URL("values.yaml", chartDir), "utf8"));
  if (!isTree(parsed)) throw new DeployValuesError("charts/ironlb/values.yaml is not a map");
  return parsed as unknown as DeployValues;
}

/** The chart's appVersion: the image tag when values leave it empty. */
export function chartAppVersion(chartDir: URL = CHART_DIR): string {
  const chart: unknown = parse(readFileSync(new URL("Chart.yaml", chartDir), "utf8"));
  const appVersion = isTree(chart) ? chart["appVersion"] : undefined;
  if (typeof appVersion !== "string")
    throw new DeployValuesError("charts/ironlb/Chart.yaml has no appVersion");
  return appVersion;
}

/** Defaults with `overrides` merged in the way `helm template --values` does. */
export function resolveValues(overrides: unknown = {}, chartDir: URL = CHART_DIR): DeployValues {
  return mergeValues(readDefaultValues(chartDir), overrides) as DeployValues;
}
