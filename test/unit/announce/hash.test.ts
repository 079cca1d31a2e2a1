import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hash53, rendezvousScore, rendezvousWinner } from "../../../src/announce/hash.js";
import { permute } from "./fixtures.js";

describe("hash53", () => {
  // Speakers of different releases must elect the same node during a rolling upgrade, so these
  // values are part of the protocol: a change here is a breaking change, not a test to update.
  const golden = [
    { description: "empty string", text: "", value: 5227395795718837 },
    { description: "one character", text: "a", value: 5264704916004185 },
    { description: "IPv4 key", text: "node-a\u0000192.0.2.200", value: 1314429569926612 },
    { description: "IPv6 key", text: "worker-1\u00002001:db8:1::200", value: 5321131585138042 },
  ];
  it.each(golden)("is stable across releases: $description", ({ text, value }) => {
    expect(hash53(text)).toBe(value);
  });

  it("stays a safe integer below 2^53", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const h = hash53(s);
        expect(Number.isSafeInteger(h)).toBe(true);
        expect(h).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it("changes when one character changes (no trivial collisions among neighbours)", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 4096; i++) seen.add(hash53(`node\u0000192.0.2.${String(i)}`));
    expect(seen.size).toBe(4096);
  });
});

describe("rendezvous hashing", () => {
  it("the score is hash53 of node, NUL, key (so the golden values pin it too)", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (node, key) => {
        expect(rendezvousScore(node, key)).toBe(hash53(`${node}\u0000${key}`));
      }),
    );
  });

  it("separates node and key, so (ab, c) and (a, bc) score differently", () => {
    expect(rendezvousScore("ab", "c")).not.toBe(rendezvousScore("a", "bc"));
  });

  it("the winner does not depend on the order of the nodes", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string(), { minLength: 1, maxLength: 8 }),
        fc.string(),
        fc.nat(),
        (nodes, key, seed) => {
          expect(rendezvousWinner(permute(nodes, seed), key)).toBe(rendezvousWinner(nodes, key));
        },
      ),
    );
  });

  it("the winner is the node with the highest score, and no nodes means no winner", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string(), { minLength: 1, maxLength: 8 }), fc.string(), (nodes, key) => {
        const winner = rendezvousWinner(nodes, key) ?? "";
        for (const n of nodes)
          expect(rendezvousScore(winner, key)).toBeGreaterThanOrEqual(rendezvousScore(n, key));
      }),
    );
    expect(rendezvousWinner([], "192.0.2.1")).toBeUndefined();
  });
});
