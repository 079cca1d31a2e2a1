/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
// The shared test control plane is a real Kubernetes API server: objects round-trip through etcd,
// dual-stack Service allocation happens, RBAC denies what it should, ServiceAccount tokens work.
import {
  ApiException,
  AuthenticationV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  VersionApi,
} from "@kubernetes/client-node";
import { beforeAll, expect, test } from "vitest";
import { parseAddressRange, parseIP, rangeContains } from "../../src/net/ip.js";
import {
  adminUser,
  defaultServiceClusterIPRanges,
  unprivilegedUser,
} from "../../src/testenv/controlPlane.js";
import { requestServiceAccountToken, serviceAccountUser } from "../../src/testenv/serviceAccount.js";
import { describeWithPrereqs } from "../support/e2e.js";
import { kubeConfigFor, sharedControlPlane, uniqueNamespace } from "../support/testenv.js";

/** Who the API server says the holder of `config` is. */
async function whoAmI(config: KubeConfig): Promise<{ username?: string; groups?: string[] }> {
  const review = await config.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
  return review.status?.userInfo ?? {};
}

/** The HTTP status of a failed client-node call, or "ok". */
async function statusOf(call: () => Promise<unknown>): Promise<number | "ok"> {
  try {
    await call();
    return "ok";
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}

describeWithPrereqs("test control plane", { controlPlane: true }, () => {
  const namespace = uniqueNamespace("testenv");
  let admin: KubeConfig;

  beforeAll(async () => {
    admin = new KubeConfig();
    // Through the kubeconfig file the starter wrote, as a separate process would load it.
    admin.loadFromFile(sharedControlPlane().kubeconfigPath);
    await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  });

  test("serves a Kubernetes version", async () => {
    const info = await admin.makeApiClient(VersionApi).getCode();
    expect(info.gitVersion).toMatch(/^v1\.\d+\.\d+/);
  });

  test("a dual-stack Service gets one ClusterIP per family from the configured ranges", async () => {
    const core = admin.makeApiClient(CoreV1Api);
    await core.createNamespacedService({
      namespace,
      body: {
        metadata: { name: "dual" },
        spec: {
          type: "LoadBalancer",
          ipFamilyPolicy: "RequireDualStack",
          ipFamilies: ["IPv4", "IPv6"],
          ports: [{ name: "http", port: 80, protocol: "TCP" }],
        },
      },
    });
    const read = await core.readNamespacedService({ namespace, name: "dual" });
    expect(read.spec?.type).toBe("LoadBalancer");
    expect(read.spec?.ipFamilies).toEqual(["IPv4", "IPv6"]);
    const clusterIPs = read.spec?.clusterIPs ?? [];
    expect(clusterIPs).toHaveLength(2);
    defaultServiceClusterIPRanges.forEach((cidr, i) => {
      expect(
        rangeContains(parseAddressRange(cidr), parseIP(clusterIPs[i] ?? "")),
        `${clusterIPs[i]} in ${cidr}`,
      ).toBe(true);
    });
    // A LoadBalancer Service with no load balancer implementation running stays pending.
    expect(read.status?.loadBalancer?.ingress ?? []).toEqual([]);
  });

  test("RBAC denies an authenticated user without grants and allows the admin", async () => {
    const connection = sharedControlPlane();
    const user = kubeConfigFor(connection, connection.unprivilegedToken).makeApiClient(CoreV1Api);
    expect(await statusOf(() => user.listNamespacedService({ namespace }))).toBe(403);
    expect(
      await statusOf(() => user.createNamespace({ body: { metadata: { name: `${namespace}-x` } } })),
    ).toBe(403);
    expect(await statusOf(() => admin.makeApiClient(CoreV1Api).listNamespacedService({ namespace }))).toBe(
      "ok",
    );
    // A garbage token is not authenticated at all.
    const stranger = kubeConfigFor(connection, "not-a-token").makeApiClient(CoreV1Api);
    expect(await statusOf(() => stranger.listNamespacedService({ namespace }))).toBe(401);
  });

  test("the admin token is in system:masters and the unprivileged token is a plain user", async () => {
    const connection = sharedControlPlane();
    const self = await whoAmI(admin);
    expect(self.username).toBe(adminUser);
    expect(self.groups).toContain("system:masters");
    const user = await whoAmI(kubeConfigFor(connection, connection.unprivilegedToken));
    expect(user.username).toBe(unprivilegedUser);
    expect(user.groups).toEqual(["system:authenticated"]);
  });

  test("a ServiceAccount token from TokenRequest authenticates and gets exactly what a RoleBinding grants", async () => {
    const connection = sharedControlPlane();
    const token = await requestServiceAccountToken(connection.kubeconfigPath, namespace, "reader");
    const reader = kubeConfigFor(connection, token).makeApiClient(CoreV1Api);
    expect(await statusOf(() => reader.listNamespacedService({ namespace }))).toBe(403);

    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: "service-reader" },
        rules: [{ apiGroups: [""], resources: ["services"], verbs: ["get", "list"] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: "reader" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "service-reader" },
        subjects: [{ kind: "ServiceAccount", name: "reader", namespace }],
      },
    });
    // RBAC changes reach the authorizer through its informer: allow a moment.
    await expect
      .poll(() => statusOf(() => reader.listNamespacedService({ namespace })), { timeout: 10_000 })
      .toBe("ok");
    expect(await statusOf(() => reader.deleteNamespacedService({ namespace, name: "dual" }))).toBe(403);

    expect((await whoAmI(kubeConfigFor(connection, token))).username).toBe(
      serviceAccountUser(namespace, "reader"),
    );
  });
});
