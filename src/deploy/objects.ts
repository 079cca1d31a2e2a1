/**
 * Every Kubernetes object of an IronLB install, from values (charts/ironlb/values.yaml merged
 * with overrides). deploy/ironlb.yaml is this with the defaults; the Helm chart's templates
 * render the same objects, which test/integration/helm-chart.test.ts checks for several value sets.
 */
import { readdirSync, readFileSync } from "node:fs";
import { parse } from "yaml";
import { DEFAULT_MEMBERSHIP_KEY_DIR } from "../membership/secret.js";
import { DEFAULT_WEBHOOK_SERVICE_NAME, validatingWebhookConfiguration } from "../webhook/manifest.js";
import { policyRules, type Identity } from "./rbac.js";
import { chartAppVersion, type DeployValues, type Placement } from "./values.js";

export type KubeObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

export const NAMES = {
  controller: "ironlb-controller",
  speaker: "ironlb-speaker",
  webhookService: DEFAULT_WEBHOOK_SERVICE_NAME,
  controllerMetrics: "ironlb-controller-metrics",
  speakerMetrics: "ironlb-speaker-metrics",
} as const;

const labels = (component?: string): Record<string, string> => ({
  "app.kubernetes.io/name": "ironlb",
  ...(component === undefined ? {} : { "app.kubernetes.io/component": component }),
});

const clusterRoleName = (identity: Identity): string => `ironlb:${identity}`;

/** Empty maps and lists are left out, the way the chart's `with` blocks leave them out. */
function placement(p: Placement): Record<string, unknown> {
  return {
    ...(Object.keys(p.nodeSelector).length > 0 && { nodeSelector: p.nodeSelector }),
    ...(Object.keys(p.affinity).length > 0 && { affinity: p.affinity }),
  };
}

function imageOf(values: DeployValues): string {
  const tag = values.image.tag === "" ? chartAppVersion() : values.image.tag;
  return `${values.image.repository}:${tag}`;
}

function commonArgs(values: DeployValues, healthPort: number): string[] {
  return [
    `--namespace=${values.namespace}`,
    `--metrics-addr=:${values.metrics.port}`,
    `--health-addr=:${healthPort}`,
    `--log-level=${values.logLevel}`,
    ...(values.loadBalancerClass === "" ? [] : [`--lb-class=${values.loadBalancerClass}`]),
  ];
}

const probes = (port: string): Record<string, unknown> => ({
  livenessProbe: {
    httpGet: { path: "/healthz", port },
    initialDelaySeconds: 10,
    periodSeconds: 10,
    failureThreshold: 3,
  },
  readinessProbe: { httpGet: { path: "/readyz", port }, periodSeconds: 5, failureThreshold: 3 },
});

/** The capabilities the speaker's code paths need: raw sockets for ARP/NDP, NET_ADMIN for TCP-MD5. */
export function speakerCapabilities(values: DeployValues): string[] {
  return [
    ...(values.layer2.enabled ? ["NET_RAW"] : []),
    ...(values.bgp.enabled && values.bgp.md5 ? ["NET_ADMIN"] : []),
  ];
}

function rbacObjects(values: DeployValues): KubeObject[] {
  const ns = values.namespace;
  const identities: Identity[] = speakerEnabled(values) ? ["controller", "speaker"] : ["controller"];
  const subjects = (identity: Identity) => [{ kind: "ServiceAccount", name: NAMES[identity], namespace: ns }];
  return [
    ...identities.map((identity) => ({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: NAMES[identity], namespace: ns, labels: labels(identity) },
    })),
    ...identities.map((identity) => ({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: clusterRoleName(identity), labels: labels(identity) },
      rules: policyRules(identity, "cluster"),
    })),
    ...identities.map((identity) => ({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: clusterRoleName(identity), labels: labels(identity) },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: clusterRoleName(identity),
      },
      subjects: subjects(identity),
    })),
    ...identities.map((identity) => ({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: NAMES[identity], namespace: ns, labels: labels(identity) },
      rules: policyRules(identity, "namespace"),
    })),
    ...identities.map((identity) => ({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: NAMES[identity], namespace: ns, labels: labels(identity) },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: NAMES[identity] },
      subjects: subjects(identity),
    })),
  ];
}

