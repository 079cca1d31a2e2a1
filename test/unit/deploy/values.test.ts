import { describe, expect, it } from "vitest";
import { mergeValues, readDefaultValues, resolveValues } from "../../../src/deploy/values.js";

describe("mergeValues (Helm's merge of user values over defaults)", () => {
  const cases: { description: string; defaults: unknown; overrides: unknown; want: unknown }[] = [
    {
      description: "maps merge key by key",
      defaults: { a: { b: 1, c: 2 } },
      overrides: { a: { c: 3 } },
      want: { a: { b: 1, c: 3 } },
    },
    { description: "lists replace", defaults: { l: [1, 2] }, overrides: { l: [3] }, want: { l: [3] } },
    {
      description: "null removes a default",
      defaults: { a: 1, b: 2 },
      overrides: { a: null },
      want: { b: 2 },
    },
    {
      description: "new keys are added",
      defaults: { a: 1 },
      overrides: { z: { y: 1 } },
      want: { a: 1, z: { y: 1 } },
    },
    {
      description: "a scalar replaces a map",
      defaults: { a: { b: 1 } },
      overrides: { a: "x" },
      want: { a: "x" },
    },
  ];
  it.each(cases)("$description", ({ defaults, overrides, want }) => {
    expect(mergeValues(defaults, overrides)).toEqual(want);
  });
});

describe("chart defaults", () => {
  it("are read from charts/ironlb/values.yaml", () => {
    const values = readDefaultValues();
    expect(values.namespace).toBe("ironlb-system");
    expect(values.controller.replicas).toBe(2);
    expect(values.metrics.serviceMonitor.enabled).toBe(false);
  });
  it("keep untouched siblings when overridden", () => {
    const values = resolveValues({ image: { tag: "dev" } });
    expect(values.image).toEqual({
      repository: "ghcr.io/ironlb/ironlb",
      tag: "dev",
      pullPolicy: "IfNotPresent",
    });
  });
});
