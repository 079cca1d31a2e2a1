import { describe, expect, test } from "vitest";
import { WriteAbortedError } from "../../../src/controller/ports.js";
import { FakeCluster } from "./fakeCluster.js";
import { poolObject, service } from "./fixtures.js";

const CONDITION = "ironlb.io/IPAllocated";

function clusterWithPool(addresses: string[], spec: Record<string, unknown> = {}): FakeCluster {
  const cluster = new FakeCluster();
  cluster.ironlb = [poolObject("lan", addresses, spec)];
  return cluster;
}

const conditionOf = (cluster: FakeCluster, key: string) =>
  cluster.get(key).status?.conditions?.find((c) => c.type === CONDITION);

describe("ControllerCore: allocation", () => {
  test("a new Service gets an address, the pool annotation, the condition and an Event", async () => {
    const cluster = clusterWithPool(["192.0.2.10-192.0.2.12"]);
    cluster.put(service("shop/web"));
    const core = cluster.startCore();
    await cluster.drain(core);
    expect(cluster.ips("shop/web")).toEqual(["192.0.2.10"]);
    expect(cluster.get("shop/web").metadata?.annotations?.["ironlb.io/ip-allocated-from-pool"]).toBe("lan");
    expect(conditionOf(cluster, "shop/web")).toMatchObject({ status: "True", reason: "Allocated" });
    expect(cluster.events.map((e) => [e.service, e.event.reason, e.event.note])).toEqual([
      ["shop/web", "IPAllocated", 'Assigned IP 192.0.2.10 from pool "lan"'],
    ]);
    expect(cluster.poolStatus.get("lan")).toEqual({
      assignedIPv4: 1n,
      assignedIPv6: 0n,
      availableIPv4: 2n,
      availableIPv6: 0n,
    });
  });

  test("reconciling settled Services again writes nothing", async () => {
    const cluster = clusterWithPool(["192.0.2.10-192.0.2.12"]);
    cluster.put(service("a"));
    cluster.put(service("b"));
    const core = cluster.startCore();
    await cluster.drain(core);
    const writes = cluster.writes;
    cluster.add("service/default/a");
    cluster.add("service/default/b");
    cluster.add("config");
    cluster.add("pool/lan");
    await cluster.drain(core);
    expect(cluster.writes).toBe(writes);
    expect(cluster.events).toHaveLength(2);
  });

  test("Services of another class or type are not touched", async () => {
    const cluster = clusterWithPool(["192.0.2.10-192.0.2.12"]);
    cluster.put(service("theirs", { loadBalancerClass: "other.io/lb", ingress: ["203.0.113.9"] }));
    cluster.put(service("plain", { type: "ClusterIP" }));
    const core = cluster.startCore();
    await cluster.drain(core);
    expect(cluster.writes).toBe(0);
    expect(cluster.ips("theirs")).toEqual(["203.0.113.9"]);
  });

  test("with --lb-class only Services of that class are served", async () => {
    const cluster = clusterWithPool(["192.0.2.10-192.0.2.12"]);
    cluster.put(service("classless"));
    cluster.put(service("mine", { loadBalancerClass: "ironlb.io/lb" }));
    const core = cluster.startCore({ lbClass: "ironlb.io/lb" });
    await cluster.drain(core);
    expect(cluster.ips("mine")).toEqual(["192.0.2.10"]);
    expect(cluster.ips("classless")).toEqual([]);
  });

  test("a stale cache gives a conflict, retried on a fresh read", async () => {
    const cluster = clusterWithPool(["192.0.2.10-192.0.2.12"]);
    cluster.put(service("a"));
    const stale = cluster.get("default/a");
    cluster.put({ ...stale, metadata: { ...stale.metadata, labels: { changed: "yes" } } });
    cluster.staleCache.set("default/a", stale);
    const core = cluster.startCore();
    await cluster.drain(core);
    expect(cluster.ips("a")).toEqual(["192.0.2.10"]);
    expect(cluster.get("default/a").metadata?.labels).toEqual({ changed: "yes" });
  });

  test("a cache lagging behind our own writes causes no repeated write", async () => {
    const cluster = clusterWithPool(["192.0.2.10-192.0.2.12"]);
    cluster.put(service("a"));
    const core = cluster.startCore();
    await cluster.drain(core);
    const versions = cluster.versions.get("default/a") ?? [];
    // created, status written, annotation patched
    expect(versions).toHaveLength(3);
    const writes = cluster.writes;
    for (const old of versions.slice(0, 2)) {
      cluster.staleCache.set("default/a", old);
      await core.reconcile("service/default/a", new AbortController().signal);
      expect(cluster.writes).toBe(writes);
    }
    cluster.staleCache.delete("default/a");
    await core.reconcile("service/default/a", new AbortController().signal);
    expect(cluster.writes).toBe(writes);
    // A change by someone else (a new version) is acted on: the annotation is put back.
    const latest = cluster.get("a");
    cluster.put({ ...latest, metadata: { ...latest.metadata, annotations: {} } });
    await core.reconcile("service/default/a", new AbortController().signal);
    expect(cluster.get("a").metadata?.annotations?.["ironlb.io/ip-allocated-from-pool"]).toBe("lan");
  });

  test("once the signal aborts (leadership lost) nothing is written", async () => {
    const cluster = clusterWithPool(["192.0.2.10-192.0.2.12"]);
    cluster.put(service("a"));
    const core = cluster.startCore();
    const aborted = AbortSignal.abort();
    await expect(core.reconcile("service/default/a", aborted)).rejects.toBeInstanceOf(WriteAbortedError);
    expect(cluster.writes).toBe(0);
  });
});

