/**
 * Least-privilege RBAC as a table: every (identity, scope, group, resource, verb) IronLB is
 * granted, with the code that needs it (a file and a call found in it). The ClusterRoles and
 * Roles are rendered from this table only; test/unit/deploy/rbac.test.ts checks it both ways
 * (each grant's evidence is in the code, each API call in the code is granted).
 */
import { DEFAULT_WEBHOOK_CONFIGURATION_NAME } from "../webhook/caBundle.js";
import { DEFAULT_WEBHOOK_SECRET_NAME } from "../webhook/manifest.js";

export type Identity = "controller" | "speaker";
/** cluster: a ClusterRole (objects in every namespace, or cluster-scoped); namespace: a Role. */
export type Scope = "cluster" | "namespace";

export interface Evidence {
  /** Repository-relative path of the code that makes the call. */
  readonly file: string;
  /** A literal found in that file: the client call or the informer for the resource. */
  readonly call: string;
}

export interface Grant {
  readonly identity: Identity;
  readonly scope: Scope;
  readonly apiGroup: string;
  /** Plural, or plural/subresource. */
  readonly resource: string;
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly evidence: readonly Evidence[];
}

const IRONLB_CONFIG_KINDS = [
  "ipaddresspools",
  "l2advertisements",
  "bgpadvertisements",
  "bgppeers",
  "bfdprofiles",
  "communities",
] as const;

const CONTROLLER = "src/controller/controller.ts";
const CONTROLLER_KUBE = "src/controller/kube.ts";
const SPEAKER_KUBE = "src/speaker/kube.ts";

