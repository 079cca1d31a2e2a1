import { Type } from "@sinclair/typebox";
import { describe, expect, it } from "vitest";
import { pointerToPath, schemaProblems } from "../../../src/api/schemaErrors.js";
import { BGPPeerSpecSchema } from "../../../src/api/schema/bgpPeer.js";

describe("schema problems as field paths", () => {
  it.each([
    ["", "spec"],
    ["/addresses/1", "spec.addresses[1]"],
    [
      "/nodeSelectors/0/matchLabels/app.kubernetes.io~1name",
      "spec.nodeSelectors[0].matchLabels[app.kubernetes.io/name]",
    ],
    ["/a~0b", "spec[a~b]"],
  ])("%j becomes %s", (pointer, path) => {
    expect(pointerToPath("spec", pointer)).toBe(path);
  });

  it("reports one problem per path with a readable message", () => {
    const problems = schemaProblems(
      BGPPeerSpecSchema,
      {
        peerAddress: 7,
        dynamicASN: "maybe",
        holdTime: "3",
        peerPort: 0,
        nodeSelectors: [{ matchLabels: { a: 1 } }],
        bogus: 1,
      },
      "spec",
    );
    expect(problems.map((p) => [p.path, p.message, p.unknownField])).toEqual([
      ["spec.myASN", "is required", false],
      ["spec.bogus", "unknown field (ignored)", true],
      ["spec.dynamicASN", 'must be one of "internal", "external"', false],
      ["spec.peerAddress", "must be a string", false],
      ["spec.peerPort", "must be at least 1", false],
      ["spec.holdTime", 'must be a duration such as "90s", "1m30s" or "500ms"', false],
      ["spec.nodeSelectors[0].matchLabels.a", "must be a string", false],
    ]);
  });

  it("says which items are missing from a list", () => {
    const schema = Type.Object({ xs: Type.Array(Type.String(), { minItems: 2 }) });
    expect(schemaProblems(schema, { xs: ["a"] }, "spec")[0]?.message).toBe("must have at least 2 items");
  });
});