describe("ControllerCore: exhaustion and freed addresses", () => {
  test("a Service waiting for an address gets the one freed by a deleted Service", async () => {
    const cluster = clusterWithPool(["192.0.2.10/32"]);
    cluster.put(service("first", { created: new Date("2026-01-01T00:00:00Z") }));
    const core = cluster.startCore();
    await cluster.drain(core);
    cluster.put(service("second", { created: new Date("2026-01-02T00:00:00Z") }));
    cluster.add("service/default/second");
    await cluster.drain(core);
    expect(cluster.ips("second")).toEqual([]);
    expect(conditionOf(cluster, "default/second")).toMatchObject({
      status: "False",
      reason: "PoolExhausted",
    });
    expect(cluster.events.at(-1)?.event).toMatchObject({ type: "Warning", reason: "AllocationFailed" });

    cluster.remove("default/first");
    cluster.add("service/default/first");
    await cluster.drain(core);
    expect(cluster.ips("second")).toEqual(["192.0.2.10"]);
    expect(conditionOf(cluster, "default/second")).toMatchObject({ status: "True", reason: "Allocated" });
  });

  test("a Service being deleted gives its address back without further writes", async () => {
    const cluster = clusterWithPool(["192.0.2.10/32"]);
    cluster.put(service("a"));
    const core = cluster.startCore();
    await cluster.drain(core);
    cluster.put(service("b"));
    cluster.add("service/default/b");
    await cluster.drain(core);
    const a = cluster.get("a");
    cluster.put({ ...a, metadata: { ...a.metadata, deletionTimestamp: "2026-03-01T00:00:00Z" } });
    const writes = cluster.writes;
    cluster.add("service/default/a");
    await cluster.drain(core);
    expect(cluster.ips("b")).toEqual(["192.0.2.10"]);
    // Only b's allocation was written; a (terminating) was left as it was.
    expect(cluster.writes).toBe(writes + 2);
    expect(cluster.ips("a")).toEqual(["192.0.2.10"]);
  });

  test("LoadBalancer → NodePort clears status and annotation and frees the address for a waiting Service", async () => {
    const cluster = clusterWithPool(["192.0.2.10/32"]);
    cluster.put(service("a"));
    const core = cluster.startCore();
    await cluster.drain(core);
    cluster.put(service("b"));
    cluster.add("service/default/b");
    await cluster.drain(core);
    expect(cluster.ips("b")).toEqual([]);

    const a = cluster.get("default/a");
    cluster.put({ ...a, spec: { ...a.spec, type: "NodePort" } });
    cluster.add("service/default/a");
    await cluster.drain(core);
    expect(cluster.ips("a")).toEqual([]);
    expect(conditionOf(cluster, "default/a")).toBeUndefined();
    expect(
      cluster.get("default/a").metadata?.annotations?.["ironlb.io/ip-allocated-from-pool"],
    ).toBeUndefined();
    expect(cluster.events.filter((e) => e.service === "default/a").map((e) => e.event.reason)).toEqual([
      "IPAllocated",
      "ClearAssignment",
    ]);
    expect(cluster.ips("b")).toEqual(["192.0.2.10"]);
  });
});

