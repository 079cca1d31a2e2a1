import { describe, expect, it } from "vitest";
import {
  matchesAnySelector,
  matchesSelector,
  validateLabelSelector,
} from "../../../src/api/labelSelector.js";

describe("label selectors", () => {
  const labels = { app: "web", tier: "edge", "kubernetes.io/hostname": "node-a" };

  it.each([
    [{}, true],
    [{ matchLabels: { app: "web" } }, true],
    [{ matchLabels: { app: "db" } }, false],
    [{ matchExpressions: [{ key: "tier", operator: "In", values: ["edge", "core"] }] }, true],
    [{ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["edge"] }] }, false],
    [{ matchExpressions: [{ key: "missing", operator: "NotIn", values: ["x"] }] }, true],
    [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "Exists" }] }, true],
    [{ matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }, false],
    [
      { matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["core"] }] },
      false,
    ],
  ])("%j matches: %s", (selector, expected) => {
    expect(matchesSelector(selector, labels)).toBe(expected);
  });

  it("an empty selector list matches everything", () => {
    expect(matchesAnySelector([], {})).toBe(true);
    expect(matchesAnySelector([{ matchLabels: { a: "b" } }], {})).toBe(false);
  });

  it("reports every problem with its path", () => {
    const problems = validateLabelSelector({
      matchLabels: { "bad key!": "ok", good: "bad value!" },
      matchExpressions: [
        { key: "a", operator: "Within", values: ["x"] },
        { key: "b", operator: "In" },
        { key: "c", operator: "Exists", values: ["x"] },
      ],
    });
    expect(problems.map((p) => p.path)).toEqual([
      ".matchLabels[bad key!]",
      ".matchLabels[good]",
      ".matchExpressions[0].operator",
      ".matchExpressions[1].values",
      ".matchExpressions[2].values",
    ]);
  });
});
