// Two `ironlb controller --leader-elect` replicas: only the leader writes; when the leader is
// killed outright, the standby takes the Lease once it expires and keeps allocating, without
// changing any address. (Short election timings through hidden flags keep the test quick.)
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, test } from "vitest";
import { describeWithPrereqs } from "../support/e2e.js";
import { sharedControlPlane, uniqueNamespace } from "../support/testenv.js";
import { Cluster, ControllerProcess, killAllControllers } from "./controllerHarness.js";
import { installCRDs } from "./ironlbProcess.js";

const FAST_ELECTION = [
  "--lease-duration-ms",
  "4000",
  "--renew-deadline-ms",
  "3000",
  "--retry-period-ms",
  "500",
];

describeWithPrereqs("ironlb controller with leader election", { controlPlane: true }, () => {
  const configNs = uniqueNamespace("ilb-ha");
  const ns = uniqueNamespace("ilb-ha-svc");
  const lbClass = `ironlb.io/${uniqueNamespace("ha")}`;
  let cluster: Cluster;

  beforeAll(async () => {
    const config = new KubeConfig();
    config.loadFromFile(sharedControlPlane().kubeconfigPath);
    cluster = new Cluster(config);
    await installCRDs(config);
    await cluster.namespace(configNs);
    await cluster.namespace(ns);
    await cluster.applyPool(configNs, "lan", { addresses: ["192.0.2.40-192.0.2.49"] });
  });

  afterAll(async () => {
    await killAllControllers();
    for (const name of [ns, configNs]) await cluster.core.deleteNamespace({ name }).catch(() => undefined);
  });

  test("only the leader writes; after the leader is killed the standby takes over and keeps allocating", async () => {
    const start = () =>
      ControllerProcess.start({
        kubeconfigPath: sharedControlPlane().kubeconfigPath,
        namespace: configNs,
        lbClass,
        leaderElect: true,
        extraArgs: FAST_ELECTION,
      });
    const replicas = [start(), start()];
    const leader = await Promise.race(
      replicas.map(async (r) => {
        await r.reconciling();
        return r;
      }),
    );
    const standby = replicas.find((r) => r !== leader);
    if (standby === undefined) throw new Error("two replicas expected");
    // The standby's caches are warm: it is ready, though not leading.
    await standby.waitForLog((l) => l.msg === "leader observed" && typeof l.leader === "string");
    await expect
      .poll(async () => (await fetch(`http://127.0.0.1:${await standby.metricsPort()}/readyz`)).status, {
        timeout: 10_000,
      })
      .toBe(200);
    expect(await standby.metrics()).toMatch(/^ironlb_controller_leader 0$/m);
    expect(await leader.metrics()).toMatch(/^ironlb_controller_leader 1$/m);

    await cluster.createService(ns, "before", { loadBalancerClass: lbClass });
    const [before] = await cluster.waitForIPs(ns, "before");
    await leader.waitForLog((l) => l.msg === "service updated" && l.service === `${ns}/before`, 5000);
    expect(standby.logs.some((l) => l.msg === "service updated")).toBe(false);

    await leader.kill("SIGKILL");
    await cluster.createService(ns, "after", { loadBalancerClass: lbClass });
    // The takeover waits for the 4 s Lease to expire; how long it takes is a benchmark figure
    // (bench/takeover.bench.ts, controller_sigkill_takeover_*).
    await standby.reconciling(60_000);
    const [after] = await cluster.waitForIPs(ns, "after", 1, 60_000);
    expect(after).not.toBe(before);
    expect(await cluster.ips(ns, "before")).toEqual([before]);
  });
});
