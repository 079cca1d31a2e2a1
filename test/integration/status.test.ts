/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment, @typescript-eslint/no-misused-spread -- client-node
   models are plain data classes with no behaviour; its API is meant to take object literals. */
// `ironlb status` against the shared API server: pool counts (from IPAddressPool.status and
// computed), Service rows (pending with the controller's reason, allocated with the announcing
// node from ServiceL2Status, not announced, another class), -o json|yaml|table, and the reader's
// pagination (one list per resource, page by page). The Services carry a loadBalancerClass of
// their own, so other test files' Services on the shared control plane are "other-class".
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  KubeConfig,
  V1MicroTime,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, test } from "vitest";
import { parse } from "yaml";
import { ClusterReader } from "../../src/ops/read.js";
import type { StatusReport } from "../../src/ops/status.js";
import { describeWithPrereqs } from "../support/e2e.js";
import { sharedControlPlane, uniqueNamespace } from "../support/testenv.js";
import { installCRDs, runCli } from "./ironlbProcess.js";

describeWithPrereqs("ironlb status on a real API server", { controlPlane: true }, () => {
  const configNs = uniqueNamespace("ilb-st");
  const ns = uniqueNamespace("ilb-stsvc");
  const lbClass = `ironlb.io/${uniqueNamespace("status")}`;
  const nodeName = uniqueNamespace("ilb-status-node");
  let config: KubeConfig;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  const kubeconfig = (): string => sharedControlPlane().kubeconfigPath;
  const args = (): string[] => [
    "status",
    "--kubeconfig",
    kubeconfig(),
    "-n",
    configNs,
    "--lb-class",
    lbClass,
  ];

  const createIronLB = async (
    plural: string,
    kind: string,
    name: string,
    spec: Record<string, unknown>,
    status?: Record<string, unknown>,
  ): Promise<void> => {
    const created = (await custom.createNamespacedCustomObject({
      group: "ironlb.io",
      version: "v1beta1",
      plural,
      namespace: configNs,
      body: { apiVersion: "ironlb.io/v1beta1", kind, metadata: { name, namespace: configNs }, spec },
    })) as Record<string, unknown>;
    if (status === undefined) return;
    await custom.replaceNamespacedCustomObjectStatus({
      group: "ironlb.io",
      version: "v1beta1",
      plural,
      namespace: configNs,
      name,
      body: { ...created, status },
    });
  };

  async function service(name: string, ips: string[], extra: Record<string, unknown> = {}): Promise<void> {
    await core.createNamespacedService({
      namespace: ns,
      body: {
        metadata: { name, annotations: (extra.annotations as Record<string, string> | undefined) ?? {} },
        spec: {
          type: "LoadBalancer",
          loadBalancerClass: (extra.loadBalancerClass as string | undefined) ?? lbClass,
          ports: [{ port: 80, protocol: "TCP" }],
          selector: { app: name },
        },
      },
    });
    const current = await core.readNamespacedService({ namespace: ns, name });
    const conditions = extra.condition === undefined ? [] : [extra.condition];
    await core.replaceNamespacedServiceStatus({
      namespace: ns,
      name,
      body: {
        ...current,
        status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) }, conditions } as never,
      },
    });
    if (ips.length === 0) return;
    await config.makeApiClient(DiscoveryV1Api).createNamespacedEndpointSlice({
      namespace: ns,
      body: {
        metadata: { name: `${name}-1`, labels: { "kubernetes.io/service-name": name } },
        addressType: "IPv4",
        endpoints: [{ addresses: ["10.0.0.1"], nodeName, conditions: { ready: true } }],
      },
    });
  }

  beforeAll(async () => {
    config = new KubeConfig();
    config.loadFromFile(kubeconfig());
    core = config.makeApiClient(CoreV1Api);
    custom = config.makeApiClient(CustomObjectsApi);
    await installCRDs(config);
    await core.createNamespace({ body: { metadata: { name: configNs } } });
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await createIronLB("ipaddresspools", "IPAddressPool", "lan", { addresses: ["192.0.2.10-192.0.2.13"] });
    await createIronLB(
      "ipaddresspools",
      "IPAddressPool",
      "dual",
      { addresses: ["192.0.2.20/31", "2001:db8:1::20/127"], autoAssign: false },
      { assignedIPv4: 1, availableIPv4: 1, assignedIPv6: 0, availableIPv6: 2 },
    );
    await createIronLB("l2advertisements", "L2Advertisement", "lan", { ipAddressPools: ["lan"] });
    await core.createNode({ body: { metadata: { name: nodeName } } });
    await config.makeApiClient(CoordinationV1Api).createNamespacedLease({
      namespace: configNs,
      body: {
        metadata: { name: `ironlb-speaker-${nodeName}`, labels: { "ironlb.io/speaker-lease": "true" } },
        spec: {
          holderIdentity: nodeName,
          leaseDurationSeconds: 3600,
          renewTime: new V1MicroTime(new Date()),
        },
      },
    });
    await service("web", ["192.0.2.10"], {
      annotations: { "ironlb.io/allow-shared-ip": "team-a", "ironlb.io/ip-allocated-from-pool": "lan" },
    });
    await service("dark", ["192.0.2.20"], { annotations: { "ironlb.io/ip-allocated-from-pool": "dual" } });
    await service("waiting", [], {
      condition: {
        type: "ironlb.io/IPAllocated",
        status: "False",
        reason: "PoolExhausted",
        message: 'pool "lan" has no free IPv4 address',
        lastTransitionTime: new Date(),
      },
    });
    await service("theirs", [], { loadBalancerClass: "example.com/other" });
    await createIronLB(
      "servicel2statuses",
      "ServiceL2Status",
      `${ns}.web.${nodeName}`,
      {},
      {
        node: nodeName,
        serviceName: "web",
        serviceNamespace: ns,
      },
    );
  });

  afterAll(async () => {
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
    for (const name of [ns, configNs]) await core.deleteNamespace({ name }).catch(() => undefined);
  });

  test("-o json: pools per family and every Service's row", async () => {
    const run = await runCli([...args(), "-o", "json"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as StatusReport;
    expect(report.configErrors).toEqual([]);
    expect(report.pools).toEqual(
      [
        {
          name: "dual",
          source: "ironlb",
          counts: "status",
          ipv4: { total: "2", assigned: "1", available: "1" },
          ipv6: { total: "2", assigned: "0", available: "2" },
        },
        {
          name: "lan",
          source: "ironlb",
          counts: "computed",
          ipv4: { total: "4", assigned: "1", available: "3" },
          ipv6: undefined,
        },
      ].map((p) => JSON.parse(JSON.stringify(p)) as unknown),
    );
    const rows = new Map(report.services.filter((s) => s.namespace === ns).map((s) => [s.name, s]));
    expect(rows.get("web")).toMatchObject({
      ips: ["192.0.2.10"],
      pool: "lan",
      sharingKey: "team-a",
      l2Nodes: [nodeName],
      state: "allocated",
    });
    expect(rows.get("dark")).toMatchObject({ pool: "dual", state: "not-announced" });
    expect(rows.get("dark")?.reason).toContain('IPAddressPool "dual"');
    expect(rows.get("waiting")).toMatchObject({
      state: "pending",
      reason: 'PoolExhausted: pool "lan" has no free IPv4 address',
    });
    expect(rows.get("theirs")).toMatchObject({
      state: "other-class",
      reason: "loadBalancerClass example.com/other",
    });
  });

  test("table and yaml carry the same rows", async () => {
    const table = await runCli(args());
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      new RegExp(`${ns}/web\\s+192\\.0\\.2\\.10\\s+lan\\s+team-a\\s+l2:${nodeName}\\s+allocated`),
    );
    expect(table.stdout).toContain(`${ns}/waiting`);
    const yaml = parse((await runCli([...args(), "-o", "yaml"])).stdout) as StatusReport;
    expect(yaml.services.filter((s) => s.namespace === ns).map((s) => s.name)).toEqual([
      "dark",
      "theirs",
      "waiting",
      "web",
    ]);
  });

  test("BGP sessions per node from BGPSessionState objects: peer, state, prefixes, BFD", async () => {
    await createIronLB(
      "bgpsessionstates",
      "BGPSessionState",
      `tor.${nodeName}`,
      {},
      {
        node: nodeName,
        peer: "192.0.2.1",
        peerName: "tor",
        bgpStatus: "Established",
        bfdStatus: "Up",
        bfdProfile: "fast",
        advertisedPrefixes: 2,
        prefixes: ["198.51.100.7/32", "198.51.100.8/32"],
        stateSince: "2026-11-22T23:00:00.000Z",
      },
    );
    await createIronLB(
      "bgpsessionstates",
      "BGPSessionState",
      `backup.${nodeName}`,
      {},
      { node: nodeName, peer: "2001:db8:1::1", peerName: "backup", bgpStatus: "Active", bfdStatus: "N/A" },
    );
    const run = await runCli([...args(), "-o", "json"]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as StatusReport;
    expect(
      report.bgpSessions.map((b) => [
        b.node,
        b.peer,
        b.address,
        b.state,
        b.advertisedPrefixes,
        b.bfdState,
        b.stateSince,
      ]),
    ).toEqual([
      [nodeName, "backup", "2001:db8:1::1", "Active", 0, "N/A", undefined],
      [nodeName, "tor", "192.0.2.1", "Established", 2, "Up", "2026-11-22T23:00:00.000Z"],
    ]);
    const table = (await runCli(args())).stdout;
    expect(table).toContain("BGP SESSIONS");
    expect(table).toMatch(
      new RegExp(`${nodeName}\\s+tor \\(192\\.0\\.2\\.1\\)\\s+Established\\s+2\\s+Up \\(fast\\)`),
    );
    expect(table).toMatch(new RegExp(`${nodeName}\\s+backup \\(2001:db8:1::1\\)\\s+Active\\s+0\\s+-`));
  });

  test("the reader lists page by page, one collection per resource", async () => {
    for (let i = 0; i < 12; i++) {
      await core.createNamespacedService({
        namespace: ns,
        body: { metadata: { name: `page-${String(i)}` }, spec: { ports: [{ port: 80 }] } },
      });
    }
    const reader = new ClusterReader(config, AbortSignal.timeout(60_000), 5);
    const objects = await reader.clusterObjects(configNs);
    const ours = objects.services.filter((s) => s.metadata?.namespace === ns);
    expect(ours).toHaveLength(16);
    // Services came in pages of 5 from one collection; no call names a single object.
    expect(reader.pages.get("/api/v1/services")).toBe(Math.ceil(objects.services.length / 5));
    expect(reader.pages.get("/api/v1/nodes")).toBe(Math.max(1, Math.ceil(objects.nodes.length / 5)));
    for (const path of reader.pages.keys()) expect(path).not.toMatch(/\/services\/|page-/);
    expect(reader.calls).toBe([...reader.pages.values()].reduce((a, b) => a + b, 0));
  });
});
