import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { IntervalSet } from "../../../src/ipam/intervalSet.js";

type Op = readonly ["add" | "delete", number];

function build(ops: readonly Op[]): IntervalSet {
  const set = new IntervalSet();
  for (const [op, x] of ops) {
    if (op === "add") set.add(BigInt(x));
    else set.delete(BigInt(x));
  }
  return set;
}

const intervalsOf = (set: IntervalSet): [number, number][] =>
  [...set.entries()].map(([a, b]) => [Number(a), Number(b)]);

describe("IntervalSet", () => {
  const cases: { description: string; ops: Op[]; intervals: [number, number][] }[] = [
    { description: "empty", ops: [], intervals: [] },
    { description: "a single member", ops: [["add", 5]], intervals: [[5, 5]] },
    {
      description: "consecutive adds merge into one interval",
      ops: [
        ["add", 1],
        ["add", 2],
        ["add", 3],
      ],
      intervals: [[1, 3]],
    },
    {
      description: "an add that touches the interval above lowers its start",
      ops: [
        ["add", 3],
        ["add", 2],
      ],
      intervals: [[2, 3]],
    },
    {
      description: "an add that fills the gap joins both neighbours",
      ops: [
        ["add", 1],
        ["add", 3],
        ["add", 2],
      ],
      intervals: [[1, 3]],
    },
    {
      description: "deleting inside an interval splits it",
      ops: [
        ["add", 1],
        ["add", 2],
        ["add", 3],
        ["delete", 2],
      ],
      intervals: [
        [1, 1],
        [3, 3],
      ],
    },
    {
      description: "deleting an interval's ends shrinks it",
      ops: [
        ["add", 1],
        ["add", 2],
        ["add", 3],
        ["add", 4],
        ["delete", 1],
        ["delete", 4],
      ],
      intervals: [[2, 3]],
    },
    {
      description: "deleting the only member of an interval removes it",
      ops: [
        ["add", 7],
        ["add", 9],
        ["delete", 7],
      ],
      intervals: [[9, 9]],
    },
    {
      description: "adding a member twice and deleting a non-member change nothing",
      ops: [
        ["add", 4],
        ["add", 4],
        ["delete", 8],
      ],
      intervals: [[4, 4]],
    },
  ];
  for (const c of cases) {
    it(c.description, () => {
      const set = build(c.ops);
      expect(intervalsOf(set)).toEqual(c.intervals);
      expect(set.intervals).toBe(c.intervals.length);
      expect(set.size).toBe(BigInt(c.intervals.reduce((n, [a, b]) => n + b - a + 1, 0)));
    });
  }

  it.each([
    { description: "empty set: x itself", members: [], from: 3, expected: 3 },
    { description: "x not a member", members: [1, 2, 5], from: 3, expected: 3 },
    { description: "x inside a run: after the run", members: [1, 2, 3, 5], from: 2, expected: 4 },
    { description: "x at a run start", members: [0, 1, 2], from: 0, expected: 3 },
  ])("firstAbsentFrom: $description", ({ members, from, expected }) => {
    const set = build(members.map((m) => ["add", m] as const));
    expect(set.firstAbsentFrom(BigInt(from))).toBe(BigInt(expected));
  });

  it("handles values beyond 2^64 (IPv6)", () => {
    const set = new IntervalSet();
    const big = (1n << 100n) + 12345n;
    set.add(big);
    set.add(big + 1n);
    expect(set.has(big + 1n)).toBe(true);
    expect(set.firstAbsentFrom(big)).toBe(big + 2n);
  });

  it("stays balanced: height is logarithmic in the number of intervals", () => {
    const set = new IntervalSet();
    // Every even number: 50,000 separate intervals, inserted in ascending order (the AVL worst case).
    for (let i = 0; i < 100_000; i += 2) set.add(BigInt(i));
    expect(set.intervals).toBe(50_000);
    expect(set.height).toBeLessThanOrEqual(Math.ceil(1.45 * Math.log2(50_000 + 2)));
  });

  it("agrees with a plain Set over random operations", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.constantFrom("add" as const, "delete" as const), fc.integer({ min: 0, max: 60 })),
          {
            maxLength: 300,
          },
        ),
        fc.integer({ min: 0, max: 64 }),
        (ops, probe) => {
          const set = new IntervalSet();
          const model = new Set<number>();
          for (const [op, x] of ops) {
            const changed = op === "add" ? set.add(BigInt(x)) : set.delete(BigInt(x));
            const modelChanged = op === "add" ? !model.has(x) && !!model.add(x) : model.delete(x);
            expect(changed).toBe(modelChanged);
          }
          expect(set.size).toBe(BigInt(model.size));
          for (let x = 0; x <= 61; x++) expect(set.has(BigInt(x))).toBe(model.has(x));
          let absent = probe;
          while (model.has(absent)) absent++;
          expect(set.firstAbsentFrom(BigInt(probe))).toBe(BigInt(absent));
          // Intervals are sorted, disjoint and never adjacent (always maximal).
          const runs = intervalsOf(set);
          for (let i = 1; i < runs.length; i++) {
            expect((runs[i] as [number, number])[0]).toBeGreaterThan(
              (runs[i - 1] as [number, number])[1] + 1,
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
