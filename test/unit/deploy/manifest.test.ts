// The plain manifest and the chart's generated parts are what src/deploy renders now, and the
// rendered objects carry what the install needs (leader election, probes, least capabilities).
import { lstatSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { rbacTemplate, webhookTemplate } from "../../../src/deploy/chartTemplates.js";
import { defaultManifest } from "../../../src/deploy/manifest.js";
import {
  BGP_STATE_DIR,
  renderObjects,
  speakerCapabilities,
  type KubeObject,
} from "../../../src/deploy/objects.js";
import { chartAppVersion, resolveValues } from "../../../src/deploy/values.js";
import { DEFAULT_MEMBERSHIP_KEY_DIR, MEMBERSHIP_SECRET_NAME } from "../../../src/membership/secret.js";

const root = join(import.meta.dirname, "..", "..", "..");
const read = (path: string): string => readFileSync(join(root, path), "utf8");

type Container = {
  args: string[];
  image: string;
  env?: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  securityContext: { capabilities: { drop: string[]; add?: string[] }; readOnlyRootFilesystem: boolean };
  livenessProbe: { httpGet: { path: string } };
  volumeMounts?: unknown[];
  readinessProbe: { httpGet: { path: string } };
};
type PodSpec = {
  hostNetwork?: boolean;
  securityContext: { runAsNonRoot?: boolean };
  containers: Container[];
  tolerations?: { key: string }[];
  nodeSelector?: Record<string, string>;
  volumes?: unknown[];
};
type Workload = KubeObject & { spec: { replicas?: number; template: { spec: PodSpec } } };

const find = (objects: KubeObject[], kind: string, name?: string): KubeObject | undefined =>
  objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const workload = (objects: KubeObject[], kind: string): Workload => {
  const found = find(objects, kind);
  if (found === undefined) throw new Error(`no ${kind}`);
  return found as Workload;
};
const container = (w: Workload): Container => {
  const c = w.spec.template.spec.containers[0];
  if (c === undefined) throw new Error("no container");
  return c;
};

describe("generated files are current (npm run gen:manifests)", () => {
  it("deploy/ironlb.yaml is the default render", () => {
    expect(read("deploy/ironlb.yaml")).toBe(defaultManifest());
  });
  it("charts/ironlb/templates/rbac.yaml and webhook.yaml come from the generator", () => {
    expect(read("charts/ironlb/templates/rbac.yaml")).toBe(rbacTemplate());
    expect(read("charts/ironlb/templates/webhook.yaml")).toBe(webhookTemplate());
  });
  it("charts/ironlb/crds is a link to deploy/crds (one copy of the CRDs)", () => {
    const crds = join(root, "charts", "ironlb", "crds");
    expect(lstatSync(crds).isSymbolicLink()).toBe(true);
    expect(realpathSync(crds)).toBe(realpathSync(join(root, "deploy", "crds")));
    expect(readdirSync(crds).filter((f) => f.endsWith(".yaml")).length).toBeGreaterThan(5);
  });
  it("the chart's appVersion is the package version (the image tag)", () => {
    const pkg = JSON.parse(read("package.json")) as { version: string };
    expect(chartAppVersion()).toBe(pkg.version);
  });
  it("every document of deploy/ironlb.yaml parses, one object each", () => {
    const docs = parseAllDocuments(read("deploy/ironlb.yaml"));
    for (const doc of docs) expect(doc.errors).toEqual([]);
    expect(docs.map((d) => (d.toJS() as KubeObject).kind)).toContain("Namespace");
  });
});

describe("the default install", () => {
  const objects = renderObjects(resolveValues({ createNamespace: true }));

  it("puts everything namespaced in ironlb-system", () => {
    const namespaced = objects.filter((o) => o.metadata.namespace !== undefined);
    expect(namespaced.length).toBeGreaterThan(5);
    for (const o of namespaced) expect(o.metadata.namespace).toBe("ironlb-system");
  });

  it("runs the controller twice with leader election, the webhook, probes and no privileges", () => {
    const deployment = workload(objects, "Deployment");
    const c = container(deployment);
    expect(deployment.spec.replicas).toBe(2);
    expect(c.args.slice(0, 3)).toEqual(["controller", "--leader-elect", "--webhook-addr=:9443"]);
    expect(c.image).toBe(`ghcr.io/ironlb/ironlb:${chartAppVersion()}`);
    expect(c.livenessProbe.httpGet.path).toBe("/healthz");
    expect(c.readinessProbe.httpGet.path).toBe("/readyz");
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(c.securityContext.capabilities).toEqual({ drop: ["ALL"] });
  });

  it("runs the speaker on the host network with NET_RAW only and its node name from the pod", () => {
    const daemonSet = workload(objects, "DaemonSet");
    const c = container(daemonSet);
    expect(daemonSet.spec.template.spec.hostNetwork).toBe(true);
    expect(c.securityContext.capabilities).toEqual({ drop: ["ALL"], add: ["NET_RAW"] });
    expect(c.env).toContainEqual({
      name: "NODE_NAME",
      valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } },
    });
    expect(daemonSet.spec.template.spec.tolerations).toBeUndefined();
  });

  it("mounts the membership Secret read-only where the speaker reads its keys, optional until created", () => {
    const daemonSet = workload(objects, "DaemonSet");
    expect(daemonSet.spec.template.spec.volumes).toContainEqual({
      name: "membership",
      secret: { secretName: MEMBERSHIP_SECRET_NAME, defaultMode: 0o400, optional: true },
    });
    expect(daemonSet.spec.template.spec.containers[0]?.volumeMounts).toContainEqual({
      name: "membership",
      mountPath: DEFAULT_MEMBERSHIP_KEY_DIR,
      readOnly: true,
    });
  });

  it("gives the speaker a writable emptyDir for its graceful-restart marker and points --bgp-state-dir at it", () => {
    const daemonSet = workload(objects, "DaemonSet");
    const c = container(daemonSet);
    expect(daemonSet.spec.template.spec.volumes).toContainEqual({ name: "bgp-state", emptyDir: {} });
    expect(c.volumeMounts).toContainEqual({ name: "bgp-state", mountPath: BGP_STATE_DIR });
    expect(c.args).toContain(`--bgp-state-dir=${BGP_STATE_DIR}`);
    // The root filesystem is read-only: the marker can only live on the mounted volume.
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
  });

  it("keeps the state volume without a membership Secret", () => {
    const withoutSecret = renderObjects(resolveValues({ membership: { secretName: "" } }));
    const daemonSet = workload(withoutSecret, "DaemonSet");
    expect(daemonSet.spec.template.spec.volumes).toEqual([{ name: "bgp-state", emptyDir: {} }]);
    expect(container(daemonSet).volumeMounts).toEqual([{ name: "bgp-state", mountPath: BGP_STATE_DIR }]);
  });

  it("points the webhook configuration at the webhook Service", () => {
    const vwc = find(objects, "ValidatingWebhookConfiguration") as KubeObject & {
      webhooks: { clientConfig: { service: { name: string; namespace: string } } }[];
    };
    const service = find(objects, "Service", "ironlb-webhook-service");
    expect(service).toBeDefined();
    for (const hook of vwc.webhooks)
      expect(hook.clientConfig.service).toMatchObject({
        name: "ironlb-webhook-service",
        namespace: "ironlb-system",
      });
  });

  it("keeps one controller replica up through drains", () => {
    expect(find(objects, "PodDisruptionBudget", "ironlb-controller")).toMatchObject({
      spec: { minAvailable: 1, selector: { matchLabels: { "app.kubernetes.io/component": "controller" } } },
    });
  });

  it("has no ServiceMonitor unless asked", () => {
    expect(find(objects, "ServiceMonitor")).toBeUndefined();
  });
});

