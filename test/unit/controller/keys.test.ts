import { describe, expect, test } from "vitest";
import {
  parseWorkKey,
  poolWorkKey,
  serviceWorkKey,
  UnknownWorkKeyError,
} from "../../../src/controller/keys.js";

describe("work keys", () => {
  test.each([
    { description: "config", key: "config", want: { kind: "config" } },
    { description: "a pool", key: poolWorkKey("lan"), want: { kind: "pool", name: "lan" } },
    {
      description: "a Service",
      key: serviceWorkKey("shop/web"),
      want: { kind: "service", namespace: "shop", name: "web", serviceKey: "shop/web" },
    },
  ])("round trip: $description", ({ key, want }) => {
    expect(parseWorkKey(key)).toEqual(want);
  });

  test.each(["", "service/", "service/noslash", "svc/a/b", "configuration"])("rejects %j", (key) => {
    expect(() => parseWorkKey(key)).toThrow(UnknownWorkKeyError);
  });
});