export const GRANTS: readonly Grant[] = [
  // ---- controller, cluster-wide
  {
    identity: "controller",
    scope: "cluster",
    apiGroup: "",
    resource: "services",
    verbs: ["get", "list", "watch", "patch"],
    evidence: [
      { file: CONTROLLER_KUBE, call: "core.readNamespacedService(" },
      { file: CONTROLLER, call: "informer(SERVICES" },
      { file: CONTROLLER_KUBE, call: "core.patchNamespacedService(" },
    ],
  },
  {
    identity: "controller",
    scope: "cluster",
    apiGroup: "",
    resource: "services/status",
    verbs: ["update"],
    evidence: [{ file: CONTROLLER_KUBE, call: "core.replaceNamespacedServiceStatus(" }],
  },
  {
    identity: "controller",
    scope: "cluster",
    apiGroup: "",
    resource: "namespaces",
    verbs: ["list", "watch"],
    evidence: [{ file: CONTROLLER, call: "informer(NAMESPACES" }],
  },
  {
    identity: "controller",
    scope: "cluster",
    apiGroup: "events.k8s.io",
    resource: "events",
    verbs: ["create"],
    evidence: [{ file: CONTROLLER_KUBE, call: "events.createNamespacedEvent(" }],
  },
  ...IRONLB_CONFIG_KINDS.map((plural): Grant => ({
    identity: "controller",
    scope: "cluster",
    apiGroup: "metallb.io",
    resource: plural,
    verbs: ["list", "watch"],
    evidence: [{ file: CONTROLLER, call: "createConfigInformers(" }],
  })),
  {
    identity: "controller",
    scope: "cluster",
    apiGroup: "admissionregistration.k8s.io",
    resource: "validatingwebhookconfigurations",
    verbs: ["get", "update"],
    resourceNames: [DEFAULT_WEBHOOK_CONFIGURATION_NAME],
    evidence: [
      { file: "src/webhook/caBundle.ts", call: "api.readValidatingWebhookConfiguration(" },
      { file: "src/webhook/caBundle.ts", call: "api.replaceValidatingWebhookConfiguration(" },
    ],
  },
  // ---- controller, its namespace
  ...IRONLB_CONFIG_KINDS.map((plural): Grant => ({
    identity: "controller",
    scope: "namespace",
    apiGroup: "ironlb.io",
    resource: plural,
    verbs: ["list", "watch"],
    evidence: [{ file: CONTROLLER, call: "createConfigInformers(" }],
  })),
  {
    identity: "controller",
    scope: "namespace",
    apiGroup: "ironlb.io",
    resource: "ipaddresspools/status",
    verbs: ["patch"],
    evidence: [{ file: CONTROLLER_KUBE, call: "customObjects.patchNamespacedCustomObjectStatus(" }],
  },
  {
    identity: "controller",
    scope: "namespace",
    apiGroup: "coordination.k8s.io",
    resource: "leases",
    verbs: ["get", "create", "update"],
    evidence: [
      { file: "src/k8s/leaderElection.ts", call: "api.readNamespacedLease(" },
      { file: "src/k8s/leaderElection.ts", call: "api.createNamespacedLease(" },
      { file: "src/k8s/leaderElection.ts", call: "api.replaceNamespacedLease(" },
    ],
  },
  // The webhook certificate Secret: create cannot be limited by name, read and update can.
  {
    identity: "controller",
    scope: "namespace",
    apiGroup: "",
    resource: "secrets",
    verbs: ["create"],
    evidence: [{ file: "src/webhook/certSecret.ts", call: "core.createNamespacedSecret(" }],
  },
  {
    identity: "controller",
    scope: "namespace",
    apiGroup: "",
    resource: "secrets",
    verbs: ["get", "update"],
    resourceNames: [DEFAULT_WEBHOOK_SECRET_NAME],
    evidence: [
      { file: "src/webhook/certSecret.ts", call: "core.readNamespacedSecret(" },
      { file: "src/webhook/certSecret.ts", call: "core.replaceNamespacedSecret(" },
    ],
  },
  // ---- speaker, cluster-wide
  {
    identity: "speaker",
    scope: "cluster",
    apiGroup: "",
    resource: "services",
    verbs: ["list", "watch"],
    evidence: [{ file: SPEAKER_KUBE, call: "make<V1Service>(coreResources.services)" }],
  },
  {
    identity: "speaker",
    scope: "cluster",
    apiGroup: "discovery.k8s.io",
    resource: "endpointslices",
    verbs: ["list", "watch"],
    evidence: [{ file: SPEAKER_KUBE, call: "make<V1EndpointSlice>(coreResources.endpointSlices)" }],
  },
  {
    identity: "speaker",
    scope: "cluster",
    apiGroup: "",
    resource: "nodes",
    verbs: ["list", "watch"],
    evidence: [{ file: SPEAKER_KUBE, call: "make<V1Node>(coreResources.nodes)" }],
  },
  {
    identity: "speaker",
    scope: "cluster",
    apiGroup: "events.k8s.io",
    resource: "events",
    verbs: ["create"],
    evidence: [{ file: SPEAKER_KUBE, call: ".createNamespacedEvent(" }],
  },
  ...IRONLB_CONFIG_KINDS.map((plural): Grant => ({
    identity: "speaker",
    scope: "cluster",
    apiGroup: "metallb.io",
    resource: plural,
    verbs: ["list", "watch"],
    evidence: [{ file: SPEAKER_KUBE, call: "createConfigInformers(" }],
  })),
  // ---- speaker, its namespace
  ...IRONLB_CONFIG_KINDS.map((plural): Grant => ({
    identity: "speaker",
    scope: "namespace",
    apiGroup: "ironlb.io",
    resource: plural,
    verbs: ["list", "watch"],
    evidence: [{ file: SPEAKER_KUBE, call: "createConfigInformers(" }],
  })),
  {
    identity: "speaker",
    scope: "namespace",
    apiGroup: "ironlb.io",
    resource: "servicel2statuses",
    verbs: ["list", "watch", "create", "delete"],
    evidence: [
      { file: SPEAKER_KUBE, call: "make(SERVICE_L2_STATUSES" },
      { file: SPEAKER_KUBE, call: "api.createNamespacedCustomObject(" },
      { file: SPEAKER_KUBE, call: "api.deleteNamespacedCustomObject(" },
    ],
  },
  {
    identity: "speaker",
    scope: "namespace",
    apiGroup: "ironlb.io",
    resource: "servicel2statuses/status",
    verbs: ["update"],
    evidence: [{ file: SPEAKER_KUBE, call: "api.replaceNamespacedCustomObjectStatus(" }],
  },
  ...(
    [
      ["bgpsessionstates", "src/speaker/bgpSessionStateApi.ts"],
      ["servicebgpstatuses", "src/speaker/bgpServiceStatusApi.ts"],
    ] as const
  ).flatMap(([plural, file]): Grant[] => [
    {
      identity: "speaker",
      scope: "namespace",
      apiGroup: "ironlb.io",
      resource: plural,
      verbs: ["list", "create", "delete"],
      evidence: [
        { file, call: "api.listNamespacedCustomObject(" },
        { file, call: "api.createNamespacedCustomObject(" },
        { file, call: "api.deleteNamespacedCustomObject(" },
      ],
    },
    {
      identity: "speaker",
      scope: "namespace",
      apiGroup: "ironlb.io",
      resource: `${plural}/status`,
      verbs: ["update"],
      evidence: [{ file, call: "api.replaceNamespacedCustomObjectStatus(" }],
    },
  ]),
  {
    // BGP passwords (BGPPeer.passwordSecret), read one by one in the speaker's namespace.
    identity: "speaker",
    scope: "namespace",
    apiGroup: "",
    resource: "secrets",
    verbs: ["get"],
    evidence: [{ file: "src/speaker/bgpKube.ts", call: "core.readNamespacedSecret(" }],
  },
  {
    identity: "speaker",
    scope: "namespace",
    apiGroup: "coordination.k8s.io",
    resource: "leases",
    verbs: ["get", "list", "watch", "create", "update", "delete"],
    evidence: [
      { file: "src/membership/leaseStore.ts", call: "api.readNamespacedLease(" },
      { file: SPEAKER_KUBE, call: "make(coreResources.leases" },
      { file: "src/membership/leaseStore.ts", call: "api.createNamespacedLease(" },
      { file: "src/membership/leaseStore.ts", call: "api.replaceNamespacedLease(" },
      { file: "src/membership/leaseStore.ts", call: "api.deleteNamespacedLease(" },
    ],
  },
];

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/**
 * The rules of one Role or ClusterRole: grants with the same group, verbs and names share a
 * rule; order follows the table, so the output is stable.
 */
export function policyRules(
  identity: Identity,
  scope: Scope,
  grants: readonly Grant[] = GRANTS,
): PolicyRule[] {
  const rules: PolicyRule[] = [];
  const byShape = new Map<string, PolicyRule>();
  for (const grant of grants) {
    if (grant.identity !== identity || grant.scope !== scope) continue;
    const shape = JSON.stringify([grant.apiGroup, grant.verbs, grant.resourceNames ?? []]);
    const existing = byShape.get(shape);
    if (existing !== undefined) {
      existing.resources.push(grant.resource);
      continue;
    }
    const rule: PolicyRule = {
      apiGroups: [grant.apiGroup],
      resources: [grant.resource],
      verbs: [...grant.verbs],
      ...(grant.resourceNames === undefined ? {} : { resourceNames: [...grant.resourceNames] }),
    };
    byShape.set(shape, rule);
    rules.push(rule);
  }
  return rules;
}
