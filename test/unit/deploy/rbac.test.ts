// The RBAC table both ways: every grant names code that makes the call, and every API call the
// controller's and speaker's code makes is granted (no more, no less).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  AdmissionregistrationV1Api,
  ApiextensionsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  EventsV1Api,
} from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { NAMESPACES, SERVICES } from "../../../src/controller/kube.js";
import { GRANTS, policyRules, type Identity, type Scope } from "../../../src/deploy/rbac.js";
import { IRONLB_CONFIG_RESOURCES, METALLB_CONFIG_RESOURCES } from "../../../src/k8s/configInformers.js";
import type { ListWatchClient } from "../../../src/k8s/listWatch.js";
import type { ResourceRef } from "../../../src/k8s/resource.js";
import { createSpeakerInformers } from "../../../src/speaker/kube.js";

const root = join(import.meta.dirname, "..", "..", "..");
const read = (path: string): string => readFileSync(join(root, path), "utf8");
/** The .ts files in `dir` (and below it when `recursive`); none when it does not exist. */
const tsFiles = (dir: string, recursive = false): string[] =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir), { recursive })
        .map(String)
        .filter((f) => f.endsWith(".ts"))
        .map((f) => `${dir}/${f}`)
    : [];

/** The code each identity runs that talks to the API server. */
const CODE: Record<Identity, string[]> = {
  controller: [
    ...tsFiles("src/controller", true),
    ...tsFiles("src/webhook", true),
    ...tsFiles("src/membership/controller", true),
    "src/k8s/leaderElection.ts",
  ],
  speaker: [...tsFiles("src/speaker", true), ...tsFiles("src/membership")],
};

interface Need {
  readonly identity: Identity;
  readonly apiGroup: string;
  readonly resource: string;
  readonly verb: string;
  /** Namespace-scoped needs are met by the Role or the ClusterRole, cluster-scoped ones only by the latter. */
  readonly scope: Scope;
  readonly where: string;
}

const granted = (need: Need): boolean =>
  GRANTS.some(
    (g) =>
      g.identity === need.identity &&
      g.apiGroup === need.apiGroup &&
      g.resource === need.resource &&
      g.verbs.includes(need.verb) &&
      (g.scope === "cluster" || need.scope === "namespace"),
  );