describe("values change the objects", () => {
  const cases: {
    description: string;
    values: Record<string, unknown>;
    check: (objects: KubeObject[]) => void;
  }[] = [
    {
      description: "BGP with MD5 adds NET_ADMIN",
      values: { bgp: { enabled: true, md5: true } },
      check: (o) => {
        expect(container(workload(o, "DaemonSet")).securityContext.capabilities.add).toEqual([
          "NET_RAW",
          "NET_ADMIN",
        ]);
      },
    },
    {
      description: "BGP without MD5 and no layer 2 adds no capability",
      values: { bgp: { enabled: true }, layer2: { enabled: false } },
      check: (o) => {
        expect(container(workload(o, "DaemonSet")).securityContext.capabilities).toEqual({ drop: ["ALL"] });
      },
    },
    {
      description: "neither layer 2 nor BGP: no speaker, no speaker RBAC",
      values: { layer2: { enabled: false } },
      check: (o) => {
        expect(find(o, "DaemonSet")).toBeUndefined();
        expect(o.some((x) => x.metadata.name.includes("speaker"))).toBe(false);
      },
    },
    {
      description: "runOnControlPlane tolerates the control-plane taints before the user's",
      values: { speaker: { runOnControlPlane: true, tolerations: [{ key: "edge", operator: "Exists" }] } },
      check: (o) => {
        const keys = (workload(o, "DaemonSet").spec.template.spec.tolerations ?? []).map((t) => t.key);
        expect(keys).toEqual([
          "node-role.kubernetes.io/control-plane",
          "node-role.kubernetes.io/master",
          "edge",
        ]);
      },
    },
    {
      description: "one controller replica: no disruption budget",
      values: { controller: { replicas: 1 } },
      check: (o) => {
        expect(find(o, "PodDisruptionBudget")).toBeUndefined();
      },
    },
    {
      description: "nodeSelector pins the controller",
      values: { controller: { nodeSelector: { "node-role.example/edge": "true" } } },
      check: (o) => {
        expect(workload(o, "Deployment").spec.template.spec.nodeSelector).toEqual({
          "node-role.example/edge": "true",
        });
      },
    },
    {
      description: "loadBalancerClass and logLevel reach both components",
      values: { loadBalancerClass: "example.com/lb", logLevel: "debug" },
      check: (o) => {
        for (const kind of ["Deployment", "DaemonSet"]) {
          const args = container(workload(o, kind)).args;
          expect(args).toContain("--lb-class=example.com/lb");
          expect(args).toContain("--log-level=debug");
        }
      },
    },
    {
      description: "serviceMonitor.enabled adds metrics Services and ServiceMonitors",
      values: { metrics: { serviceMonitor: { enabled: true } } },
      check: (o) => {
        expect(o.filter((x) => x.kind === "ServiceMonitor").map((x) => x.metadata.name)).toEqual([
          "ironlb-controller",
          "ironlb-speaker",
        ]);
      },
    },
  ];
  it.each(cases)("$description", ({ values, check }) => {
    check(renderObjects(resolveValues(values)));
  });

  it("capabilities follow the features", () => {
    expect(speakerCapabilities(resolveValues({ layer2: { enabled: false } }))).toEqual([]);
  });
});
