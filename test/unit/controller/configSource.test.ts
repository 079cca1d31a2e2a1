import { describe, expect, test } from "vitest";
import { assembleConfig, ConfigTracker } from "../../../src/controller/configSource.js";
import { poolObject } from "./fixtures.js";

const metallbPool = (name: string, addresses: string[]) => ({
  apiVersion: "metallb.io/v1beta1",
  kind: "IPAddressPool",
  metadata: { name, namespace: "metallb-system" },
  spec: { addresses },
});

describe("assembleConfig", () => {
  test("IronLB objects and converted MetalLB objects both reach the input", () => {
    const a = assembleConfig(
      { ironlb: [poolObject("lan", ["192.0.2.0/28"])], metallb: [metallbPool("old", ["198.51.100.0/28"])] },
      "ironlb-system",
    );
    expect(a.input.ipAddressPools?.map((p) => (p as { metadata: { name: string } }).metadata.name)).toEqual([
      "lan",
      "old",
    ]);
    expect(a.shadowed).toEqual([]);
  });

  test("a MetalLB object with the name of an IronLB object of the same kind is left out", () => {
    const a = assembleConfig(
      { ironlb: [poolObject("lan", ["192.0.2.0/28"])], metallb: [metallbPool("lan", ["198.51.100.0/28"])] },
      "ironlb-system",
    );
    expect(a.input.ipAddressPools).toHaveLength(1);
    expect(a.shadowed).toEqual(["IPAddressPool/lan"]);
  });

  test("the fingerprint ignores list order and resourceVersion, not specs", () => {
    const p1 = {
      ...poolObject("a", ["192.0.2.0/28"]),
      metadata: { name: "a", namespace: "ironlb-system", resourceVersion: "1" },
    };
    const p1b = { ...p1, metadata: { ...p1.metadata, resourceVersion: "7" } };
    const p2 = poolObject("b", ["192.0.2.16/28"]);
    const fp = (objs: object[]) => assembleConfig({ ironlb: objs, metallb: [] }, "ironlb-system").fingerprint;
    expect(fp([p1, p2])).toBe(fp([p2, p1b]));
    expect(fp([p1, p2])).not.toBe(fp([p1, poolObject("b", ["192.0.2.32/28"])]));
  });
});

describe("ConfigTracker", () => {
  const input = (addresses: string[]) =>
    assembleConfig({ ironlb: [poolObject("lan", addresses)], metallb: [] }, "ironlb-system");

  test("applied → unchanged → rejected (last good kept) → reverted is unchanged → new one applied", () => {
    const t = new ConfigTracker();
    const first = t.update(input(["192.0.2.0/28"]));
    expect(first.kind).toBe("applied");
    const good = t.current;
    expect(t.update(input(["192.0.2.0/28"])).kind).toBe("unchanged");

    const bad = t.update(input(["192.0.2.9-192.0.2.1"]));
    expect(bad.kind).toBe("rejected");
    if (bad.kind === "rejected") {
      expect(bad.lastGood).toBe(good);
      expect(bad.errors[0]?.toString()).toContain("spec.addresses[0]");
    }
    expect(t.stale).toBe(true);
    expect(t.current).toBe(good);
    expect(t.update(input(["192.0.2.9-192.0.2.1"])).kind).toBe("rejected");

    expect(t.update(input(["192.0.2.0/28"])).kind).toBe("unchanged");
    expect(t.stale).toBe(false);
    expect(t.update(input(["192.0.2.16/28"])).kind).toBe("applied");
    expect(t.current).not.toBe(good);
  });

  test("invalid from the start: rejected with no last good configuration", () => {
    const t = new ConfigTracker();
    const r = t.update(input(["nonsense"]));
    expect(r).toMatchObject({ kind: "rejected", lastGood: undefined });
    expect(t.current).toBeUndefined();
  });
});
