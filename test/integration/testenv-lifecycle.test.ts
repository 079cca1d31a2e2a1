/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
// A control plane of this file's own: restarting etcd and the API server keeps the data and the
// endpoint, and stop() ends exactly the processes it started and removes its folder.
import { existsSync } from "node:fs";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { expect, test } from "vitest";
import { requestServiceAccountToken, serviceAccountUser } from "../../src/testenv/serviceAccount.js";
import { describeWithPrereqs } from "../support/e2e.js";
import { processAlive, useOwnControlPlane } from "../support/testenv.js";

const alive = processAlive;

async function readConfigMapData(
  config: KubeConfig,
  name: string,
): Promise<Record<string, string> | undefined> {
  const map = await config.makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: "default", name });
  return map.data;
}

describeWithPrereqs("test control plane lifecycle", { controlPlane: true }, () => {
  const controlPlane = useOwnControlPlane();
  const admin = (): KubeConfig => {
    const config = new KubeConfig();
    config.loadFromFile(controlPlane().kubeconfigPath);
    return config;
  };

  test("data survives an etcd restart and the API server reconnects on its own", async () => {
    const before = controlPlane().pids();
    await admin()
      .makeApiClient(CoreV1Api)
      .createNamespacedConfigMap({
        namespace: "default",
        body: { metadata: { name: "survivor" }, data: { written: "before-etcd-restart" } },
      });
    await controlPlane().restartEtcd({ downMs: 1_000 });
    const after = controlPlane().pids();
    expect(after.etcd).not.toBe(before.etcd);
    expect(after.kubeApiServer).toBe(before.kubeApiServer);
    await expect
      .poll(() => readConfigMapData(admin(), "survivor").catch(() => undefined), { timeout: 30_000 })
      .toEqual({ written: "before-etcd-restart" });
  });

  test("an API server killed with SIGKILL comes back on the same endpoint with the same data", async () => {
    const before = controlPlane().pids();
    const server = controlPlane().server;
    await controlPlane().restartApiServer({ signal: "SIGKILL" });
    expect(alive(before.kubeApiServer)).toBe(false);
    expect(controlPlane().pids().kubeApiServer).not.toBe(before.kubeApiServer);
    expect(controlPlane().server).toBe(server);
    expect(await readConfigMapData(admin(), "survivor")).toEqual({ written: "before-etcd-restart" });
  });

  test("a kubeconfig written for a ServiceAccount token identifies as that ServiceAccount", async () => {
    const token = await requestServiceAccountToken(controlPlane().kubeconfigPath, "default", "lab-agent");
    const path = await controlPlane().writeKubeconfig({
      userName: serviceAccountUser("default", "lab-agent"),
      token,
      namespace: "default",
    });
    const config = new KubeConfig();
    config.loadFromFile(path);
    expect(config.getContextObject(config.getCurrentContext())?.namespace).toBe("default");
    // Authenticated as the ServiceAccount, which has no grants: RBAC says 403, not 401.
    await expect(
      config.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: "default" }),
    ).rejects.toMatchObject({ code: 403 });
  });

  test("stop() ends exactly its own processes, removes its folder and can be called twice", async () => {
    const { etcd, kubeApiServer } = controlPlane().pids();
    expect(alive(etcd) && alive(kubeApiServer)).toBe(true);
    await controlPlane().stop();
    expect(alive(etcd)).toBe(false);
    expect(alive(kubeApiServer)).toBe(false);
    expect(existsSync(controlPlane().workDir)).toBe(false);
    await controlPlane().stop();
  });
});