/** Typed client-node calls: kind in the method name → group and plural. */
const KINDS: Record<string, { apiGroup: string; plural: string }> = {
  Service: { apiGroup: "", plural: "services" },
  Secret: { apiGroup: "", plural: "secrets" },
  Lease: { apiGroup: "coordination.k8s.io", plural: "leases" },
  Event: { apiGroup: "events.k8s.io", plural: "events" },
  ValidatingWebhookConfiguration: {
    apiGroup: "admissionregistration.k8s.io",
    plural: "validatingwebhookconfigurations",
  },
};
/** Files that call CustomObjectsApi, and the one custom resource each call there touches. */
const CUSTOM_OBJECT_TARGETS: Record<string, { apiGroup: string; plural: string }> = {
  "src/controller/kube.ts": { apiGroup: "ironlb.io", plural: "ipaddresspools" },
  "src/speaker/kube.ts": { apiGroup: "ironlb.io", plural: "servicel2statuses" },
  "src/speaker/bgpSessionStateApi.ts": { apiGroup: "ironlb.io", plural: "bgpsessionstates" },
  "src/speaker/bgpServiceStatusApi.ts": { apiGroup: "ironlb.io", plural: "servicebgpstatuses" },
};
const VERBS: Record<string, string> = {
  read: "get",
  list: "list",
  create: "create",
  replace: "update",
  patch: "patch",
  delete: "delete",
};
/** Method names of the client-node APIs IronLB's clients hold (others are our own wrappers). */
const CLIENT_METHODS = new Set(
  [
    AdmissionregistrationV1Api,
    ApiextensionsV1Api,
    CoordinationV1Api,
    CoreV1Api,
    CustomObjectsApi,
    DiscoveryV1Api,
    EventsV1Api,
  ].flatMap((api) => Object.getOwnPropertyNames(api.prototype)),
);
const CALL = /\.(read|list|create|replace|patch|delete)(Namespaced)?([A-Z][A-Za-z]*?)(Status)?\(/g;

function callsIn(identity: Identity, file: string): Need[] {
  const needs: Need[] = [];
  for (const match of read(file).matchAll(CALL)) {
    const [text, action = "", namespaced, kind = "", status] = match;
    if (!CLIENT_METHODS.has(text.slice(1, -1))) continue;
    const target = kind === "CustomObject" ? CUSTOM_OBJECT_TARGETS[file] : KINDS[kind];
    if (target === undefined) throw new Error(`${file}: ${text} — add the kind to this test's tables`);
    needs.push({
      identity,
      apiGroup: target.apiGroup,
      resource: status === undefined ? target.plural : `${target.plural}/status`,
      verb: VERBS[action] ?? action,
      scope: namespaced === undefined && kind !== "ValidatingWebhookConfiguration" ? "cluster" : "namespace",
      where: `${file}: ${text}`,
    });
  }
  return needs;
}

function informerNeeds(
  identity: Identity,
  resource: ResourceRef,
  namespaced: boolean,
  where: string,
): Need[] {
  return ["list", "watch"].map((verb) => ({
    identity,
    apiGroup: resource.group,
    resource: resource.plural,
    verb,
    scope: namespaced ? "namespace" : "cluster",
    where,
  }));
}

const noClient: ListWatchClient = {
  list: () => Promise.reject(new Error("not used")),
  watch: () => Promise.reject(new Error("not used")),
};

function speakerInformerNeeds(): Need[] {
  const informers = createSpeakerInformers({ client: noClient, namespace: "ironlb-system", node: "n1" });
  return informers.all.flatMap((informer) => {
    const options = (informer as unknown as { options: { resource: ResourceRef; namespace?: string } })
      .options;
    return informerNeeds(
      "speaker",
      options.resource,
      options.namespace !== undefined,
      "createSpeakerInformers",
    );
  });
}

const controllerInformerNeeds = (): Need[] => [
  ...informerNeeds("controller", SERVICES, false, "controller informer"),
  ...informerNeeds("controller", NAMESPACES, false, "controller informer"),
  ...IRONLB_CONFIG_RESOURCES.flatMap((r) => informerNeeds("controller", r, true, "controller informer")),
  ...METALLB_CONFIG_RESOURCES.flatMap((r) => informerNeeds("controller", r, false, "controller informer")),
];

describe("every grant is used", () => {
  it.each(GRANTS.map((g) => ({ ...g, label: `${g.identity} ${g.scope} ${g.apiGroup}/${g.resource}` })))(
    "$label: evidence found in the code",
    (grant) => {
      expect(grant.evidence.length).toBeGreaterThan(0);
      for (const { file, call } of grant.evidence)
        expect(read(file), `${file} calls ${call}`).toContain(call);
    },
  );

  it("each granted verb is needed by a call or an informer of that identity", () => {
    const needs = [
      ...(["controller", "speaker"] as const).flatMap((identity) =>
        CODE[identity].flatMap((f) => callsIn(identity, f)),
      ),
      ...controllerInformerNeeds(),
      ...speakerInformerNeeds(),
    ];
    const unused: string[] = [];
    for (const grant of GRANTS)
      for (const verb of grant.verbs) {
        const used = needs.some(
          (n) =>
            n.identity === grant.identity &&
            n.apiGroup === grant.apiGroup &&
            n.resource === grant.resource &&
            n.verb === verb,
        );
        if (!used) unused.push(`${grant.identity}: ${grant.apiGroup}/${grant.resource} ${verb}`);
      }
    expect(unused).toEqual([]);
  });
});

describe("every API call is granted", () => {
  const cases = [
    ...(["controller", "speaker"] as const).flatMap((identity) =>
      CODE[identity].flatMap((f) => callsIn(identity, f)),
    ),
    ...controllerInformerNeeds(),
    ...speakerInformerNeeds(),
  ].map((n) => ({ ...n, label: `${n.identity} ${n.verb} ${n.apiGroup}/${n.resource} (${n.where})` }));

  it("finds the calls (the scan works)", () => {
    expect(cases.filter((c) => c.identity === "controller").length).toBeGreaterThan(10);
    expect(cases.filter((c) => c.identity === "speaker").length).toBeGreaterThan(10);
  });
  it.each(cases)("$label", (need) => {
    expect(granted(need)).toBe(true);
  });
});

describe("policyRules", () => {
  it("groups grants of one shape into one rule and keeps resourceNames apart", () => {
    const rules = policyRules("controller", "namespace");
    const secretRules = rules.filter((r) => r.resources.includes("secrets"));
    expect(secretRules).toEqual([
      { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
      {
        apiGroups: [""],
        resources: ["secrets"],
        verbs: ["get", "update"],
        resourceNames: ["ironlb-webhook-cert"],
      },
    ]);
    const config = rules.find((r) => r.apiGroups[0] === "ironlb.io" && r.verbs.join() === "list,watch");
    expect(config?.resources).toHaveLength(IRONLB_CONFIG_RESOURCES.length);
  });
  it("grants no wildcard", () => {
    for (const g of GRANTS) {
      expect(g.verbs).not.toContain("*");
      expect(g.resource).not.toContain("*");
    }
  });
});