describe("ControllerCore: restart safety", () => {
  test("existing assignments are loaded before anything new is allocated", async () => {
    const cluster = clusterWithPool(["192.0.2.10-192.0.2.12"]);
    // Assigned by an earlier run; the lowest address is free, so a new Service would take it…
    cluster.put(service("old", { ingress: ["192.0.2.11"] }));
    // …and this one was created while no controller ran.
    cluster.put(service("new", { created: new Date("2026-02-01T00:00:00Z") }));
    const core = cluster.startCore();
    await cluster.drain(core);
    expect(cluster.ips("old")).toEqual(["192.0.2.11"]);
    expect(cluster.ips("new")).toEqual(["192.0.2.10"]);
    // The old Service's status was right already: only its annotation and condition are added.
    expect(cluster.events.filter((e) => e.service === "default/old")).toEqual([]);
  });

  test("two Services claiming one address: the older keeps it, the younger is re-allocated", async () => {
    const cluster = clusterWithPool(["192.0.2.10-192.0.2.12"]);
    cluster.put(service("young", { ingress: ["192.0.2.12"], created: new Date("2026-02-01T00:00:00Z") }));
    cluster.put(service("elder", { ingress: ["192.0.2.12"], created: new Date("2026-01-01T00:00:00Z") }));
    const core = cluster.startCore();
    await cluster.drain(core);
    expect(cluster.ips("elder")).toEqual(["192.0.2.12"]);
    expect(cluster.ips("young")).toEqual(["192.0.2.10"]);
  });

  test("creation timestamps as raw JSON strings order the load like Dates do", async () => {
    const cluster = clusterWithPool(["192.0.2.10-192.0.2.12"]);
    const raw = (name: string, created: string) => {
      const svc = service(name, { ingress: ["192.0.2.12"] });
      return { ...svc, metadata: { ...svc.metadata, creationTimestamp: created } };
    };
    cluster.put(raw("a-young", "2026-02-01T00:00:00Z"));
    cluster.put(raw("z-elder", "2026-01-01T00:00:00Z"));
    cluster.put(raw("m-young", "2026-01-15T00:00:00Z"));
    await cluster.drain(cluster.startCore());
    expect(cluster.ips("z-elder")).toEqual(["192.0.2.12"]);
    expect(cluster.ips("a-young")).not.toEqual(["192.0.2.12"]);
  });

  test("a second term (new leader) over settled Services changes nothing", async () => {
    const cluster = clusterWithPool(["192.0.2.10-192.0.2.20"]);
    for (let i = 0; i < 8; i++) cluster.put(service(`s${i}`, { ingress: [`192.0.2.${20 - i}`] }));
    await cluster.drain(cluster.startCore());
    const before = [...cluster.servicesByKey.keys()].map((k) => cluster.ips(k));
    const writes = cluster.writes;
    await cluster.drain(cluster.startCore());
    expect([...cluster.servicesByKey.keys()].map((k) => cluster.ips(k))).toEqual(before);
    expect(cluster.writes).toBe(writes);
  });
});

