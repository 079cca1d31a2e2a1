import type { KubernetesObject } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import {
  Informer,
  InformerError,
  waitForCacheSync,
  type InformerOptions,
} from "../../../src/k8s/informer.js";
import { KubeHttpError } from "../../../src/k8s/listWatch.js";
import { coreResources, type ResourceRef } from "../../../src/k8s/resource.js";
import { ManualClock } from "../../../src/runtime/clock.js";
import { FakeListWatch } from "./fakeListWatch.js";

const things: ResourceRef = {
  group: "example.io",
  version: "v1",
  plural: "things",
  kind: "Thing",
  namespaced: true,
};

interface Harness {
  informer: Informer;
  api: FakeListWatch;
  clock: ManualClock;
  events: string[];
  controller: AbortController;
  done: Promise<void>;
}

const running: Harness[] = [];
afterEach(async () => {
  for (const h of running.splice(0)) {
    h.controller.abort();
    await h.done;
  }
});

function name(o: KubernetesObject): string {
  return `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
}

/** An informer on a fake API with a manual clock; random 0.5 makes backoff exactly 500, 1000, ... */
function harness(
  options: Partial<InformerOptions<KubernetesObject>> = {},
  api = new FakeListWatch(),
): Harness {
  const clock = new ManualClock();
  const events: string[] = [];
  const informer = new Informer({
    resource: things,
    client: api,
    clock,
    random: () => 0.5,
    watchTimeoutSeconds: 300,
    handlers: {
      onAdd: (o) => events.push(`add ${name(o)}`),
      onUpdate: (old, o) =>
        events.push(`update ${name(o)} ${old.metadata?.resourceVersion}→${o.metadata?.resourceVersion}`),
      onDelete: (o) => events.push(`delete ${name(o)}`),
    },
    ...options,
  });
  const controller = new AbortController();
  const h: Harness = { informer, api, clock, events, controller, done: Promise.resolve() };
  return h;
}

async function startHarness(h: Harness): Promise<Harness> {
  h.done = h.informer.run(h.controller.signal);
  running.push(h);
  await h.clock.advance(0);
  return h;
}

describe("Informer list and watch", () => {
  it("lists, reports synced, then follows watch events in the cache and the handlers", async () => {
    const api = new FakeListWatch();
    api.put("a", "ns1");
    api.put("b", "ns2");
    const h = harness({}, api);
    expect(h.informer.hasSynced()).toBe(false);
    const synced = h.informer.waitForSync();
    await startHarness(h);
    await expect(synced).resolves.toBe(true);
    expect(h.informer.hasSynced()).toBe(true);
    expect(h.informer.state()).toBe("watching");
    expect(h.events).toEqual(["add ns1/a", "add ns2/b"]);
    expect(api.watchCalls[0]?.resourceVersion).toBe("102");

    api.put("c", "ns1");
    api.put("a", "ns1", { spec: { changed: true } });
    api.remove("ns2/b");
    expect(h.events.slice(2)).toEqual(["add ns1/c", "update ns1/a 101→104", "delete ns2/b"]);
    expect(h.informer.keys().sort()).toEqual(["ns1/a", "ns1/c"]);
    expect(h.informer.get("ns1/a")).toMatchObject({ spec: { changed: true } });
    expect(h.informer.list("ns1").map(name).sort()).toEqual(["ns1/a", "ns1/c"]);
    expect(h.informer.list("ns2")).toEqual([]);
    expect(h.informer.lastResourceVersion()).toBe("105");
  });

  it("bookmarks advance the resourceVersion the next watch resumes from", async () => {
    const h = await startHarness(harness());
    h.api.bookmark();
    expect(h.informer.lastResourceVersion()).toBe(h.api.currentVersion());
    await h.clock.advance(5000);
    h.api.endWatch();
    await h.clock.advance(0);
    expect(h.api.watchCalls.at(-1)?.resourceVersion).toBe(h.api.currentVersion());
    expect(h.api.listCalls).toHaveLength(1);
  });

  it("pages through a large list and restarts unpaged when the continue token expires", async () => {
    const api = new FakeListWatch();
    for (let i = 0; i < 5; i++) api.put(`o${i}`, "ns");
    const paged = await startHarness(harness({ pageSize: 2 }, api));
    expect(api.listCalls.map((q) => q.continue)).toEqual([undefined, "2", "4"]);
    expect(paged.informer.size()).toBe(5);

    const api2 = new FakeListWatch();
    for (let i = 0; i < 5; i++) api2.put(`o${i}`, "ns");
    api2.expireContinueAfterPages = 1;
    const expired = await startHarness(harness({ pageSize: 2 }, api2));
    expect(api2.listCalls.map((q) => [q.limit, q.continue])).toEqual([
      [2, undefined],
      [2, "2"],
      [undefined, undefined],
    ]);
    expect(expired.informer.size()).toBe(5);
    expect(expired.events).toHaveLength(5);
  });

  it("rejects a namespace for a cluster-scoped resource, and a second concurrent run", async () => {
    expect(
      () => new Informer({ resource: coreResources.nodes, client: new FakeListWatch(), namespace: "x" }),
    ).toThrow(InformerError);
    const h = await startHarness(harness());
    await expect(h.informer.run(new AbortController().signal)).rejects.toThrow(InformerError);
  });
});

describe("Informer supervision", () => {
  it("after a broken watch: backs off, resumes from the last resourceVersion, keeps the cache", async () => {
    const api = new FakeListWatch();
    api.put("a", "ns");
    const errors: unknown[] = [];
    const h = await startHarness(harness({ onError: (e) => errors.push(e) }, api));
    await h.clock.advance(10_000); // a healthy, long-lived watch
    const failure = new Error("connection reset");
    api.failWatch(failure);
    await h.clock.advance(0);
    expect(h.informer.state()).toBe("backoff");
    expect(h.informer.restarts()).toBe(1);
    expect(h.informer.lastError()).toBe(failure);
    expect(errors).toEqual([failure]);
    expect(h.informer.get("ns/a")).toBeDefined();
    await h.clock.advance(499);
    expect(api.watching()).toBe(false);
    await h.clock.advance(1);
    expect(api.watching()).toBe(true);
    expect(api.listCalls).toHaveLength(1);
    expect(api.watchCalls.map((q) => q.resourceVersion)).toEqual(["101", "101"]);
    api.put("b", "ns");
    expect(h.events).toEqual(["add ns/a", "add ns/b"]);
  });

  it("failing lists are retried with growing jittered backoff until the API server answers", async () => {
    const api = new FakeListWatch();
    api.put("a", "ns");
    for (let i = 0; i < 4; i++) api.listFailures.push(new Error("ECONNREFUSED"));
    const listTimes: number[] = [];
    const original = api.list.bind(api);
    const clock = new ManualClock();
    api.list = (path, query, signal) => {
      listTimes.push(clock.now());
      return original(path, query, signal);
    };
    const h = harness({ clock }, api);
    await startHarness(h);
    await clock.advance(60_000);
    expect(listTimes).toEqual([0, 500, 1500, 3500, 7500]);
    expect(h.informer.hasSynced()).toBe(true);
    expect(h.informer.restarts()).toBe(4);
  });

  it("410 Gone on the watch relists and reports only the differences as events", async () => {
    const api = new FakeListWatch();
    api.put("keep", "ns");
    api.put("change", "ns");
    api.put("drop", "ns");
    const h = await startHarness(harness({}, api));
    h.events.length = 0;
    await h.clock.advance(10_000);
    api.silently(() => {
      api.put("change", "ns", { spec: { x: 1 } });
      api.remove("ns/drop");
      api.put("new", "ns");
    });
    api.failWatch(new KubeHttpError(410, "too old resource version", "Expired"));
    await h.clock.advance(0);
    expect(api.listCalls).toHaveLength(2);
    expect(h.informer.restarts()).toBe(0);
    expect(h.events.sort()).toEqual(["add ns/new", "delete ns/drop", "update ns/change 102→104"]);
    expect(h.informer.keys().sort()).toEqual(["ns/change", "ns/keep", "ns/new"]);
  });

  it("a watch that ends at once with no events backs off instead of spinning", async () => {
    const h = await startHarness(harness());
    h.api.endWatch();
    await h.clock.advance(0);
    expect(h.informer.state()).toBe("backoff");
    expect(h.api.watchCalls).toHaveLength(1);
    await h.clock.advance(500);
    expect(h.api.watchCalls).toHaveLength(2);
    h.api.endWatch();
    await h.clock.advance(999);
    expect(h.api.watchCalls).toHaveLength(2);
    await h.clock.advance(1);
    expect(h.api.watchCalls).toHaveLength(3);
  });

  it("a handler that throws or rejects does not stop delivery to later events or other handlers", async () => {
    const h = harness();
    const seen: string[] = [];
    h.informer.addHandlers({
      onAdd: (o) => {
        if (o.metadata?.name === "bad") throw new Error("handler bug");
        seen.push(name(o));
      },
    });
    h.informer.addHandlers({
      // A handler mistakenly written async: its rejection must not become an unhandled one.
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the misuse under test
      onAdd: () => Promise.reject(new Error("async handler bug")),
    });
    await startHarness(h);
    h.api.put("bad", "ns");
    h.api.put("good", "ns");
    await h.clock.advance(0);
    expect(seen).toEqual(["ns/good"]);
    expect(h.events).toEqual(["add ns/bad", "add ns/good"]);
    expect(h.informer.restarts()).toBe(0);
  });

  it("handlers added late see the cached objects as adds; removed handlers see nothing more", async () => {
    const h = await startHarness(harness());
    h.api.put("a", "ns");
    const late: string[] = [];
    const remove = h.informer.addHandlers({ onAdd: (o) => late.push(name(o)) });
    expect(late).toEqual(["ns/a"]);
    remove();
    h.api.put("b", "ns");
    expect(late).toEqual(["ns/a"]);
  });

  it("stops when the signal aborts, keeping the cache readable", async () => {
    const api = new FakeListWatch();
    api.put("a", "ns");
    const h = await startHarness(harness({}, api));
    h.controller.abort();
    await h.done;
    expect(h.informer.state()).toBe("stopped");
    expect(api.watching()).toBe(false);
    expect(h.informer.get("ns/a")).toBeDefined();
  });
});

describe("Informer resync", () => {
  it("calls onUpdate(obj, obj) for every cached object each period", async () => {
    const api = new FakeListWatch();
    api.put("a", "ns");
    api.put("b", "ns");
    const h = await startHarness(harness({ resyncPeriodMs: 30_000 }, api));
    h.events.length = 0;
    await h.clock.advance(29_999);
    expect(h.events).toEqual([]);
    await h.clock.advance(1);
    expect(h.events.sort()).toEqual(["update ns/a 101→101", "update ns/b 102→102"]);
    await h.clock.advance(30_000);
    expect(h.events).toHaveLength(4);
  });
});

describe("Informer optional mode (CRD may be absent)", () => {
  it("counts as synced and empty while the type is not served, and starts when it appears", async () => {
    const api = new FakeListWatch();
    api.served = false;
    const h = await startHarness(harness({ optional: true, optionalRecheckMs: 60_000 }, api));
    expect(h.informer.hasSynced()).toBe(true);
    expect(h.informer.state()).toBe("absent");
    expect(h.informer.restarts()).toBe(0);
    expect(await waitForCacheSync([h.informer])).toBe(true);

    api.served = true;
    api.silently(() => api.put("pool", "metallb-system"));
    await h.clock.advance(59_999);
    expect(h.informer.state()).toBe("absent");
    await h.clock.advance(1);
    expect(h.informer.state()).toBe("watching");
    expect(h.events).toEqual(["add metallb-system/pool"]);
  });

  it("when the CRD is deleted: cached objects are deleted and the informer waits again", async () => {
    const api = new FakeListWatch();
    api.put("pool", "metallb-system");
    const h = await startHarness(harness({ optional: true }, api));
    await h.clock.advance(10_000);
    api.served = false;
    api.failWatch(new KubeHttpError(404, "not found"));
    await h.clock.advance(60_000);
    expect(h.informer.state()).toBe("absent");
    expect(h.informer.size()).toBe(0);
    expect(h.events).toEqual(["add metallb-system/pool", "delete metallb-system/pool"]);
  });

  it("a required resource that is not served is an error retried with backoff", async () => {
    const api = new FakeListWatch();
    api.served = false;
    const h = await startHarness(harness({}, api));
    expect(h.informer.hasSynced()).toBe(false);
    expect(h.informer.state()).toBe("backoff");
    expect(h.informer.restarts()).toBe(1);
  });
});
