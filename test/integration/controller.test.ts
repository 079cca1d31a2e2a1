// `ironlb controller` against the real API server: allocation, sharing, dual-stack, requests,
// class filtering, exhaustion and hand-over, clearing, configuration changes, and a SIGKILL restart
// that changes no address. One controller (a child process) serves this file's Services; its own
// loadBalancerClass keeps it away from every other test's Services on the shared control plane.
import { KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, test } from "vitest";
import { describeWithPrereqs } from "../support/e2e.js";
import { sharedControlPlane, uniqueNamespace } from "../support/testenv.js";
import { Cluster, ControllerProcess, killAllControllers } from "./controllerHarness.js";
import { installCRDs } from "./ironlbProcess.js";

const inLan = (ip: string): boolean =>
  /^192\.0\.2\.(1\d|2\d)$/.test(ip) || /^2001:db8:1::(1|2)[0-9a-f]$/.test(ip);

describeWithPrereqs("ironlb controller on a real API server", { controlPlane: true }, () => {
  const configNs = uniqueNamespace("ilb-ctl");
  const ns = uniqueNamespace("ilb-svc");
  const lbClass = `ironlb.io/${uniqueNamespace("test")}`;
  let cluster: Cluster;
  let crds: string[];
  let controller: ControllerProcess;
  const kubeconfigPath = (): string => sharedControlPlane().kubeconfigPath;
  const ours = { loadBalancerClass: lbClass };

  beforeAll(async () => {
    const config = new KubeConfig();
    config.loadFromFile(kubeconfigPath());
    cluster = new Cluster(config);
    crds = await installCRDs(config);
    await cluster.namespace(configNs);
    await cluster.namespace(ns);
    await cluster.applyPool(configNs, "lan", {
      addresses: ["192.0.2.10-192.0.2.29", "2001:db8:1::10-2001:db8:1::2f"],
    });
    // Sorted before "lan": if autoAssign were ignored, automatic allocations would come from here.
    await cluster.applyPool(configNs, "aaa-manual", { addresses: ["192.0.2.90/31"], autoAssign: false });
    await cluster.applyPool(configNs, "reserved", {
      addresses: ["192.0.2.100-192.0.2.101"],
      autoAssign: false,
    });
    await cluster.applyPool(configNs, "tiny", { addresses: ["192.0.2.120/32"], autoAssign: false });
    await cluster.applyPool(configNs, "shrink", {
      addresses: ["192.0.2.130-192.0.2.132"],
      autoAssign: false,
    });
    controller = ControllerProcess.start({ kubeconfigPath: kubeconfigPath(), namespace: configNs, lbClass });
    await controller.reconciling();
  });

  afterAll(async () => {
    await killAllControllers();
    for (const name of [ns, configNs]) await cluster.core.deleteNamespace({ name }).catch(() => undefined);
  });

  test("the generated CRDs install and their objects are served", async () => {
    expect(crds).toContain("ipaddresspools.ironlb.io");
    expect(crds).toHaveLength(9);
    const pools = (await cluster.custom.listNamespacedCustomObject({
      group: "ironlb.io",
      version: "v1beta1",
      plural: "ipaddresspools",
      namespace: configNs,
    })) as { items: unknown[] };
    expect(pools.items).toHaveLength(5);
  });

  // How fast is a benchmark figure (bench/controller.bench.ts, create_*_latency_p50_ms/p99_ms).
  test("a new Service gets an address, with annotation, condition and Event", async () => {
    await cluster.createService(ns, "fast", ours);
    const [ip] = await cluster.waitForIPs(ns, "fast", 1, 30_000);
    expect(inLan(ip ?? "")).toBe(true);
    const svc = await cluster.service(ns, "fast");
    expect(svc.metadata?.annotations?.["ironlb.io/ip-allocated-from-pool"]).toBe("lan");
    expect(await cluster.condition(ns, "fast")).toMatchObject({ status: "True", reason: "Allocated" });
    await expect
      .poll(() => cluster.eventsFor(ns, "fast"), { timeout: 5000 })
      .toEqual([["IPAllocated", `Assigned IP ${ip ?? ""} from pool "lan"`]]);
  });

  test("Services with the same sharing key and different ports share an address", async () => {
    const shared = { ...ours, annotations: { "ironlb.io/allow-shared-ip": "web" } };
    await cluster.createService(ns, "share-http", { ...shared, ports: [{ port: 80 }] });
    await cluster.createService(ns, "share-https", { ...shared, ports: [{ port: 443 }] });
    await cluster.createService(ns, "share-http-too", { ...shared, ports: [{ port: 80 }] });
    const [a] = await cluster.waitForIPs(ns, "share-http");
    const [b] = await cluster.waitForIPs(ns, "share-https");
    const [c] = await cluster.waitForIPs(ns, "share-http-too");
    expect(b).toBe(a);
    // Same key but the same port: it cannot share.
    expect(c).not.toBe(a);
  });

  test("a RequireDualStack Service gets one IPv4 and one IPv6 address from one pool", async () => {
    await cluster.createService(ns, "dual", {
      ...ours,
      ipFamilyPolicy: "RequireDualStack",
      ipFamilies: ["IPv6", "IPv4"],
    });
    const ips = await cluster.waitForIPs(ns, "dual", 2);
    expect(ips[0]).toMatch(/^2001:db8:1::/);
    expect(ips[1]).toMatch(/^192\.0\.2\./);
    expect(ips.every(inLan)).toBe(true);
  });

  test("requested addresses: IronLB's annotation, MetalLB's annotation", async () => {
    await cluster.createService(ns, "asks-ironlb", {
      ...ours,
      annotations: { "ironlb.io/loadBalancerIPs": "192.0.2.25" },
    });
    await cluster.createService(ns, "asks-metallb", {
      ...ours,
      annotations: { "metallb.universe.tf/loadBalancerIPs": "192.0.2.26" },
    });
    expect(await cluster.waitForIPs(ns, "asks-ironlb")).toEqual(["192.0.2.25"]);
    expect(await cluster.waitForIPs(ns, "asks-metallb")).toEqual(["192.0.2.26"]);
  });

  test("a requested pool is used even with autoAssign false; automatic allocation skips such pools", async () => {
    await cluster.createService(ns, "asks-pool", {
      ...ours,
      annotations: { "ironlb.io/address-pool": "reserved" },
    });
    await cluster.createService(ns, "automatic", ours);
    expect(await cluster.waitForIPs(ns, "asks-pool")).toEqual(["192.0.2.100"]);
    const [auto] = await cluster.waitForIPs(ns, "automatic");
    expect(inLan(auto ?? "")).toBe(true);
  });

  test("Services of another class, or without one, are left alone", async () => {
    await cluster.createService(ns, "other-class", { loadBalancerClass: "other.example/lb" });
    await cluster.createService(ns, "no-class");
    // A Service of ours created afterwards is served: the controller has seen the others by then.
    await cluster.createService(ns, "after-others", ours);
    await cluster.waitForIPs(ns, "after-others");
    await new Promise((r) => setTimeout(r, 500));
    for (const name of ["other-class", "no-class"]) {
      const svc = await cluster.service(ns, name);
      expect(svc.status?.loadBalancer?.ingress ?? []).toEqual([]);
      expect(svc.status?.conditions ?? []).toEqual([]);
      expect(svc.metadata?.annotations?.["ironlb.io/ip-allocated-from-pool"]).toBeUndefined();
    }
  });

  test("pool exhaustion: AllocationFailed Event and condition; a deleted Service hands its address over", async () => {
    const tiny = { ...ours, annotations: { "ironlb.io/address-pool": "tiny" } };
    await cluster.createService(ns, "tiny-first", tiny);
    expect(await cluster.waitForIPs(ns, "tiny-first")).toEqual(["192.0.2.120"]);
    await cluster.createService(ns, "tiny-second", tiny);
    await expect
      .poll(() => cluster.condition(ns, "tiny-second"), { timeout: 5000 })
      .toMatchObject({
        status: "False",
        reason: "PoolExhausted",
        message: 'pool "tiny" has no free IPv4 address left',
      });
    await expect
      .poll(() => cluster.eventsFor(ns, "tiny-second"), { timeout: 5000 })
      .toEqual([["AllocationFailed", 'PoolExhausted: pool "tiny" has no free IPv4 address left']]);

    await cluster.core.deleteNamespacedService({ namespace: ns, name: "tiny-first" });
    expect(await cluster.waitForIPs(ns, "tiny-second")).toEqual(["192.0.2.120"]);
    expect(await cluster.condition(ns, "tiny-second")).toMatchObject({ status: "True", reason: "Allocated" });
  });

  test("LoadBalancer → NodePort clears status, condition and annotation", async () => {
    await cluster.createService(ns, "goes-nodeport", ours);
    const [ip] = await cluster.waitForIPs(ns, "goes-nodeport");
    await cluster.core.patchNamespacedService(
      { namespace: ns, name: "goes-nodeport", body: { spec: { type: "NodePort", loadBalancerClass: null } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await expect
      .poll(
        async () => {
          const svc = await cluster.service(ns, "goes-nodeport");
          return {
            ingress: svc.status?.loadBalancer?.ingress ?? [],
            conditions: svc.status?.conditions ?? [],
            pool: svc.metadata?.annotations?.["ironlb.io/ip-allocated-from-pool"],
          };
        },
        { timeout: 5000 },
      )
      .toEqual({ ingress: [], conditions: [], pool: undefined });
    await expect
      .poll(async () => (await cluster.eventsFor(ns, "goes-nodeport")).map(([reason]) => reason), {
        timeout: 5000,
      })
      .toEqual(["IPAllocated", "ClearAssignment"]);
    expect((await cluster.eventsFor(ns, "goes-nodeport"))[1]?.[1]).toContain(`released ${ip ?? ""}`);
  });

  test("a pool shrunk under an allocated address re-allocates exactly that Service", async () => {
    const shrink = { ...ours, annotations: { "ironlb.io/address-pool": "shrink" } };
    await cluster.createService(ns, "shrink-keeps", shrink);
    expect(await cluster.waitForIPs(ns, "shrink-keeps")).toEqual(["192.0.2.130"]);
    await cluster.createService(ns, "shrink-moves", shrink);
    expect(await cluster.waitForIPs(ns, "shrink-moves")).toEqual(["192.0.2.131"]);
    const keptVersion = (await cluster.service(ns, "shrink-keeps")).metadata?.resourceVersion;

    await cluster.applyPool(configNs, "shrink", {
      addresses: ["192.0.2.130", "192.0.2.132"],
      autoAssign: false,
    });
    await expect.poll(() => cluster.ips(ns, "shrink-moves"), { timeout: 5000 }).toEqual(["192.0.2.132"]);
    const kept = await cluster.service(ns, "shrink-keeps");
    expect(kept.status?.loadBalancer?.ingress?.map((i) => i.ip)).toEqual(["192.0.2.130"]);
    expect(kept.metadata?.resourceVersion).toBe(keptVersion);
  });

  test("an invalid configuration keeps the last good one (ironlb_config_stale) and every address", async () => {
    const before = await cluster.ips(ns, "fast");
    await cluster.applyPool(configNs, "broken", { addresses: ["192.0.2.200-192.0.2.199"] });
    await expect.poll(() => controller.metrics(), { timeout: 5000 }).toMatch(/^ironlb_config_stale 1$/m);
    await cluster.createService(ns, "during-stale", ours);
    const [ip] = await cluster.waitForIPs(ns, "during-stale");
    expect(inLan(ip ?? "")).toBe(true);
    expect(await cluster.ips(ns, "fast")).toEqual(before);

    await cluster.custom.deleteNamespacedCustomObject({
      group: "ironlb.io",
      version: "v1beta1",
      plural: "ipaddresspools",
      namespace: configNs,
      name: "broken",
    });
    await expect.poll(() => controller.metrics(), { timeout: 5000 }).toMatch(/^ironlb_config_stale 0$/m);
  });

  test("IPAddressPool status counts follow the allocations", async () => {
    await expect
      .poll(() => cluster.poolStatus(configNs, "reserved"), { timeout: 5000 })
      .toEqual({ assignedIPv4: 1, assignedIPv6: 0, availableIPv4: 1, availableIPv6: 0 });
    await expect
      .poll(() => cluster.poolStatus(configNs, "tiny"), { timeout: 5000 })
      .toEqual({ assignedIPv4: 1, assignedIPv6: 0, availableIPv4: 0, availableIPv6: 0 });
    const metrics = await controller.metrics();
    expect(metrics).toMatch(/^ironlb_allocator_addresses_in_use_total\{pool="tiny",family="IPv4"\} 1$/m);
    expect(metrics).toMatch(/^ironlb_allocator_addresses_total\{pool="lan",family="IPv6"\} 32$/m);
    expect(metrics).toMatch(/^ironlb_allocator_allocation_failures_total\{reason="PoolExhausted"\} 1$/m);
  });

  test("SIGKILL and restart: no address changes, and Services created meanwhile get free ones", async () => {
    const list = await cluster.core.listNamespacedService({ namespace: ns });
    const before = new Map(
      list.items.map((s) => [
        s.metadata?.name ?? "",
        (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip),
      ]),
    );
    await controller.kill("SIGKILL");
    await cluster.createService(ns, "while-down", ours);
    controller = ControllerProcess.start({ kubeconfigPath: kubeconfigPath(), namespace: configNs, lbClass });
    const loaded = await controller.reconciling();
    expect(loaded.rejected).toBe(0);
    const [fresh] = await cluster.waitForIPs(ns, "while-down");
    const taken = [...before.values()].flat();
    expect(taken).not.toContain(fresh);
    const after = await cluster.core.listNamespacedService({ namespace: ns });
    for (const s of after.items) {
      const name = s.metadata?.name ?? "";
      if (name === "while-down") continue;
      expect([name, (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip)]).toEqual([
        name,
        before.get(name),
      ]);
    }
  });
});
