/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
// The supervised informer against the real API server: namespaced, cluster-scoped and custom
// resources; an optional informer that waits for its CRD and lets go when it is deleted; RBAC
// failures retried; and recovery when the API server is killed and restarted under it.
import type { KubernetesObject, V1Service } from "@kubernetes/client-node";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { createKubeClients, type KubeClients } from "../../src/k8s/client.js";
import { Informer, type InformerOptions } from "../../src/k8s/informer.js";
import { KubeHttpError, httpListWatch } from "../../src/k8s/listWatch.js";
import { coreResources, type ResourceRef } from "../../src/k8s/resource.js";
import { describeWithPrereqs } from "../support/e2e.js";
import {
  kubeConfigFor,
  sharedControlPlane,
  uniqueNamespace,
  useOwnControlPlane,
} from "../support/testenv.js";

interface Watched<T extends KubernetesObject> {
  informer: Informer<T>;
  events: string[];
  stop(): Promise<void>;
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

function watch<T extends KubernetesObject>(
  clients: KubeClients,
  options: Omit<InformerOptions<T>, "client" | "handlers">,
): Watched<T> {
  const events: string[] = [];
  const informer = new Informer<T>({
    ...options,
    client: httpListWatch(clients.config, { agent: clients.agent }),
    handlers: {
      onAdd: (o) => events.push(`add ${o.metadata?.name ?? ""}`),
      onUpdate: (_old, o) => events.push(`update ${o.metadata?.name ?? ""}`),
      onDelete: (o) => events.push(`delete ${o.metadata?.name ?? ""}`),
    },
  });
  const controller = new AbortController();
  const running = informer.run(controller.signal);
  const stop = async (): Promise<void> => {
    controller.abort();
    await running;
  };
  stops.push(stop);
  return { informer, events, stop };
}

async function eventually(condition: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function service(name: string, labels: Record<string, string> = {}): V1Service {
  return {
    metadata: { name, labels },
    spec: { type: "LoadBalancer", ports: [{ name: "http", port: 80, protocol: "TCP" }] },
  };
}

describeWithPrereqs("informer on the shared API server", { controlPlane: true }, () => {
  const namespace = uniqueNamespace("informer");
  let clients: KubeClients;

  beforeAll(async () => {
    clients = createKubeClients(kubeConfigFor(sharedControlPlane()));
    await clients.core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  test("follows Services in one namespace: add, update, delete, with the cache in step", async () => {
    await clients.core.createNamespacedService({ namespace, body: service("before") });
    const w = watch<V1Service>(clients, { resource: coreResources.services, namespace });
    expect(await w.informer.waitForSync()).toBe(true);
    expect(w.informer.keys()).toEqual([`${namespace}/before`]);

    await clients.core.createNamespacedService({ namespace, body: service("after") });
    await eventually(() => w.events.includes("add after"));
    await clients.core.patchNamespacedService({
      namespace,
      name: "after",
      body: [{ op: "add", path: "/metadata/annotations", value: { touched: "yes" } }],
    });
    await eventually(() => w.informer.get(`${namespace}/after`)?.metadata?.annotations?.touched === "yes");
    expect(w.events).toContain("update after");
    await clients.core.deleteNamespacedService({ namespace, name: "before" });
    await eventually(() => w.events.includes("delete before"));
    expect(w.informer.keys()).toEqual([`${namespace}/after`]);
    expect(w.informer.list(namespace).map((s) => s.spec?.type)).toEqual(["LoadBalancer"]);
    expect(w.informer.restarts()).toBe(0);
  });

  test("cluster-scoped Namespaces with a label selector", async () => {
    const label = uniqueNamespace("sel");
    const w = watch(clients, { resource: coreResources.namespaces, labelSelector: `ironlb-test=${label}` });
    expect(await w.informer.waitForSync()).toBe(true);
    expect(w.informer.size()).toBe(0);
    const name = uniqueNamespace("labelled");
    await clients.core.createNamespace({ body: { metadata: { name, labels: { "ironlb-test": label } } } });
    await clients.core.createNamespace({ body: { metadata: { name: `${name}-other` } } });
    await eventually(() => w.informer.get(name) !== undefined);
    expect(w.informer.get(`${name}-other`)).toBeUndefined();
    expect(w.informer.keys()).toEqual([name]);
  });

  test("an identity without RBAC grants never syncs and keeps retrying with the 403", async () => {
    const unprivileged = createKubeClients(
      kubeConfigFor(sharedControlPlane(), sharedControlPlane().unprivilegedToken),
    );
    const w = watch(unprivileged, {
      resource: coreResources.services,
      backoff: { initialMs: 50, maxMs: 200 },
    });
    await eventually(() => w.informer.restarts() >= 3);
    expect(w.informer.hasSynced()).toBe(false);
    expect(w.informer.lastError()).toBeInstanceOf(KubeHttpError);
    expect((w.informer.lastError() as KubeHttpError).statusCode).toBe(403);
  });

  describe("a custom resource whose CRD comes and goes (optional mode)", () => {
    const group = `t${Date.now().toString(36)}.informer.ironlb.io`;
    const widgets: ResourceRef = {
      group,
      version: "v1",
      plural: "widgets",
      kind: "Widget",
      namespaced: true,
    };
    const crdName = `widgets.${group}`;

    afterAll(async () => {
      await clients.apiextensions.deleteCustomResourceDefinition({ name: crdName }).catch(() => undefined);
    });

    test("absent → synced and empty; CRD created → objects appear; CRD deleted → objects deleted", async () => {
      const w = watch(clients, { resource: widgets, optional: true, optionalRecheckMs: 300 });
      expect(await w.informer.waitForSync()).toBe(true);
      expect(w.informer.state()).toBe("absent");

      await clients.apiextensions.createCustomResourceDefinition({
        body: {
          metadata: { name: crdName },
          spec: {
            group,
            scope: "Namespaced",
            names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
            versions: [
              {
                name: "v1",
                served: true,
                storage: true,
                schema: {
                  openAPIV3Schema: {
                    type: "object",
                    properties: { spec: { type: "object", x_kubernetes_preserve_unknown_fields: true } },
                  },
                },
              },
            ],
          },
        },
      });
      // Creating a CR needs the CRD established; retry until the server accepts it.
      await eventually(() => w.informer.state() === "watching", 15_000, "informer watching widgets");
      const create = () =>
        clients.customObjects.createNamespacedCustomObject({
          group,
          version: "v1",
          namespace,
          plural: "widgets",
          body: { apiVersion: `${group}/v1`, kind: "Widget", metadata: { name: "w1" }, spec: { size: 3 } },
        });
      for (let attempt = 0; ; attempt++) {
        try {
          await create();
          break;
        } catch (error) {
          if (attempt > 50) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      await eventually(() => w.events.includes("add w1"));
      expect(w.informer.get(`${namespace}/w1`)).toMatchObject({ spec: { size: 3 } });

      await clients.apiextensions.deleteCustomResourceDefinition({ name: crdName });
      await eventually(() => w.informer.state() === "absent", 20_000, "informer back to absent");
      expect(w.informer.size()).toBe(0);
      expect(w.events).toContain("delete w1");
      expect(w.informer.hasSynced()).toBe(true);
    });
  });
});

describeWithPrereqs("informer across an API server restart", { controlPlane: true }, () => {
  const controlPlane = useOwnControlPlane();
  const namespace = "restart";
  let clients: KubeClients;

  beforeAll(async () => {
    clients = createKubeClients(kubeConfigFor(controlPlane()));
    await clients.core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  for (const signal of ["SIGKILL", "SIGTERM"] as const) {
    test(`restarts its watch after the API server is stopped with ${signal}, cache intact`, async () => {
      const first = `first-${signal.toLowerCase()}`;
      const second = `second-${signal.toLowerCase()}`;
      await clients.core.createNamespacedService({ namespace, body: service(first) });
      const w = watch(clients, {
        resource: coreResources.services,
        namespace,
        backoff: { initialMs: 200, maxMs: 1000 },
      });
      expect(await w.informer.waitForSync()).toBe(true);
      await eventually(() => w.informer.state() === "watching");
      const restartsBefore = w.informer.restarts();

      await controlPlane().restartApiServer({ signal, downMs: 2000 });
      // The cache kept answering while the server was away.
      expect(w.informer.get(`${namespace}/${first}`)).toBeDefined();

      await clients.core.createNamespacedService({ namespace, body: service(second) });
      await eventually(() => w.events.includes(`add ${second}`), 30_000, `informer sees ${second}`);
      expect(w.informer.restarts()).toBeGreaterThan(restartsBefore);
      expect(w.informer.state()).toBe("watching");
      expect(w.events.filter((e) => e === `add ${first}`)).toHaveLength(1);
    });
  }
});
