import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/runtime/clock.js";
import type { ServiceL2StatusStatus } from "../../../src/api/schema/serviceStatus.js";
import { desiredStatuses } from "../../../src/speaker/l2Status.js";
import type { StatusObjectApi } from "../../../src/speaker/statusObjectApi.js";
import type { DesiredObject, ExistingObject } from "../../../src/speaker/statusObjects.js";
import { StatusObjectSync, StatusSync } from "../../../src/speaker/statusSync.js";

/** A fake API server holding objects in memory; fails the next `failures` calls. */
class MemoryApi<S> implements StatusObjectApi<S> {
  readonly objects = new Map<string, { rv: number; status: unknown }>();
  calls: string[] = [];
  failures = 0;
  private rv = 0;

  private maybeFail(call: string): void {
    this.calls.push(call);
    if (this.failures > 0) {
      this.failures--;
      throw new Error("API server unavailable");
    }
  }

  list(): Promise<ExistingObject[]> {
    this.maybeFail("list");
    return Promise.resolve(this.existing());
  }

  create(d: DesiredObject<S>): Promise<void> {
    this.maybeFail(`create ${d.name}`);
    this.objects.set(d.name, { rv: ++this.rv, status: d.status });
    return Promise.resolve();
  }

  updateStatus(d: DesiredObject<S>, resourceVersion: string): Promise<void> {
    this.maybeFail(`update ${d.name}@${resourceVersion}`);
    this.objects.set(d.name, { rv: ++this.rv, status: d.status });
    return Promise.resolve();
  }

  delete(name: string): Promise<void> {
    this.maybeFail(`delete ${name}`);
    this.objects.delete(name);
    return Promise.resolve();
  }

  /** What an informer on this API server shows (at once). */
  existing(): ExistingObject[] {
    return [...this.objects].map(([name, o]) => ({
      metadata: { name, resourceVersion: String(o.rv) },
      status: o.status,
    }));
  }
}

const svc = (name: string, interfaces: string[]) => ({
  key: `default/${name}`,
  namespace: "default",
  name,
  ips: ["192.0.2.200"],
  interfaces,
});

function setup(ready = () => true) {
  const clock = new ManualClock();
  const api = new MemoryApi<ServiceL2StatusStatus>();
  const sync = new StatusSync({
    api,
    existing: () => api.existing(),
    ready,
    clock,
    backoff: { initialMs: 1000, maxMs: 1000, jitter: 0 },
  });
  return { clock, api, sync };
}

describe("StatusSync (ServiceL2Status, read back through an informer)", () => {
  it("creates, updates and deletes this node's objects to match the desired list", async () => {
    const { api, sync } = setup();
    sync.desire(desiredStatuses([svc("web", ["eth0"]), svc("db", ["eth0"])], "a"));
    await sync.idle();
    expect([...api.objects.keys()].sort()).toEqual(["default.db.a", "default.web.a"]);
    sync.desire(desiredStatuses([svc("web", ["eth0", "eth1"])], "a"));
    await sync.idle();
    expect(api.calls.slice(2)).toEqual(["update default.web.a@1", "delete default.db.a"]);
    expect(api.objects.get("default.web.a")?.status).toMatchObject({
      interfaces: [{ name: "eth0" }, { name: "eth1" }],
    });
  });

  it("writes nothing when the cluster already matches", async () => {
    const { api, sync } = setup();
    const desired = desiredStatuses([svc("web", ["eth0"])], "a");
    sync.desire(desired);
    await sync.idle();
    sync.desire(desired);
    sync.kick();
    await sync.idle();
    expect(api.calls).toEqual(["create default.web.a"]);
  });

  it("retries a failed pass with backoff", async () => {
    const { api, sync, clock } = setup();
    api.failures = 1;
    sync.desire(desiredStatuses([svc("web", ["eth0"])], "a"));
    await clock.advance(0);
    expect(api.objects.size).toBe(0);
    await clock.advance(1000);
    await sync.idle();
    expect(api.calls).toEqual(["create default.web.a", "create default.web.a"]);
    expect(api.objects.size).toBe(1);
  });

  it("waits for the informer before deleting anything", async () => {
    let ready = false;
    const { api, sync } = setup(() => ready);
    sync.desire([]);
    await sync.idle();
    expect(api.calls).toEqual([]);
    ready = true;
    sync.desire(desiredStatuses([svc("web", ["eth0"])], "a"));
    await sync.idle();
    expect(api.calls).toEqual(["create default.web.a"]);
  });

  it("a change during a pass gets its own pass with the latest list", async () => {
    const { api, sync } = setup();
    sync.desire(desiredStatuses([svc("web", ["eth0"])], "a"));
    sync.desire(desiredStatuses([svc("db", ["eth0"])], "a"));
    await sync.idle();
    expect([...api.objects.keys()]).toEqual(["default.db.a"]);
  });

  it("stop() ends retries", async () => {
    const { api, sync, clock } = setup();
    api.failures = 5;
    sync.desire(desiredStatuses([svc("web", ["eth0"])], "a"));
    await clock.advance(0);
    sync.stop();
    await clock.advance(10_000);
    expect(api.calls).toHaveLength(1);
    expect(clock.pendingTimers()).toBe(0);
  });
});

const syncs: StatusObjectSync<{ n: number }>[] = [];
afterEach(() => {
  for (const s of syncs.splice(0)) s.stop();
});

function listingSetup() {
  const clock = new ManualClock();
  const api = new MemoryApi<{ n: number }>();
  const sync = new StatusObjectSync({ kind: "Test", api, existing: () => api.list(), clock });
  syncs.push(sync);
  return { clock, api, sync };
}

describe("StatusObjectSync listing the objects on every pass (BGP status kinds)", () => {
  it("converges on the latest desired list and writes nothing when already there", async () => {
    const { clock, api, sync } = listingSetup();
    api.objects.set("stale", { status: { n: 0 }, rv: 100 });
    sync.desire([{ name: "a", labels: {}, status: { n: 1 } }]);
    sync.desire([
      { name: "a", labels: {}, status: { n: 2 } },
      { name: "b", labels: {}, status: { n: 1 } },
    ]);
    await clock.advance(0);
    await sync.idle();
    expect(Object.fromEntries([...api.objects].map(([k, v]) => [k, v.status]))).toEqual({
      a: { n: 2 },
      b: { n: 1 },
    });
    api.calls = [];
    sync.kick();
    await sync.idle();
    expect(api.calls).toEqual(["list"]);
  });

  it("retries a failed list or write with backoff", async () => {
    const { clock, api, sync } = listingSetup();
    api.failures = 2;
    sync.desire([{ name: "a", labels: {}, status: { n: 1 } }]);
    await clock.advance(0);
    expect(api.objects.size).toBe(0);
    await clock.advance(60_000);
    await sync.idle();
    expect(api.calls.slice(0, 2)).toEqual(["list", "list"]);
    expect(api.objects.get("a")?.status).toEqual({ n: 1 });
  });

  it("desire([]) then idle() removes every object of the node (cleanup at stop)", async () => {
    const { api, sync } = listingSetup();
    sync.desire([{ name: "a", labels: {}, status: { n: 1 } }]);
    await sync.idle();
    sync.desire([]);
    await sync.idle();
    sync.stop();
    expect(api.objects.size).toBe(0);
    expect(api.calls).toEqual(["list", "create a", "list", "delete a"]);
  });
});
