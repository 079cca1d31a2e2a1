// The Helm chart and the generator agree: `helm template` with a set of values renders exactly
// the objects src/deploy renders for the same values (deploy/ironlb.yaml included), and
// `helm lint` passes. Helm is built from its Go module by testenv/helm/build.sh (scripts/setup.sh).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, stringify } from "yaml";
import { afterAll, beforeAll, expect, it } from "vitest";
import { renderObjects, type KubeObject } from "../../src/deploy/objects.js";
import { resolveValues } from "../../src/deploy/values.js";
import { describeWithPrereqs } from "../support/e2e.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const chart = join(root, "charts", "ironlb");
const helmPath = execFileSync("bash", [join(root, "testenv", "helm", "build.sh"), "--path"], {
  encoding: "utf8",
}).trim();
// The prerequisite check looks on PATH: put the cached Helm there.
process.env["PATH"] = `${dirname(helmPath)}${delimiter}${process.env["PATH"] ?? ""}`;

const helm = (...args: string[]): string =>
  execFileSync(helmPath, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

const key = (o: KubeObject): string => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
const byKey = (objects: KubeObject[]): Map<string, KubeObject> => new Map(objects.map((o) => [key(o), o]));
const parseObjects = (text: string): KubeObject[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);

const VALUE_SETS: { description: string; values: Record<string, unknown> }[] = [
  { description: "defaults", values: {} },
  { description: "defaults with the Namespace (deploy/ironlb.yaml)", values: { createNamespace: true } },
  { description: "BGP with MD5 and Layer 2", values: { bgp: { enabled: true, md5: true } } },
  { description: "BGP only, no MD5", values: { bgp: { enabled: true }, layer2: { enabled: false } } },
  { description: "no speaker at all", values: { layer2: { enabled: false } } },
  { description: "one controller replica", values: { controller: { replicas: 1 } } },
  {
    description: "edge placement for both components",
    values: {
      controller: {
        nodeSelector: { "node-role.example/edge": "true" },
        tolerations: [{ key: "edge", operator: "Exists", effect: "NoSchedule" }],
        affinity: {
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 100,
                podAffinityTerm: {
                  topologyKey: "kubernetes.io/hostname",
                  labelSelector: { matchLabels: { "app.kubernetes.io/component": "controller" } },
                },
              },
            ],
          },
        },
        replicas: 3,
        resources: { requests: { cpu: "100m" } },
      },
      speaker: {
        runOnControlPlane: true,
        nodeSelector: { "node-role.example/edge": "true" },
        tolerations: [{ key: "edge", operator: "Exists" }],
      },
    },
  },
  {
    description: "class, log level, image, membership secret, ServiceMonitor, webhook policy",
    values: {
      loadBalancerClass: "example.com/ironlb",
      logLevel: "debug",
      image: { repository: "registry.example/ironlb", tag: "dev", pullPolicy: "Always" },
      membership: { secretName: "ironlb-memberlist", port: 7950 },
      metrics: {
        port: 9472,
        serviceMonitor: { enabled: true, interval: "15s", labels: { release: "prom" } },
      },
      webhook: { port: 9444, failurePolicy: "Ignore", timeoutSeconds: 5 },
      namespace: "lb-system",
    },
  },
];

describeWithPrereqs(
  "Helm chart charts/ironlb",
  { binaries: [{ name: "helm", install: "bash testenv/helm/build.sh (scripts/setup.sh runs it)" }] },
  () => {
    let workDir: string;
    beforeAll(() => {
      workDir = mkdtempSync(join(tmpdir(), "ilb-helm-"));
    });
    afterAll(() => {
      rmSync(workDir, { recursive: true, force: true });
    });

    const template = (values: Record<string, unknown>, name: string): KubeObject[] => {
      const file = join(workDir, `${name}.yaml`);
      writeFileSync(file, stringify(values));
      return parseObjects(helm("template", "ironlb", chart, "--include-crds", "--values", file));
    };

    it("passes helm lint (defaults and every value set)", () => {
      expect(helm("lint", "--strict", chart)).toContain("0 chart(s) failed");
      for (const [n, { values }] of VALUE_SETS.entries()) {
        const file = join(workDir, `lint-${n}.yaml`);
        writeFileSync(file, stringify(values));
        expect(helm("lint", "--strict", chart, "--values", file)).toContain("0 chart(s) failed");
      }
    });

    it.each(VALUE_SETS.map((v, n) => ({ ...v, n })))(
      "helm template equals the generator: $description",
      ({ values, n }) => {
        const fromHelm = byKey(template(values, `case-${n}`));
        const fromGenerator = byKey(renderObjects(resolveValues(values)));
        expect([...fromHelm.keys()].sort()).toEqual([...fromGenerator.keys()].sort());
        for (const [k, object] of fromGenerator) expect(fromHelm.get(k), k).toEqual(object);
      },
    );

    it("helm template with createNamespace equals the committed deploy/ironlb.yaml", () => {
      const committed = byKey(parseObjects(readFileSync(join(root, "deploy", "ironlb.yaml"), "utf8")));
      const fromHelm = byKey(template({ createNamespace: true }, "committed"));
      expect([...fromHelm.keys()].sort()).toEqual([...committed.keys()].sort());
      for (const [k, object] of committed) expect(fromHelm.get(k), k).toEqual(object);
    });
  },
);
