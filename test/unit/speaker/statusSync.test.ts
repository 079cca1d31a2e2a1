import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/runtime/clock.js";
import {
  desiredStatuses,
  type DesiredL2Status,
  type ExistingL2Status,
} from "../../../src/speaker/l2Status.js";
import { StatusSync, type StatusApi } from "../../../src/speaker/statusSync.js";

/** A fake API server whose objects the fake informer shows at once. */
class FakeStatusApi implements StatusApi {
  readonly objects = new Map<string, { rv: number; status: unknown }>();
  readonly calls: string[] = [];
  failures = 0;
  private rv = 0;

  private maybeFail(call: string): void {
    this.calls.push(call);
    if (this.failures > 0) {
      this.failures--;
      throw new Error("API server unavailable");
    }
  }

  create(status: DesiredL2Status): Promise<void> {
    this.maybeFail(`create ${status.name}`);
    this.objects.set(status.name, { rv: ++this.rv, status: status.status });
    return Promise.resolve();
  }

  updateStatus(status: DesiredL2Status, resourceVersion: string): Promise<void> {
    this.maybeFail(`update ${status.name}@${resourceVersion}`);
    this.objects.set(status.name, { rv: ++this.rv, status: status.status });
    return Promise.resolve();
  }

  delete(name: string): Promise<void> {
    this.maybeFail(`delete ${name}`);
    this.objects.delete(name);
    return Promise.resolve();
  }

  existing(): ExistingL2Status[] {
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
  const api = new FakeStatusApi();
  const sync = new StatusSync({
    api,
    existing: () => api.existing(),
    ready,
    clock,
    backoff: { initialMs: 1000, maxMs: 1000, jitter: 0 },
  });
  return { clock, api, sync };
}

describe("StatusSync", () => {
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
