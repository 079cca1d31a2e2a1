/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment, @typescript-eslint/no-misused-spread -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
// `ironlb doctor` against a real API server with each trap set up on purpose (no controller or
// speaker runs: the test writes Services, their status, pools, Nodes, Leases, EndpointSlices, the
// kube-proxy ConfigMap, webhook configurations and a MetalLB CRD directly). It uses a control plane
// of its own: the traps are cluster-wide (kube-system, a metallb.io CRD, webhooks).
import { execFileSync } from "node:child_process";
import {
  AdmissionregistrationV1Api,
  ApiextensionsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  KubeConfig,
  V1MicroTime,
} from "@kubernetes/client-node";
import { beforeAll, describe, expect, test } from "vitest";
import type { DoctorReport } from "../../src/ops/doctor.js";
import { freePorts } from "../../src/testenv/freePort.js";
import { describeWithPrereqs } from "../support/e2e.js";
import { useOwnControlPlane } from "../support/testenv.js";
import { installCRDs, runCli, type CliRun } from "./ironlbProcess.js";

const NS = "ironlb-system";
const SVC_NS = "web";

describeWithPrereqs("ironlb doctor on a real API server", { controlPlane: true }, () => {
  const controlPlane = useOwnControlPlane();
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  let kubeconfig: string;

  const doctor = async (...extra: string[]): Promise<{ run: CliRun; report: DoctorReport }> => {
    const run = await runCli(["doctor", "--kubeconfig", kubeconfig, "-n", NS, "-o", "json", ...extra]);
    if (run.code === 2) throw new Error(`doctor failed: ${run.stderr}`);
    return { run, report: JSON.parse(run.stdout) as DoctorReport };
  };
  const codes = (report: DoctorReport, service?: string): string[] =>
    report.findings.filter((f) => service === undefined || f.service === service).map((f) => f.code);

  const createIronLB = (plural: string, kind: string, name: string, spec: Record<string, unknown>) =>
    custom.createNamespacedCustomObject({
      group: "ironlb.io",
      version: "v1beta1",
      plural,
      namespace: NS,
      body: { apiVersion: "ironlb.io/v1beta1", kind, metadata: { name, namespace: NS }, spec },
    });

  async function service(
    name: string,
    options: {
      ips?: string[];
      annotations?: Record<string, string>;
      loadBalancerIP?: string;
      lbClass?: string;
      local?: boolean;
    } = {},
  ): Promise<void> {
    await core.createNamespacedService({
      namespace: SVC_NS,
      body: {
        metadata: {
          name,
          ...(options.annotations === undefined ? {} : { annotations: options.annotations }),
        },
        spec: {
          type: "LoadBalancer",
          ports: [{ port: 80, protocol: "TCP" }],
          selector: { app: name },
          ...(options.local === true ? { externalTrafficPolicy: "Local" } : {}),
          ...(options.loadBalancerIP === undefined ? {} : { loadBalancerIP: options.loadBalancerIP }),
          ...(options.lbClass === undefined ? {} : { loadBalancerClass: options.lbClass }),
        },
      },
    });
    if (options.ips === undefined) return;
    const current = await core.readNamespacedService({ namespace: SVC_NS, name });
    await core.replaceNamespacedServiceStatus({
      namespace: SVC_NS,
      name,
      body: { ...current, status: { loadBalancer: { ingress: options.ips.map((ip) => ({ ip })) } } },
    });
  }

  async function node(
    name: string,
    labels: Record<string, string>,
    networkUnavailable = false,
  ): Promise<void> {
    await core.createNode({ body: { metadata: { name, labels } } });
    if (!networkUnavailable) return;
    const current = await core.readNode({ name });
    await core.replaceNodeStatus({
      name,
      body: {
        ...current,
        status: {
          conditions: [
            {
              type: "NetworkUnavailable",
              status: "True",
              reason: "NoRouteCreated",
              message: "test",
              lastTransitionTime: new Date(),
              lastHeartbeatTime: new Date(),
            },
          ],
        },
      },
    });
  }

  async function lease(nodeName: string): Promise<void> {
    await kubeConfig()
      .makeApiClient(CoordinationV1Api)
      .createNamespacedLease({
        namespace: NS,
        body: {
          metadata: { name: `ironlb-speaker-${nodeName}`, labels: { "ironlb.io/speaker-lease": "true" } },
          spec: {
            holderIdentity: nodeName,
            leaseDurationSeconds: 3600,
            renewTime: new V1MicroTime(new Date()),
          },
        },
      });
  }

  async function endpointSlice(svc: string, nodeName: string, ready: boolean): Promise<void> {
    await kubeConfig()
      .makeApiClient(DiscoveryV1Api)
      .createNamespacedEndpointSlice({
        namespace: SVC_NS,
        body: {
          metadata: { name: `${svc}-1`, labels: { "kubernetes.io/service-name": svc } },
          addressType: "IPv4",
          endpoints: [{ addresses: ["10.0.0.1"], nodeName, conditions: { ready } }],
        },
      });
  }

  let config: KubeConfig | undefined;
  const kubeConfig = (): KubeConfig => {
    if (config === undefined) {
      config = new KubeConfig();
      config.loadFromFile(kubeconfig);
    }
    return config;
  };

  beforeAll(async () => {
    kubeconfig = controlPlane().kubeconfigPath;
    core = kubeConfig().makeApiClient(CoreV1Api);
    custom = kubeConfig().makeApiClient(CustomObjectsApi);
    await installCRDs(kubeConfig());
    for (const name of [NS, SVC_NS, "kube-system", "metallb-system"]) {
      await core.createNamespace({ body: { metadata: { name } } }).catch((e: unknown) => {
        if ((e as { code?: number }).code !== 409) throw e;
      });
    }
  });

  // The tests build on each other, in order: healthy, then one trap after another.
  describe("traps, one after another", () => {
    test("a cluster with nothing wrong: exit 0, no finding", async () => {
      const { run, report } = await doctor();
      expect(report.findings).toEqual([]);
      expect(run.code).toBe(0);
      const human = await runCli(["doctor", "--kubeconfig", kubeconfig, "-n", NS]);
      expect(human.stdout).toContain("No problems found.");
    });

    test("no pool matches", async () => {
      await service("first");
      const { run, report } = await doctor();
      expect(codes(report, "web/first")).toEqual(["NoPoolMatches"]);
      expect(run.code).toBe(1);
      await core.deleteNamespacedService({ namespace: SVC_NS, name: "first" });
    });

    test("pool exhausted, requested address outside the pools, sharing conflict, class not ours", async () => {
      await createIronLB("ipaddresspools", "IPAddressPool", "lan", { addresses: ["192.0.2.10-192.0.2.11"] });
      await createIronLB("l2advertisements", "L2Advertisement", "lan", {
        ipAddressPools: ["lan"],
        nodeSelectors: [{ matchLabels: { zone: "z1" } }],
      });
      await node("node-a", { zone: "z1" });
      await lease("node-a");
      await service("holder1", { ips: ["192.0.2.10"], annotations: { "ironlb.io/allow-shared-ip": "k" } });
      await endpointSlice("holder1", "node-a", true);
      await service("holder2", { ips: ["192.0.2.11"] });
      await endpointSlice("holder2", "node-a", true);
      await service("starving");
      await service("outside", { loadBalancerIP: "203.0.113.5" });
      await service("conflict", {
        annotations: { "ironlb.io/allow-shared-ip": "k", "ironlb.io/loadBalancerIPs": "192.0.2.10" },
      });
      await service("theirs", { lbClass: "example.com/other" });

      const { run, report } = await doctor();
      expect(run.code).toBe(1);
      expect(codes(report, "web/starving")).toEqual(["PoolExhausted"]);
      expect(codes(report, "web/outside")).toEqual(["RequestedIPOutsidePools"]);
      expect(codes(report, "web/conflict")).toEqual(["SharingConflict"]);
      const conflict = report.findings.find((f) => f.service === "web/conflict");
      expect(conflict?.title).toContain("web/holder1");
      expect(conflict?.title).toContain("TCP/80");
      // An announced Service is fine; another class's Service is named, as information only.
      expect(codes(report, "web/holder1")).toEqual([]);
      expect(
        report.findings.filter((f) => f.service === "web/theirs").map((f) => `${f.severity} ${f.code}`),
      ).toEqual(["info ClassNotOurs"]);

      const one = await doctor("web/theirs");
      expect(codes(one.report)).toEqual(["ClassNotOurs"]);
      expect(one.run.code).toBe(1);
      const healthyOne = await doctor("web/holder1");
      expect(healthyOne.report.findings).toEqual([]);
      expect(healthyOne.run.code).toBe(0);
    });

    test("no eligible node: nodeSelectors, exclusion label, NetworkUnavailable, no speaker, ETP Local", async () => {
      const pools: [string, string, Record<string, string>][] = [
        ["p-excluded", "192.0.2.20", { zone: "z2" }],
        ["p-netdown", "192.0.2.30", { zone: "z3" }],
        ["p-nospeaker", "192.0.2.40", { zone: "z4" }],
        ["p-noselect", "192.0.2.50", { zone: "nowhere" }],
      ];
      for (const [name, ip, labels] of pools) {
        await createIronLB("ipaddresspools", "IPAddressPool", name, {
          addresses: [`${ip}/32`],
          autoAssign: false,
        });
        await createIronLB("l2advertisements", "L2Advertisement", name, {
          ipAddressPools: [name],
          nodeSelectors: [{ matchLabels: labels }],
        });
        await service(name, { ips: [ip], annotations: { "ironlb.io/address-pool": name } });
        await endpointSlice(name, "node-a", true);
      }
      await node("node-b", { zone: "z2", "node.kubernetes.io/exclude-from-external-load-balancers": "true" });
      await lease("node-b");
      await node("node-c", { zone: "z3" }, true);
      await lease("node-c");
      await node("node-d", { zone: "z4" }); // no speaker Lease
      await service("local", { ips: ["192.0.2.11"], local: true });
      await core.deleteNamespacedService({ namespace: SVC_NS, name: "holder2" });
      await endpointSlice("local", "node-a", false);

      const { report } = await doctor();
      const find = (svc: string) => report.findings.find((f) => f.service === `web/${svc}`);
      expect(find("p-excluded")?.evidence.join("\n")).toContain(
        'Node node-b metadata.labels["node.kubernetes.io/exclude-from-external-load-balancers"]',
      );
      expect(find("p-netdown")?.evidence.join("\n")).toContain(
        "Node node-c status.conditions NetworkUnavailable: True",
      );
      expect(find("p-nospeaker")?.evidence.join("\n")).toContain("Node node-d: no speaker Lease");
      expect(find("p-noselect")?.title).toContain("nodeSelectors");
      expect(find("local")?.title).toContain("no ready or serving endpoint");
      for (const svc of ["p-excluded", "p-netdown", "p-nospeaker", "p-noselect", "local"]) {
        expect(find(svc)?.code).toBe("NoEligibleNode");
      }
    });

    test("kube-proxy in IPVS mode without strictARP", async () => {
      await core.createNamespacedConfigMap({
        namespace: "kube-system",
        body: {
          metadata: { name: "kube-proxy" },
          data: {
            "config.conf":
              "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nmode: ipvs\nipvs:\n  scheduler: rr\n",
          },
        },
      });
      const { report } = await doctor();
      const finding = report.findings.find((f) => f.code === "KubeProxyStrictARP");
      expect(finding?.evidence).toContain(
        "ConfigMap kube-system/kube-proxy config.conf ipvs.strictARP: (unset)",
      );
    });

    test("webhooks: Service without endpoints, URL unreachable, certificate not matching the caBundle", async () => {
      const [closedPort] = await freePorts(1);
      const otherCA = execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:prime256v1",
          "-nodes",
          "-subj",
          "/CN=other-ca",
          "-days",
          "1",
          "-keyout",
          "/dev/null",
        ],
        { encoding: "utf8" },
      );
      const apiServer = controlPlane().server;
      const bundle = (pem: string) => Buffer.from(pem).toString("base64");
      const webhook = (name: string, clientConfig: Record<string, unknown>) => ({
        name,
        admissionReviewVersions: ["v1"],
        sideEffects: "None",
        failurePolicy: "Ignore",
        clientConfig,
        // Matches nothing this test writes: the configurations are only there to be checked.
        rules: [
          {
            apiGroups: ["ironlb.io"],
            apiVersions: ["v1beta1"],
            operations: ["DELETE"],
            resources: ["communities"],
          },
        ],
      });
      const admission = kubeConfig().makeApiClient(AdmissionregistrationV1Api);
      await core.createNamespacedService({
        namespace: NS,
        body: {
          metadata: { name: "ironlb-webhook-service" },
          spec: { ports: [{ port: 443 }], selector: { app: "none" } },
        },
      });
      await admission.createValidatingWebhookConfiguration({
        body: {
          metadata: { name: "ironlb-validating-webhook-configuration" },
          webhooks: [
            webhook("ipaddresspool.validation.ironlb.io", {
              service: { namespace: NS, name: "ironlb-webhook-service", path: "/validate", port: 443 },
              caBundle: bundle(controlPlane().caPem),
            }),
          ],
        },
      });
      await admission.createValidatingWebhookConfiguration({
        body: {
          metadata: { name: "ironlb-url-webhooks" },
          webhooks: [
            webhook("l2advertisement.validation.ironlb.io", {
              url: `https://127.0.0.1:${String(closedPort)}/validate`,
              caBundle: bundle(controlPlane().caPem),
            }),
            webhook("bgppeer.validation.ironlb.io", {
              url: `${apiServer}/validate`,
              caBundle: bundle(otherCA),
            }),
            webhook("community.validation.ironlb.io", {
              url: `${apiServer}/validate`,
              caBundle: bundle(controlPlane().caPem),
            }),
          ],
        },
      });
      const { report } = await doctor();
      const webhookFindings = report.findings.filter((f) => f.code.startsWith("Webhook"));
      const text = JSON.stringify(webhookFindings);
      expect(text).toContain("Service ironlb-system/ironlb-webhook-service has no ready endpoints");
      expect(text).toContain(`https://127.0.0.1:${String(closedPort)}/validate is unreachable`);
      expect(webhookFindings.filter((f) => f.code === "WebhookCertificateMismatch")).toHaveLength(1);
      expect(text).toContain("bgppeer.validation.ironlb.io");
      // The URL whose certificate the caBundle trusts is fine.
      expect(text).not.toContain("community.validation.ironlb.io");
    });

    test("overlapping pools (IronLB's own, a MetalLB CR, the legacy ConfigMap) and the invalid configuration", async () => {
      const api = kubeConfig().makeApiClient(ApiextensionsV1Api);
      await api.createCustomResourceDefinition({
        body: {
          metadata: { name: "ipaddresspools.metallb.io" },
          spec: {
            group: "metallb.io",
            scope: "Namespaced",
            names: {
              plural: "ipaddresspools",
              singular: "ipaddresspool",
              kind: "IPAddressPool",
              listKind: "IPAddressPoolList",
            },
            versions: [
              {
                name: "v1beta1",
                served: true,
                storage: true,
                schema: { openAPIV3Schema: { type: "object", x_kubernetes_preserve_unknown_fields: true } },
              },
            ],
          },
        },
      });
      for (let i = 0; ; i++) {
        const crd = await api.readCustomResourceDefinition({ name: "ipaddresspools.metallb.io" });
        if (crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) break;
        if (i > 100) throw new Error("MetalLB CRD not established");
        await new Promise((r) => setTimeout(r, 100));
      }
      await custom.createNamespacedCustomObject({
        group: "metallb.io",
        version: "v1beta1",
        plural: "ipaddresspools",
        namespace: "metallb-system",
        body: {
          apiVersion: "metallb.io/v1beta1",
          kind: "IPAddressPool",
          metadata: { name: "mlb" },
          spec: { addresses: ["192.0.2.10/31"] },
        },
      });
      await core.createNamespacedConfigMap({
        namespace: "metallb-system",
        body: {
          metadata: { name: "config" },
          data: {
            config:
              "address-pools:\n- name: legacy\n  protocol: layer2\n  addresses:\n  - 192.0.2.40-192.0.2.45\n",
          },
        },
      });
      await createIronLB("ipaddresspools", "IPAddressPool", "dup", {
        addresses: ["192.0.2.20-192.0.2.21"],
        autoAssign: false,
      });

      const { run, report } = await doctor();
      expect(run.code).toBe(1);
      const titles = report.findings.filter((f) => f.code === "OverlappingPools").map((f) => f.title);
      expect(titles).toContain(
        "IronLB IPAddressPool ironlb-system/lan and MetalLB IPAddressPool metallb-system/mlb claim the same addresses",
      );
      expect(titles).toContain(
        "IronLB IPAddressPool ironlb-system/p-nospeaker and MetalLB ConfigMap metallb-system/config address-pools[0] (legacy) claim the same addresses",
      );
      expect(
        titles.some((t) => t.includes("ironlb-system/dup") && t.includes("ironlb-system/p-excluded")),
      ).toBe(true);
      const invalid = report.findings.filter((f) => f.code === "ConfigInvalid");
      expect(invalid.length).toBeGreaterThan(0);
      expect(JSON.stringify(invalid)).toContain("IPAddressPool");
    });

    test("BGP sessions as the speakers report them: not Established, BFD Down with a profile, still connecting", async () => {
      const ago = (seconds: number): string => new Date(Date.now() - seconds * 1000).toISOString();
      const downSince = ago(600);
      const sessions: [string, Record<string, unknown>][] = [
        ["tor.node-a", { node: "node-a", peer: "192.0.2.1", peerName: "tor", bgpStatus: "Established" }],
        [
          "tor.node-b",
          {
            node: "node-b",
            peer: "192.0.2.1",
            peerName: "tor",
            bgpStatus: "Active",
            bfdStatus: "Down",
            bfdProfile: "fast",
            advertisedPrefixes: 0,
            lastError: "holdTimerExpired: no message from the peer within the hold time",
            stateSince: downSince,
          },
        ],
        [
          "tor.node-c",
          {
            node: "node-c",
            peer: "192.0.2.1",
            peerName: "tor",
            bgpStatus: "Connect",
            lastError: "connect ECONNREFUSED 192.0.2.1:179",
            stateSince: ago(5),
          },
        ],
      ];
      for (const [name, status] of sessions) {
        const created = (await createIronLB("bgpsessionstates", "BGPSessionState", name, {})) as object;
        await custom.replaceNamespacedCustomObjectStatus({
          group: "ironlb.io",
          version: "v1beta1",
          plural: "bgpsessionstates",
          namespace: NS,
          name,
          body: { ...created, status },
        });
      }
      const { run, report } = await doctor();
      expect(run.code).toBe(1);
      const bgp = report.findings.filter((f) => /^(BGP|BFD)/.test(f.code));
      expect(bgp.map((f) => [f.severity, f.code])).toEqual([
        ["error", "BGPSessionNotEstablished"],
        ["warning", "BFDSessionNotUp"],
        ["info", "BGPSessionConnecting"],
      ]);
      expect(bgp[0]?.title).toContain(
        "node node-b with peer tor (192.0.2.1) is Active, not Established for 10 min (longer than the 60 s grace period)",
      );
      expect(bgp[0]?.evidence).toContain(`BGPSessionState ${NS}/tor.node-b status.stateSince: ${downSince}`);
      expect(bgp[2]?.title).toMatch(
        /node node-c with peer tor \(192\.0\.2\.1\) is Connect for \d+ s: still connecting/,
      );
      expect(bgp[2]?.evidence).toContain(
        `BGPSessionState ${NS}/tor.node-c status.lastError: connect ECONNREFUSED 192.0.2.1:179`,
      );
      expect(bgp[0]?.evidence).toContain(
        `BGPSessionState ${NS}/tor.node-b status.lastError: holdTimerExpired: no message from the peer within the hold time`,
      );
      expect(bgp[1]?.evidence).toContain(`BGPSessionState ${NS}/tor.node-b status.bfdStatus: Down`);
      for (const [name] of sessions) {
        await custom.deleteNamespacedCustomObject({
          group: "ironlb.io",
          version: "v1beta1",
          plural: "bgpsessionstates",
          namespace: NS,
          name,
        });
      }
    });

    test("usage and connection errors exit with 2", async () => {
      expect((await runCli(["doctor", "--kubeconfig", kubeconfig, "not-a-ref"])).code).toBe(2);
      expect((await runCli(["doctor", "--kubeconfig", kubeconfig, "-o", "xml"])).code).toBe(2);
      expect((await runCli(["doctor", "--kubeconfig", "/nonexistent/kubeconfig"])).code).toBe(2);
    });
  });
});
