// The controller rides out a restart of the API server and of etcd under it: its informers
// reconnect, failed writes are retried, and it keeps allocating without a restart of its own.
// This file has its own control plane (the shared one must stay up), so the controller here
// serves the default class: Services without a loadBalancerClass.
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, test } from "vitest";
import { MEMBERSHIP_SECRET_NAME } from "../../src/membership/secret.js";
import { describeWithPrereqs } from "../support/e2e.js";
import { processAlive, useOwnControlPlane } from "../support/testenv.js";
import { Cluster, ControllerProcess, killAllControllers } from "./controllerHarness.js";
import { installCRDs } from "./ironlbProcess.js";

describeWithPrereqs("ironlb controller across API server and etcd restarts", { controlPlane: true }, () => {
  const controlPlane = useOwnControlPlane();
  const configNs = "ironlb-system";
  const ns = "apps";
  let cluster: Cluster;
  let controller: ControllerProcess;

  beforeAll(async () => {
    const config = new KubeConfig();
    config.loadFromFile(controlPlane().kubeconfigPath);
    cluster = new Cluster(config);
    await installCRDs(config);
    await cluster.namespace(configNs);
    await cluster.namespace(ns);
    await cluster.applyPool(configNs, "lan", { addresses: ["192.0.2.200-192.0.2.250"] });
    controller = ControllerProcess.start({
      kubeconfigPath: controlPlane().kubeconfigPath,
      namespace: configNs,
    });
    await controller.reconciling();
  });

  afterAll(async () => {
    await killAllControllers();
  });

  test("a Service without a loadBalancerClass is served by the default controller", async () => {
    await cluster.createService(ns, "first");
    expect(await cluster.waitForIPs(ns, "first")).toEqual(["192.0.2.200"]);
  });

  test("the leader creates the speakers' membership key Secret", async () => {
    await expect
      .poll(
        () =>
          cluster.core
            .readNamespacedSecret({ namespace: configNs, name: MEMBERSHIP_SECRET_NAME })
            .then((s) => Object.keys(s.data ?? {}).length > 0),
        { timeout: 10_000 },
      )
      .toBe(true);
  });

  test("after an API server restart it keeps allocating, with the same process", async () => {
    const pid = controller.pid;
    await controlPlane().restartApiServer({ downMs: 2000 });
    await cluster.createService(ns, "after-apiserver");
    expect(await cluster.waitForIPs(ns, "after-apiserver", 1, 45_000)).toEqual(["192.0.2.201"]);
    expect(processAlive(pid)).toBe(true);
    expect(await cluster.ips(ns, "first")).toEqual(["192.0.2.200"]);
  });

  test("after an etcd restart it keeps allocating, with the same process", async () => {
    const pid = controller.pid;
    await controlPlane().restartEtcd({ downMs: 2000 });
    await expect
      .poll(
        () =>
          cluster.createService(ns, "after-etcd").then(
            () => true,
            () => false,
          ),
        { timeout: 30_000 },
      )
      .toBe(true);
    expect(await cluster.waitForIPs(ns, "after-etcd", 1, 45_000)).toEqual(["192.0.2.202"]);
    expect(processAlive(pid)).toBe(true);
    expect(controller.logs.filter((l) => l.msg === "leading: reconciling")).toHaveLength(1);
  });
});
