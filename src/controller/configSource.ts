/**
 * The controller's configuration: IronLB objects in its namespace plus, when MetalLB's CRDs are
 * installed, metallb.io objects converted the way `ironlb migrate` converts them. Validated as a
 * whole by the shared validateConfig; an invalid configuration never replaces the last good one.
 */
import { configInputFromObjects, validateConfig, type ConfigInput } from "../api/config.js";
import type { ConfigError } from "../api/configError.js";
import type { IronLBConfig } from "../api/configTypes.js";
import { convertMetalLBObject } from "../compat/metallbCRs.js";
import { ConversionSink, type ConversionIssue } from "../compat/types.js";
import type { CustomObject } from "./objects.js";

export interface ConfigObjects {
  /** ironlb.io configuration objects (any kind), as read from the API. */
  readonly ironlb: readonly CustomObject[];
  /** metallb.io configuration objects (any kind); empty when MetalLB's CRDs are absent. */
  readonly metallb: readonly CustomObject[];
}

export interface AssembledConfig {
  readonly input: ConfigInput;
  /** Equal fingerprints mean equal configuration input (names, labels and specs). */
  readonly fingerprint: string;
  /** What could not be carried over from MetalLB objects. */
  readonly conversionIssues: readonly ConversionIssue[];
  /** MetalLB objects left out because an IronLB object of the same kind and name exists. */
  readonly shadowed: readonly string[];
}

/** Builds the validation input from the objects of both APIs (IronLB's win on a name clash). */
export function assembleConfig(objects: ConfigObjects, namespace: string): AssembledConfig {
  const ours = objects.ironlb.map((o) => ({
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: {
      name: o.metadata?.name,
      namespace: o.metadata?.namespace,
      ...(o.metadata?.labels !== undefined && { labels: o.metadata.labels }),
    },
    spec: o.spec,
  }));
  const taken = new Set(ours.map((o) => `${o.kind ?? ""}/${o.metadata.name ?? ""}`));
  const sink = new ConversionSink({ namespace });
  for (const obj of sortedByName(objects.metallb)) {
    convertMetalLBObject(obj as Record<string, unknown>, sink);
  }
  const shadowed: string[] = [];
  const converted = sink.objects.filter((o) => {
    const id = `${o.kind}/${o.metadata.name}`;
    if (!taken.has(id)) return true;
    shadowed.push(id);
    return false;
  });
  const all = [...sortedByName(ours), ...converted];
  const { input } = configInputFromObjects(all);
  return { input, fingerprint: JSON.stringify(all), conversionIssues: sink.issues, shadowed };
}

function sortedByName<
  T extends {
    readonly kind?: string | undefined;
    readonly metadata?: { readonly name?: string | undefined } | undefined;
  },
>(list: readonly T[]): T[] {
  const id = (o: T): string => `${o.kind ?? ""}/${o.metadata?.name ?? ""}`;
  return [...list].sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
}

export type ConfigUpdate =
  /** Same input as the configuration in force: nothing to do. */
  | { readonly kind: "unchanged" }
  /** A new valid configuration is in force. */
  | { readonly kind: "applied"; readonly config: IronLBConfig; readonly warnings: readonly ConfigError[] }
  /** The input is invalid; the last good configuration (if any) stays in force. */
  | {
      readonly kind: "rejected";
      readonly errors: readonly ConfigError[];
      readonly lastGood: IronLBConfig | undefined;
    };

/** Keeps the configuration in force and whether the cluster's input is currently invalid. */
export class ConfigTracker {
  private good: IronLBConfig | undefined;
  private goodFingerprint: string | undefined;
  private rejectedFingerprint: string | undefined;
  private lastErrors: readonly ConfigError[] = [];

  /** The configuration in force, or undefined before the first valid one. */
  get current(): IronLBConfig | undefined {
    return this.good;
  }

  /** True while the cluster's configuration is invalid (the last good one, if any, is used). */
  get stale(): boolean {
    return this.rejectedFingerprint !== undefined;
  }

  get errors(): readonly ConfigError[] {
    return this.lastErrors;
  }

  update(assembled: AssembledConfig): ConfigUpdate {
    const { fingerprint } = assembled;
    if (fingerprint === this.goodFingerprint && this.rejectedFingerprint === undefined) {
      return { kind: "unchanged" };
    }
    if (fingerprint === this.rejectedFingerprint) {
      return { kind: "rejected", errors: this.lastErrors, lastGood: this.good };
    }
    const result = validateConfig(assembled.input);
    if (!result.ok) {
      this.rejectedFingerprint = fingerprint;
      this.lastErrors = result.errors;
      return { kind: "rejected", errors: result.errors, lastGood: this.good };
    }
    this.rejectedFingerprint = undefined;
    this.lastErrors = [];
    // Back to the configuration already in force (an invalid edit was reverted): nothing changes.
    if (fingerprint === this.goodFingerprint) return { kind: "unchanged" };
    this.good = result.config;
    this.goodFingerprint = fingerprint;
    return { kind: "applied", config: result.config, warnings: result.warnings };
  }
}
