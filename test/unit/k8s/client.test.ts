import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiException } from "@kubernetes/client-node";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  KubeConfigError,
  apiStatusCode,
  createKubeClients,
  isConflict,
  isGone,
  isNotFound,
  loadKubeConfig,
  requestOptions,
} from "../../../src/k8s/client.js";
import { KubeHttpError } from "../../../src/k8s/listWatch.js";
import { FakeApiServer, sendJson, status } from "./fakeApiServer.js";

const dir = mkdtempSync(join(tmpdir(), "ilb-kubeconfig-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function kubeconfigFile(name: string, server: string, contexts = ["main"]): string {
  const path = join(dir, name);
  const text = [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    ...contexts.flatMap((c, i) => [
      `- name: ${c}`,
      "  cluster:",
      `    server: ${server.replace("PORT", String(6443 + i))}`,
    ]),
    "users:",
    "- name: tester",
    "  user:",
    "    token: abc",
    "contexts:",
    ...contexts.flatMap((c) => [`- name: ${c}`, "  context:", `    cluster: ${c}`, "    user: tester"]),
    `current-context: ${contexts[0] ?? ""}`,
    "",
  ].join("\n");
  writeFileSync(path, text);
  return path;
}

describe("loadKubeConfig", () => {
  it("loads the --kubeconfig file, whatever KUBECONFIG says", () => {
    const path = kubeconfigFile("a.yaml", "https://127.0.0.1:PORT");
    const config = loadKubeConfig({ kubeconfig: path }, { KUBECONFIG: "/nonexistent" });
    expect(config.getCurrentCluster()?.server).toBe("https://127.0.0.1:6443");
  });

  it("switches to the requested context", () => {
    const path = kubeconfigFile("b.yaml", "https://127.0.0.1:PORT", ["one", "two"]);
    const config = loadKubeConfig({ kubeconfig: path, context: "two" }, {});
    expect(config.getCurrentCluster()?.server).toBe("https://127.0.0.1:6444");
  });

  it("falls back to the first file named by KUBECONFIG", () => {
    const path = kubeconfigFile("c.yaml", "https://127.0.0.1:PORT");
    const config = loadKubeConfig({}, { KUBECONFIG: `${path}:/other/file` });
    expect(config.getCurrentCluster()?.server).toBe("https://127.0.0.1:6443");
  });

  const failures: {
    description: string;
    source: Parameters<typeof loadKubeConfig>[0];
    env: NodeJS.ProcessEnv;
  }[] = [
    { description: "nothing configured and not in a cluster", source: {}, env: {} },
    { description: "a missing file", source: { kubeconfig: join(dir, "missing.yaml") }, env: {} },
    {
      description: "in-cluster environment without a service account token",
      source: {},
      env: { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" },
    },
  ];
  for (const { description, source, env } of failures) {
    it(`throws KubeConfigError for ${description}`, () => {
      expect(() => loadKubeConfig(source, env)).toThrow(KubeConfigError);
    });
  }

  it("throws KubeConfigError for an unknown context", () => {
    const path = kubeconfigFile("d.yaml", "https://127.0.0.1:PORT");
    expect(() => loadKubeConfig({ kubeconfig: path, context: "nope" }, {})).toThrow(KubeConfigError);
  });

  it("throws KubeConfigError for a file that is not YAML", () => {
    const path = join(dir, "broken.yaml");
    writeFileSync(path, "clusters: [unclosed\n");
    expect(() => loadKubeConfig({ kubeconfig: path }, {})).toThrow(KubeConfigError);
  });
});

describe("createKubeClients", () => {
  const servers: FakeApiServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  it("typed calls go through one keep-alive connection and report each status", async () => {
    const server = await new FakeApiServer((req, res, url) => {
      if (url.pathname === "/api/v1/namespaces/ironlb-system") {
        sendJson(res, 200, { apiVersion: "v1", kind: "Namespace", metadata: { name: "ironlb-system" } });
      } else {
        sendJson(res, 404, status(404, "NotFound", `${req.url ?? ""} not found`));
      }
    }).start();
    servers.push(server);
    const statuses: number[] = [];
    const clients = createKubeClients(server.kubeConfig(), { onResponse: (code) => statuses.push(code) });
    for (let i = 0; i < 3; i++) {
      const namespace = await clients.core.readNamespace({ name: "ironlb-system" });
      expect(namespace.metadata?.name).toBe("ironlb-system");
    }
    const missing = await clients.coordination
      .readNamespacedLease({ name: "x", namespace: "ironlb-system" })
      .catch((e: unknown) => e);
    expect(isNotFound(missing)).toBe(true);
    expect(statuses).toEqual([200, 200, 200, 404]);
    expect(server.connections).toBe(1);
    expect(server.requests.every((r) => r.authorization === "Bearer t0ken")).toBe(true);
  });

  it("requestOptions bounds a call to a server that never answers", async () => {
    const server = await new FakeApiServer(() => {
      // never respond
    }).start();
    servers.push(server);
    const clients = createKubeClients(server.kubeConfig());
    const started = Date.now();
    await expect(
      clients.core.readNamespace({ name: "x" }, requestOptions({ timeoutMs: 100 })),
    ).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(3000);

    const controller = new AbortController();
    const pending = clients.core.readNamespace({ name: "x" }, requestOptions({ signal: controller.signal }));
    controller.abort();
    await expect(pending).rejects.toThrow();
  });
});

describe("apiStatusCode", () => {
  const cases: { description: string; error: unknown; code: number | undefined }[] = [
    { description: "client-node ApiException", error: new ApiException(409, "conflict", {}, {}), code: 409 },
    { description: "our KubeHttpError", error: new KubeHttpError(410, "gone"), code: 410 },
    {
      description: "a statusCode-shaped error",
      error: Object.assign(new Error("x"), { statusCode: 404 }),
      code: 404,
    },
    {
      description: "a network error with a string code",
      error: Object.assign(new Error("x"), { code: "ECONNREFUSED" }),
      code: undefined,
    },
    { description: "a non-object", error: "boom", code: undefined },
  ];
  for (const { description, error, code } of cases) {
    it(description, () => {
      expect(apiStatusCode(error)).toBe(code);
    });
  }

  it("classifies 404, 409 and 410", () => {
    expect([isNotFound, isConflict, isGone].map((f) => f(new KubeHttpError(409, "")))).toEqual([
      false,
      true,
      false,
    ]);
    expect(isNotFound(new ApiException(404, "", {}, {}))).toBe(true);
    expect(isGone(new KubeHttpError(410, ""))).toBe(true);
  });
});