describe("ControllerCore: configuration", () => {
  test("an invalid configuration keeps the last good one and every assignment", async () => {
    const cluster = clusterWithPool(["192.0.2.10-192.0.2.12"]);
    cluster.put(service("a"));
    const stale: boolean[] = [];
    const core = cluster.startCore({
      metrics: { allocationFailure: () => undefined, configStale: (s) => stale.push(s) },
    });
    await cluster.drain(core);
    const writes = cluster.writes;
    cluster.ironlb = [poolObject("lan", ["192.0.2.12-192.0.2.10"])];
    cluster.add("config");
    await cluster.drain(core);
    expect(core.configStale).toBe(true);
    expect(stale.at(-1)).toBe(true);
    expect(cluster.ips("a")).toEqual(["192.0.2.10"]);
    expect(cluster.writes).toBe(writes);

    cluster.ironlb = [poolObject("lan", ["192.0.2.10-192.0.2.12"])];
    cluster.add("config");
    await cluster.drain(core);
    expect(core.configStale).toBe(false);
    expect(stale.at(-1)).toBe(false);
  });

  test("without any valid configuration no Service is touched", async () => {
    const cluster = clusterWithPool(["not-an-address"]);
    cluster.put(service("a", { ingress: ["192.0.2.10"] }));
    const core = cluster.startCore();
    await cluster.drain(core);
    expect(core.configuration).toBeUndefined();
    expect(cluster.writes).toBe(0);
    expect(cluster.ips("a")).toEqual(["192.0.2.10"]);
  });

  test("a pool shrunk under one allocated address re-allocates exactly that Service", async () => {
    const cluster = clusterWithPool(["192.0.2.10-192.0.2.13"]);
    for (const name of ["a", "b", "c"]) cluster.put(service(name));
    const core = cluster.startCore();
    await cluster.drain(core);
    expect(["a", "b", "c"].map((n) => cluster.ips(n))).toEqual([
      ["192.0.2.10"],
      ["192.0.2.11"],
      ["192.0.2.12"],
    ]);
    const events = cluster.events.length;

    cluster.ironlb = [poolObject("lan", ["192.0.2.10", "192.0.2.12-192.0.2.13"])];
    cluster.add("config");
    await cluster.drain(core);
    expect(["a", "b", "c"].map((n) => cluster.ips(n))).toEqual([
      ["192.0.2.10"],
      ["192.0.2.13"],
      ["192.0.2.12"],
    ]);
    expect(cluster.events.slice(events).map((e) => e.service)).toEqual(["default/b"]);
  });

  test("autoAssign false pools serve only Services that ask for them", async () => {
    const cluster = new FakeCluster();
    cluster.ironlb = [
      poolObject("reserved", ["192.0.2.100/32"], { autoAssign: false }),
      poolObject("lan", ["192.0.2.10/32"]),
    ];
    cluster.put(service("auto"));
    cluster.put(service("asks", { annotations: { "ironlb.io/address-pool": "reserved" } }));
    const core = cluster.startCore();
    await cluster.drain(core);
    expect(cluster.ips("auto")).toEqual(["192.0.2.10"]);
    expect(cluster.ips("asks")).toEqual(["192.0.2.100"]);
  });

  test("MetalLB pools are read and IronLB's object wins a name clash", async () => {
    const cluster = new FakeCluster();
    cluster.metallb = [
      {
        apiVersion: "metallb.io/v1beta1",
        kind: "IPAddressPool",
        metadata: { name: "legacy", namespace: "metallb-system" },
        spec: { addresses: ["198.51.100.10/32"] },
      },
      {
        apiVersion: "metallb.io/v1beta1",
        kind: "IPAddressPool",
        metadata: { name: "lan", namespace: "metallb-system" },
        spec: { addresses: ["198.51.100.50/32"] },
      },
    ];
    cluster.ironlb = [poolObject("lan", ["192.0.2.10/32"], { autoAssign: false })];
    cluster.put(service("a", { annotations: { "metallb.universe.tf/address-pool": "legacy" } }));
    cluster.put(service("b", { annotations: { "ironlb.io/address-pool": "lan" } }));
    const core = cluster.startCore();
    await cluster.drain(core);
    expect(core.configuration?.pools.map((p) => p.name)).toEqual(["lan", "legacy"]);
    expect(cluster.ips("a")).toEqual(["198.51.100.10"]);
    expect(cluster.ips("b")).toEqual(["192.0.2.10"]);
    // No IronLB object for the MetalLB pool: no status written for it.
    expect([...cluster.poolStatus.keys()]).toEqual(["lan"]);
  });

  test("namespace labels select pools", async () => {
    const cluster = new FakeCluster();
    cluster.ironlb = [
      poolObject("team", ["192.0.2.50/32"], {
        serviceAllocation: { priority: 1, namespaceSelectors: [{ matchLabels: { team: "a" } }] },
      }),
      poolObject("lan", ["192.0.2.10/32"]),
    ];
    cluster.namespaces.set("ta", { team: "a" });
    cluster.put(service("ta/svc"));
    cluster.put(service("other/svc"));
    const core = cluster.startCore();
    await cluster.drain(core);
    expect(cluster.ips("ta/svc")).toEqual(["192.0.2.50"]);
    expect(cluster.ips("other/svc")).toEqual(["192.0.2.10"]);
  });
});