const speakerEnabled = (values: DeployValues): boolean => values.layer2.enabled || values.bgp.enabled;

function controllerDeployment(values: DeployValues): KubeObject {
  const c = values.controller;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: NAMES.controller, namespace: values.namespace, labels: labels("controller") },
    spec: {
      replicas: c.replicas,
      selector: { matchLabels: labels("controller") },
      template: {
        metadata: { labels: labels("controller") },
        spec: {
          serviceAccountName: NAMES.controller,
          terminationGracePeriodSeconds: 10,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            runAsGroup: 65532,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: "controller",
              image: imageOf(values),
              imagePullPolicy: values.image.pullPolicy,
              args: [
                "controller",
                "--leader-elect",
                `--webhook-addr=:${values.webhook.port}`,
                ...commonArgs(values, c.healthPort),
              ],
              ports: [
                { name: "webhook", containerPort: values.webhook.port, protocol: "TCP" },
                { name: "metrics", containerPort: values.metrics.port, protocol: "TCP" },
                { name: "health", containerPort: c.healthPort, protocol: "TCP" },
              ],
              ...probes("health"),
              resources: c.resources,
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
          ],
          volumes: [{ name: "tmp", emptyDir: {} }],
          ...placement(c),
          ...(c.tolerations.length > 0 && { tolerations: c.tolerations }),
        },
      },
    },
  };
}

/** Keeps one controller replica (and so the webhook) up through node drains. */
function controllerDisruptionBudget(values: DeployValues): KubeObject {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: NAMES.controller, namespace: values.namespace, labels: labels("controller") },
    spec: { minAvailable: 1, selector: { matchLabels: labels("controller") } },
  };
}

const CONTROL_PLANE_TOLERATIONS = [
  { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
  { key: "node-role.kubernetes.io/master", operator: "Exists", effect: "NoSchedule" },
];

/** Where the speaker keeps its graceful-restart marker (an emptyDir: the root filesystem is read-only). */
export const BGP_STATE_DIR = "/var/lib/ironlb/bgp";

function speakerDaemonSet(values: DeployValues): KubeObject {
  const s = values.speaker;
  const tolerations = [...(s.runOnControlPlane ? CONTROL_PLANE_TOLERATIONS : []), ...s.tolerations];
  const membershipSecret = values.membership.secretName;
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: NAMES.speaker, namespace: values.namespace, labels: labels("speaker") },
    spec: {
      selector: { matchLabels: labels("speaker") },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels: labels("speaker") },
        spec: {
          serviceAccountName: NAMES.speaker,
          hostNetwork: true,
          dnsPolicy: "ClusterFirstWithHostNet",
          // Stop answering quickly so another node takes over.
          terminationGracePeriodSeconds: 5,
          securityContext: { seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: "speaker",
              image: imageOf(values),
              imagePullPolicy: values.image.pullPolicy,
              args: ["speaker", ...commonArgs(values, s.healthPort), `--bgp-state-dir=${BGP_STATE_DIR}`],
              env: [{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
              ports: [
                { name: "metrics", containerPort: values.metrics.port, protocol: "TCP" },
                { name: "health", containerPort: s.healthPort, protocol: "TCP" },
                { name: "memberlist-tcp", containerPort: values.membership.port, protocol: "TCP" },
                { name: "memberlist-udp", containerPort: values.membership.port, protocol: "UDP" },
              ],
              ...probes("health"),
              resources: s.resources,
              // Root inside the container only for the added capabilities; everything else dropped.
              securityContext: {
                runAsUser: 0,
                runAsNonRoot: false,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: {
                  drop: ["ALL"],
                  ...(speakerCapabilities(values).length > 0 && { add: speakerCapabilities(values) }),
                },
              },
              volumeMounts: [
                ...(membershipSecret !== ""
                  ? [{ name: "membership", mountPath: DEFAULT_MEMBERSHIP_KEY_DIR, readOnly: true }]
                  : []),
                { name: "bgp-state", mountPath: BGP_STATE_DIR },
              ],
            },
          ],
          volumes: [
            ...(membershipSecret !== ""
              ? [
                  {
                    name: "membership",
                    secret: { secretName: membershipSecret, defaultMode: 0o400, optional: true },
                  },
                ]
              : []),
            // Outlives a container restart (crash, liveness kill), so the restarted speaker's
            // OPEN carries the graceful-restart R bit and routers keep its routes meanwhile.
            { name: "bgp-state", emptyDir: {} },
          ],
          ...placement(s),
          ...(tolerations.length > 0 && { tolerations }),
        },
      },
    },
  };
}

