/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
// deploy/ironlb.yaml on a real API server (its own: the install adds cluster-wide objects and a
// webhook configuration other test files must not see): server-side apply, then the controller
// and the speaker each run AS THEIR ServiceAccount (TokenRequest tokens, RBAC authorizer on)
// through a short scenario. The API server's audit log records every request of IronLB's
// ServiceAccounts; any 403 fails, as does a Forbidden in their logs or the 403 error metric.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AdmissionregistrationV1Api,
  DiscoveryV1Api,
  ApiextensionsV1Api,
  CoordinationV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, expect, it } from "vitest";
import { resolveBinaries } from "../../src/testenv/binaries.js";
import { startControlPlane, type ControlPlane } from "../../src/testenv/controlPlane.js";
import { freePorts } from "../../src/testenv/freePort.js";
import { renderKubeconfig } from "../../src/testenv/kubeconfig.js";
import { requestServiceAccountToken, serviceAccountUser } from "../../src/testenv/serviceAccount.js";
import { loopbackWebhookConfiguration } from "../../src/webhook/manifest.js";
import { describeWithPrereqs } from "../support/e2e.js";
import { kubeConfigFor, uniqueNamespace } from "../support/testenv.js";
import { speakerLeaseName } from "../../src/membership/lease.js";
import { Cluster, ControllerProcess, killAllControllers } from "./controllerHarness.js";
import { createLayerTwoService, SpeakerProcess, writeSimulatedNetwork } from "./speakerHarness.js";

const NAMESPACE = "ironlb-system";
const FIELD_MANAGER = "ironlb-test";
const manifestPath = new URL("../../deploy/ironlb.yaml", import.meta.url);
const IRONLB_USERS = [
  serviceAccountUser(NAMESPACE, "ironlb-controller"),
  serviceAccountUser(NAMESPACE, "ironlb-speaker"),
];

interface AuditEvent {
  user: { username: string };
  verb: string;
  requestURI: string;
  stage: string;
  responseStatus?: { code?: number };
}

const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    users: ${JSON.stringify(IRONLB_USERS)}
  - level: None
