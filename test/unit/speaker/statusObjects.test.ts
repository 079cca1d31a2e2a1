import { describe, expect, it } from "vitest";
import { desiredStatuses, type DesiredL2Status } from "../../../src/speaker/l2Status.js";
import type { AnnouncedService } from "../../../src/speaker/nodePlan.js";
import {
  labelValueFor,
  nodeLabelSelector,
  planObjectWrites,
  statusName,
  type DesiredObject,
  type ExistingObject,
} from "../../../src/speaker/statusObjects.js";

describe("status objects: names, labels, planned writes", () => {
  const web: AnnouncedService = {
    key: "default/web",
    namespace: "default",
    name: "web",
    ips: ["192.0.2.200"],
    interfaces: ["eth0", "eth1"],
  };

  it("are named namespace.service.node and labelled for the node", () => {
    expect(desiredStatuses([web], "node-a.example")).toEqual([
      {
        name: "default.web.node-a.example",
        labels: {
          "ironlb.io/node": "node-a.example",
          "ironlb.io/service-name": "web",
          "ironlb.io/service-namespace": "default",
          "app.kubernetes.io/managed-by": "ironlb-speaker",
        },
        status: {
          node: "node-a.example",
          serviceName: "web",
          serviceNamespace: "default",
          interfaces: [{ name: "eth0" }, { name: "eth1" }],
        },
      },
    ]);
    expect(nodeLabelSelector("node-a.example")).toBe("ironlb.io/node=node-a.example");
  });

  it("keep long names and label values within the API's limits, distinct", () => {
    const longNode = `${"n".repeat(200)}.example.com`;
    expect(statusName("ns", "svc", longNode).length).toBeLessThanOrEqual(253);
    expect(statusName("ns", "svc", longNode)).not.toBe(statusName("ns", "svd", longNode));
    const value = labelValueFor(longNode);
    expect(value.length).toBeLessThanOrEqual(63);
    expect(value).toMatch(/^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/);
    expect(labelValueFor(`${longNode}x`)).not.toBe(value);
    expect(labelValueFor("short")).toBe("short");
  });

  const existing = (d: DesiredL2Status, rv: string, status: unknown = d.status) => ({
    metadata: { name: d.name, resourceVersion: rv, labels: d.labels },
    status,
  });
  const [webStatus] = desiredStatuses([web], "a") as [DesiredL2Status];
  const [dbStatus] = desiredStatuses([{ ...web, key: "default/db", name: "db" }], "a") as [DesiredL2Status];

  const cases: {
    description: string;
    existing: ReturnType<typeof existing>[];
    desired: DesiredL2Status[];
    expected: { create: string[]; update: string[]; delete: string[] };
  }[] = [
    {
      description: "creates what is missing",
      existing: [],
      desired: [webStatus],
      expected: { create: ["default.web.a"], update: [], delete: [] },
    },
    {
      description: "leaves an equal object alone",
      existing: [existing(webStatus, "5")],
      desired: [webStatus],
      expected: { create: [], update: [], delete: [] },
    },
    {
      description: "updates a changed interface list with the object's resourceVersion",
      existing: [existing(webStatus, "5", { ...webStatus.status, interfaces: [{ name: "eth0" }] })],
      desired: [webStatus],
      expected: { create: [], update: ["default.web.a@5"], delete: [] },
    },
    {
      description: "fills an object created without status",
      existing: [existing(webStatus, "7", null)],
      desired: [webStatus],
      expected: { create: [], update: ["default.web.a@7"], delete: [] },
    },
    {
      description: "deletes what is no longer announced",
      existing: [existing(webStatus, "5"), existing(dbStatus, "6")],
      desired: [webStatus],
      expected: { create: [], update: [], delete: ["default.db.a"] },
    },
  ];
  for (const c of cases) {
    it(`planObjectWrites ${c.description}`, () => {
      const writes = planObjectWrites(c.existing, c.desired);
      expect({
        create: writes.create.map((d) => d.name),
        update: writes.update.map((u) => `${u.desired.name}@${u.resourceVersion}`),
        delete: writes.delete,
      }).toEqual(c.expected);
    });
  }

  it("plans creates, status updates (key order ignored) and deletes of stale objects", () => {
    const desired: DesiredObject<{ a: number; b: string[] }>[] = [
      { name: "same", labels: {}, status: { a: 1, b: ["x"] } },
      { name: "changed", labels: {}, status: { a: 2, b: [] } },
      { name: "new", labels: {}, status: { a: 3, b: [] } },
    ];
    const existing: ExistingObject[] = [
      { metadata: { name: "same", resourceVersion: "1" }, status: { b: ["x"], a: 1 } },
      { metadata: { name: "changed", resourceVersion: "2" }, status: { a: 1, b: [] } },
      { metadata: { name: "stale", resourceVersion: "3" }, status: {} },
      { metadata: { name: "going", resourceVersion: "4", deletionTimestamp: "now" }, status: {} },
    ];
    const writes = planObjectWrites(existing, desired);
    expect(writes.create.map((d) => d.name)).toEqual(["new"]);
    expect(writes.update.map((u) => [u.desired.name, u.resourceVersion])).toEqual([["changed", "2"]]);
    expect(writes.delete).toEqual(["stale"]);
  });
});