function service(
  values: DeployValues,
  name: string,
  component: string,
  port: { name: string; port: number; targetPort: string },
): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: values.namespace, labels: labels(component) },
    spec: {
      selector: labels(component),
      ports: [{ name: port.name, port: port.port, targetPort: port.targetPort, protocol: "TCP" }],
    },
  };
}

function serviceMonitor(values: DeployValues, component: string): KubeObject {
  const sm = values.metrics.serviceMonitor;
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: {
      name: `ironlb-${component}`,
      namespace: values.namespace,
      labels: { ...labels(component), ...sm.labels },
    },
    spec: {
      selector: { matchLabels: labels(component) },
      namespaceSelector: { matchNames: [values.namespace] },
      endpoints: [{ port: "metrics", interval: sm.interval }],
    },
  };
}

/** deploy/crds (written by `npm run gen:crds`, checked against src/api by its test). */
export const CRD_DIR = new URL("../../deploy/crds/", import.meta.url);

/** The CustomResourceDefinitions as deploy/crds holds them (the chart's crds/ links there). */
export function crdObjects(dir: URL = CRD_DIR): KubeObject[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => parse(readFileSync(new URL(f, dir), "utf8")) as KubeObject);
}

/** All objects of an install, in apply order. */
export function renderObjects(values: DeployValues): KubeObject[] {
  const withSpeaker = speakerEnabled(values);
  const monitor = values.metrics.serviceMonitor.enabled;
  const metricsPort = { name: "metrics", port: values.metrics.port, targetPort: "metrics" };
  return [
    ...(values.createNamespace
      ? [{ apiVersion: "v1", kind: "Namespace", metadata: { name: values.namespace, labels: labels() } }]
      : []),
    ...crdObjects(),
    ...rbacObjects(values),
    service(values, NAMES.webhookService, "controller", {
      name: "webhook",
      port: 443,
      targetPort: "webhook",
    }),
    ...(monitor ? [service(values, NAMES.controllerMetrics, "controller", metricsPort)] : []),
    ...(monitor && withSpeaker ? [service(values, NAMES.speakerMetrics, "speaker", metricsPort)] : []),
    controllerDeployment(values),
    ...(values.controller.replicas > 1 ? [controllerDisruptionBudget(values)] : []),
    ...(withSpeaker ? [speakerDaemonSet(values)] : []),
    validatingWebhookConfiguration({
      namespace: values.namespace,
      serviceName: NAMES.webhookService,
      failurePolicy: values.webhook.failurePolicy,
      timeoutSeconds: values.webhook.timeoutSeconds,
    }) as unknown as KubeObject,
    ...(monitor ? [serviceMonitor(values, "controller")] : []),
    ...(monitor && withSpeaker ? [serviceMonitor(values, "speaker")] : []),
  ];
}