`;

/** The value of one sample in Prometheus text, e.g. errors{code="403"}; undefined when absent. */
function sample(metrics: string, series: string): number | undefined {
  const line = metrics.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`, { cause: last });
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function serverSideApply(config: KubeConfig, objects: KubernetesObject[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(config);
  const apply = (o: KubernetesObject) =>
    api.patch(o, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  const crds = objects.filter((o) => o.kind === "CustomResourceDefinition");
  for (const crd of crds) await apply(crd);
  const extensions = config.makeApiClient(ApiextensionsV1Api);
  for (const crd of crds)
    await waitFor(`CRD ${crd.metadata?.name ?? ""} established`, async () => {
      const read = await extensions.readCustomResourceDefinition({ name: crd.metadata?.name ?? "" });
      return read.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") === true
        ? true
        : undefined;
    });
  for (const o of objects.filter((x) => x.kind !== "CustomResourceDefinition")) await apply(o);
}

describeWithPrereqs(
  "install: deploy/ironlb.yaml on a real API server",
  { controlPlaneBinaries: true },
  () => {
    let workDir: string;
    let controlPlane: ControlPlane;
    let admin: KubeConfig;
    let cluster: Cluster;
    const objects = parseAllDocuments(readFileSync(manifestPath, "utf8")).map(
      (d) => d.toJS() as KubernetesObject,
    );
    const auditLog = (): AuditEvent[] =>
      readFileSync(join(workDir, "audit.log"), "utf8")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as AuditEvent);

    /** A kubeconfig file with a fresh TokenRequest token of ServiceAccount ironlb-system/`name`. */
    const serviceAccountKubeconfig = async (name: string): Promise<string> => {
      const token = await requestServiceAccountToken(controlPlane.kubeconfigPath, NAMESPACE, name, {
        create: false,
      });
      const path = join(workDir, `${name}.kubeconfig`);
      writeFileSync(
        path,
        renderKubeconfig({
          server: controlPlane.server,
          caPem: controlPlane.caPem,
          userName: serviceAccountUser(NAMESPACE, name),
          token,
        }),
      );
      return path;
    };
    /** How many requests of `user` the API server answered, and those it answered 403 ("verb URI"). */
    const forbiddenFor = (user: string): { answered: number; forbidden: string[] } => {
      const events = auditLog().filter((e) => e.user.username === user && e.stage === "ResponseComplete");
      return {
        answered: events.length,
        forbidden: events
          .filter((e) => e.responseStatus?.code === 403)
          .map((e) => `${e.verb} ${e.requestURI}`),
      };
    };

    beforeAll(async () => {
      workDir = mkdtempSync(join(tmpdir(), "ilb-install-"));
      writeFileSync(join(workDir, "audit-policy.yaml"), AUDIT_POLICY);
      controlPlane = await startControlPlane({
        binaries: await resolveBinaries(),
        extraApiServerArgs: [
          `--audit-policy-file=${join(workDir, "audit-policy.yaml")}`,
          `--audit-log-path=${join(workDir, "audit.log")}`,
          "--audit-log-format=json",
          "--audit-log-mode=blocking",
        ],
      });
      admin = kubeConfigFor(controlPlane);
      cluster = new Cluster(admin);
      await serverSideApply(admin, objects);
    }, 120_000);

    afterAll(async () => {
      await killAllControllers();
      await controlPlane.stop();
      rmSync(workDir, { recursive: true, force: true });
    });

    it("applies every object server-side, each managed by the test's field manager", async () => {
      const api = KubernetesObjectApi.makeApiClient(admin);
      expect(objects.length).toBeGreaterThan(20);
      for (const o of objects) {
        const read = await api.read({
          apiVersion: o.apiVersion ?? "",
          kind: o.kind ?? "",
          metadata: {
            name: o.metadata?.name ?? "",
            ...(o.metadata?.namespace !== undefined && { namespace: o.metadata.namespace }),
          },
        });
        const managers = (read.metadata?.managedFields ?? [])
          .filter((m) => m.operation === "Apply")
          .map((m) => m.manager);
        expect(managers, `${o.kind ?? ""} ${o.metadata?.name ?? ""}`).toContain(FIELD_MANAGER);
      }
    });

    it("a second apply changes nothing (the manifest is already what the server holds)", async () => {
      const api = KubernetesObjectApi.makeApiClient(admin);
      for (const o of objects.filter((x) => x.kind === "Deployment" || x.kind === "ClusterRole")) {
        const ref = {
          apiVersion: o.apiVersion ?? "",
          kind: o.kind ?? "",
          metadata: {
            name: o.metadata?.name ?? "",
            ...(o.metadata?.namespace !== undefined && { namespace: o.metadata.namespace }),
          },
        };
        const before = await api.read(ref);
        await api.patch(o, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
        const after = await api.read(ref);
        expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
      }
    });

    it("runs the controller as its ServiceAccount through a scenario without a single Forbidden", async () => {
      const kubeconfigPath = await serviceAccountKubeconfig("ironlb-controller");
      // The applied configuration calls the in-cluster Service, which no kube-proxy serves here: the
      // test points it at the controller on loopback. Its certificate names only the Service, so the
      // API server's calls fail TLS and are ignored; the controller still maintains the CA bundle.
      const [webhookPort = 0] = await freePorts(1);
      const loopback = loopbackWebhookConfiguration(webhookPort, {
        namespace: NAMESPACE,
        failurePolicy: "Ignore",
      });
      await KubernetesObjectApi.makeApiClient(admin).patch(
        loopback,
        undefined,
        undefined,
        FIELD_MANAGER,
        true,
        PatchStrategy.ServerSideApply,
      );

      const serviceNamespace = uniqueNamespace("ilb-install");
      await cluster.namespace(serviceNamespace);
      await cluster.applyPool(NAMESPACE, "lan", { addresses: ["192.0.2.200-192.0.2.210"] });

      const controller = ControllerProcess.start({
        kubeconfigPath,
        namespace: NAMESPACE,
        leaderElect: true,
        extraArgs: ["--webhook-addr", `127.0.0.1:${webhookPort}`],
      });
      await controller.reconciling(30_000);
      await cluster.createService(serviceNamespace, "web");
      const [ip] = await cluster.waitForIPs(serviceNamespace, "web");
      expect(ip).toMatch(/^192\.0\.2\.2(0\d|10)$/);
      expect((await cluster.condition(serviceNamespace, "web"))?.status).toBe("True");
      expect(
        (await cluster.service(serviceNamespace, "web")).metadata?.annotations?.[
          "ironlb.io/ip-allocated-from-pool"
        ],
      ).toBe("lan");
      await waitFor("the IPAllocated Event", async () =>
        (await cluster.eventsFor(serviceNamespace, "web")).length > 0 ? true : undefined,
      );
      await waitFor("pool status", async () =>
        (await cluster.poolStatus(NAMESPACE, "lan"))?.assignedIPv4 === 1 ? true : undefined,
      );
      const lease = await admin
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ namespace: NAMESPACE, name: "ironlb-controller" });
      expect(lease.spec?.holderIdentity).toBeTruthy();
      await waitFor("the CA bundle in the webhook configuration", async () => {
        const vwc = await admin
          .makeApiClient(AdmissionregistrationV1Api)
          .readValidatingWebhookConfiguration({ name: loopback.metadata?.name ?? "" });
        return vwc.webhooks?.every((w) => (w.clientConfig.caBundle ?? "") !== "") === true ? true : undefined;
      });
      await cluster.core.deleteNamespacedService({ namespace: serviceNamespace, name: "web" });
      await waitFor("the address released", async () =>
        (await cluster.poolStatus(NAMESPACE, "lan"))?.assignedIPv4 === 0 ? true : undefined,
      );

      const metrics = await controller.metrics();
      await controller.kill("SIGTERM");

      expect(metrics).toContain("ironlb_k8s_api_errors_total");
      expect(sample(metrics, 'ironlb_k8s_api_errors_total{code="403"}') ?? 0).toBe(0);
      const forbiddenLogs = controller.logs.filter((l) => /forbidden/i.test(JSON.stringify(l)));
      expect(forbiddenLogs).toEqual([]);
      const audit = forbiddenFor(IRONLB_USERS[0] ?? "");
      expect(audit.answered).toBeGreaterThan(10);
      expect(audit.forbidden).toEqual([]);
    }, 90_000);

    it("runs the speaker as its ServiceAccount through a scenario without a single Forbidden", async () => {
      const kubeconfigPath = await serviceAccountKubeconfig("ironlb-speaker");
      const node = "ilb-install-node-a";
      const lbClass = "ironlb.io/install-test";
      const serviceNamespace = uniqueNamespace("ilb-install-spk");
      const simulated = join(workDir, "speaker-network");
      writeSimulatedNetwork(simulated, [{ name: "eth0", ifindex: 2, mac: "02:00:5e:00:53:01" }]);
      await cluster.core.createNode({
        body: { metadata: { name: node, labels: { "kubernetes.io/hostname": node } } },
      });
      await cluster.namespace(serviceNamespace);
      await cluster.applyPool(NAMESPACE, "lan", { addresses: ["192.0.2.200-192.0.2.210"] });
      await cluster.custom.createNamespacedCustomObject({
        group: "ironlb.io",
        version: "v1beta1",
        plural: "l2advertisements",
        namespace: NAMESPACE,
        body: {
          apiVersion: "ironlb.io/v1beta1",
          kind: "L2Advertisement",
          metadata: { name: "lan", namespace: NAMESPACE },
          spec: { ipAddressPools: ["lan"] },
        },
      });
      await createLayerTwoService(cluster.core, admin.makeApiClient(DiscoveryV1Api), {
        namespace: serviceNamespace,
        name: "web",
        lbClass,
        ips: ["192.0.2.205"],
        endpointNodes: [node],
      });
      const coordination = admin.makeApiClient(CoordinationV1Api);

      const speaker = SpeakerProcess.start({
        node,
        kubeconfigPath,
        namespace: NAMESPACE,
        lbClass,
        simulateNetwork: simulated,
      });
      try {
        await waitFor(
          "the speaker's ServiceL2Status",
          async () => {
            const list = (await cluster.custom.listNamespacedCustomObject({
              group: "ironlb.io",
              version: "v1beta1",
              plural: "servicel2statuses",
              namespace: NAMESPACE,
            })) as { items: { status?: { node?: string; serviceName?: string } }[] };
            return list.items.some((i) => i.status?.node === node && i.status.serviceName === "web")
              ? true
              : undefined;
          },
          30_000,
        );
        const lease = await coordination.readNamespacedLease({
          namespace: NAMESPACE,
          name: speakerLeaseName(node),
        });
        expect(lease.spec?.holderIdentity).toBeTruthy();
        await waitFor("the nodeAssigned Event", async () => {
          const events = await cluster.events.listNamespacedEvent({ namespace: serviceNamespace });
          return events.items.some(
            (e) => e.reason === "nodeAssigned" && e.reportingController === "ironlb.io/speaker",
          )
            ? true
            : undefined;
        });
      } finally {
        // SIGTERM: the speaker withdraws and deletes its Lease (more of its verbs).
        await speaker.stop("SIGTERM");
      }
      await waitFor("the speaker Lease deleted", async () => {
        try {
          await coordination.readNamespacedLease({ namespace: NAMESPACE, name: speakerLeaseName(node) });
          return undefined;
        } catch (error) {
          return (error as { code?: number }).code === 404 ? true : undefined;
        }
      });

      expect(speaker.logs.filter((l) => /forbidden/i.test(JSON.stringify(l)))).toEqual([]);
      const audit = forbiddenFor(IRONLB_USERS[1] ?? "");
      expect(audit.answered).toBeGreaterThan(10);
      expect(audit.forbidden).toEqual([]);
    }, 90_000);
  },
);
