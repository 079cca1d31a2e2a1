/**
 * The `ironlb doctor` report: every finding from the listed objects (and the webhook checks the
 * CLI performed), sorted by severity. Pure.
 */
import {
  buildClusterModel,
  type ClusterObjects,
  type ConfigMapObject,
  type ModelOptions,
} from "./cluster.js";
import {
  configFindings,
  kubeProxyFindings,
  overlapFindings,
  poolClaimsFromLegacyConfigMap,
  poolClaimsFromObjects,
  webhookFindings,
  type WebhookCheck,
} from "./clusterChecks.js";
import { bgpSessionFindings, bgpSessionRows } from "./bgpSessions.js";
import { isProblem, sortFindings, type Finding } from "./findings.js";
import { serviceFindings } from "./serviceFindings.js";

export interface DoctorInputs extends ClusterObjects {
  /** ConfigMap kube-system/kube-proxy, when it exists. */
  readonly kubeProxyConfigMap: ConfigMapObject | undefined;
  /** MetalLB's legacy ConfigMap (metallb-system/config), when it exists. */
  readonly metallbConfigMap: ConfigMapObject | undefined;
  readonly webhooks: readonly WebhookCheck[];
}

export interface DoctorOptions extends ModelOptions {
  /** "namespace/name": diagnose this Service only (cluster checks still run). */
  readonly target?: string | undefined;
}

export interface DoctorReport {
  readonly findings: readonly Finding[];
  readonly problems: number;
}

export function buildDoctorReport(inputs: DoctorInputs, options: DoctorOptions): DoctorReport {
  const model = buildClusterModel(inputs, options);
  const findings: Finding[] = [];
  if (options.target !== undefined && !model.services.has(options.target)) {
    findings.push({
      severity: "error",
      code: "ServiceNotFound",
      title: `no LoadBalancer Service ${options.target}`,
      service: options.target,
      evidence: [`Service ${options.target}: not found, or not of type LoadBalancer`],
      fix: "check the namespace and name (ironlb doctor NAMESPACE/NAME), and that spec.type is LoadBalancer",
    });
  }
  if (!model.validation.ok) findings.push(...configFindings(model.validation.errors));
  findings.push(
    ...overlapFindings([
      ...poolClaimsFromObjects(inputs.ironlbConfig, "IronLB"),
      ...poolClaimsFromObjects(inputs.metallbConfig, "MetalLB"),
      ...poolClaimsFromLegacyConfigMap(inputs.metallbConfigMap),
    ]),
  );
  findings.push(...kubeProxyFindings(inputs.kubeProxyConfigMap));
  findings.push(...webhookFindings(inputs.webhooks));
  findings.push(...bgpSessionFindings(bgpSessionRows(inputs.bgpSessions), options.now));
  findings.push(...serviceFindings(inputs, model, { target: options.target }));
  const sorted = sortFindings(findings);
  return { findings: sorted, problems: sorted.filter(isProblem).length };
}
