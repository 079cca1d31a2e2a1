/**
 * The protocol as a distributed system: many members in a deterministic simulation with loss,
 * delay, crashes, stalls, leaves and partitions (see simulation.ts). Figures printed by
 * `detection` are the ones quoted in config.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { quantile, sameSet, Simulation } from "./simulation.js";

function settle(sim: Simulation, limitMs: number, done: () => boolean): number {
  const start = sim.now;
  while (!done() && sim.now - start < limitMs) sim.runFor(10);
  return done() ? sim.now - start : Number.POSITIVE_INFINITY;
}

/** Crash one random member of a converged cluster; ms until every survivor sees it gone. */
function detectionTrial(
  members: number,
  seed: number,
  loss = 0,
): { first: number; all: number; falseDeaths: number } {
  const sim = new Simulation({ members, seed, loss, seedCount: 2, startSpreadMs: 200 });
  sim.runFor(3000 + sim.random() * 1000);
  const victim = sim.names()[1 + Math.floor(sim.random() * (members - 1))] ?? "";
  const crashedAt = sim.now;
  sim.crash(victim);
  sim.runFor(4000);
  const seen = [...sim.departures(victim, crashedAt).values()].map((t) => t - crashedAt);
  const all = seen.length === members - 1 ? Math.max(...seen) : Number.POSITIVE_INFINITY;
  return { first: Math.min(...seen), all, falseDeaths: sim.falseDeaths(new Set(sim.running())).length };
}

describe("membership simulation", () => {
  it("50 members joining through 3 seeds over half a second converge to one view within 3 s", () => {
    const sim = new Simulation({ members: 50, seed: 1, seedCount: 3, startSpreadMs: 500 });
    const took = settle(sim, 3000, () => sim.converged());
    expect(took).toBeLessThan(3000);
    const view = sim.protocol("node-07").members();
    expect(view.size).toBe(50);
    expect([...view.values()].every((m) => m.state === "alive" && m.incarnation === 0)).toBe(true);
  });

  it("20 members converge under 10% packet loss too (and stay converged)", () => {
    const sim = new Simulation({ members: 20, seed: 2, seedCount: 2, loss: 0.1, startSpreadMs: 500 });
    expect(settle(sim, 5000, () => sim.converged())).toBeLessThan(5000);
    sim.runFor(10_000);
    expect(sim.converged()).toBe(true);
  });

  for (const members of [3, 10]) {
    it(`detects a crash among ${members} members in well under a second (40 trials)`, () => {
      const all: number[] = [];
      for (let trial = 0; trial < 40; trial++) {
        const result = detectionTrial(members, 100 * members + trial);
        expect(result.falseDeaths).toBe(0);
        all.push(result.all);
      }
      const p50 = quantile(all, 0.5);
      const p99 = quantile(all, 0.99);
      console.log(
        JSON.stringify({ figure: "membership_detection_ms", members, p50, p99, max: Math.max(...all) }),
      );
      // Lower bound: nothing is declared dead before a probe round and Smin have passed.
      expect(Math.min(...all)).toBeGreaterThanOrEqual(600);
      expect(p50).toBeLessThan(800);
      expect(p99).toBeLessThan(1000);
    });
  }

  it("declares no one dead under 10% loss at the default timings (10 members, 60 s)", () => {
    for (const seed of [11, 12]) {
      const sim = new Simulation({ members: 10, seed, seedCount: 2, loss: 0.1, startSpreadMs: 200 });
      sim.runFor(3000);
      const from = sim.now;
      sim.runFor(60_000);
      expect(sim.falseDeaths(new Set(sim.names()), from)).toEqual([]);
      // Suspicions do happen at this loss rate, and are refuted.
      expect(sim.refutations.length).toBeGreaterThan(0);
    }
  });

  it("still detects a crash under 10% loss, within 2 s", () => {
    const times: number[] = [];
    for (let trial = 0; trial < 10; trial++) {
      const result = detectionTrial(10, 900 + trial, 0.1);
      expect(result.falseDeaths).toBe(0);
      times.push(result.all);
    }
    expect(Math.max(...times)).toBeLessThan(2000);
  });

  const stalls: { ms: number; dies: boolean }[] = [
    { ms: 300, dies: false },
    { ms: 500, dies: false },
    { ms: 600, dies: false },
    { ms: 1000, dies: true },
  ];
  for (const { ms, dies } of stalls) {
    it(`a member whose event loop stalls for ${ms} ms ${dies ? "is declared dead, then refutes and returns" : "is not declared dead"}`, () => {
      for (let trial = 0; trial < 10; trial++) {
        const sim = new Simulation({ members: 5, seed: 300 + trial, startSpreadMs: 200 });
        sim.runFor(3000 + sim.random() * 400);
        const from = sim.now;
        sim.stall("node-02", ms);
        sim.runFor(3000);
        const deaths = sim.falseDeaths(new Set(sim.names()), from);
        if (dies) {
          expect(deaths.length).toBeGreaterThan(0);
          expect(deaths.every((d) => d.member === "node-02")).toBe(true);
        } else {
          expect(deaths).toEqual([]);
        }
        expect(sim.converged()).toBe(true); // either way, everyone is back in every view
        // The stalled member did not accuse anyone either.
        expect(
          sim.changes.filter((c) => c.time >= from && c.observer === "node-02" && c.next !== "alive"),
        ).toEqual([]);
      }
    });
  }

  it("a crashed member that restarts with incarnation 0 is taken back at a higher incarnation", () => {
    const sim = new Simulation({ members: 6, seed: 21, startSpreadMs: 100 });
    sim.runFor(3000);
    sim.crash("node-03");
    sim.runFor(3000);
    expect(sim.liveSeenBy("node-00").has("node-03")).toBe(false);
    sim.restart("node-03", ["node-00"]);
    expect(settle(sim, 2000, () => sim.converged())).toBeLessThan(500);
    const record = sim.protocol("node-05").members().get("node-03");
    expect(record?.state).toBe("alive");
    expect(record?.incarnation).toBeGreaterThan(0);
  });

  it("a graceful leave is seen by every member at once, with no probe round in between", async () => {
    const sim = new Simulation({ members: 10, seed: 31, startSpreadMs: 100 });
    sim.runFor(3000);
    const from = sim.now;
    const left = sim.leave("node-04");
    sim.runFor(50);
    await left;
    const seen = [...sim.departures("node-04", from).values()].map((t) => t - from);
    expect(seen).toHaveLength(9);
    expect(Math.max(...seen)).toBeLessThan(5);
    expect(
      sim.changes.filter((c) => c.time >= from && c.member === "node-04").every((c) => c.next === "left"),
    ).toBe(true);
  });

  it("a graceful leave gets through 10% loss (repeated, and gossiped onwards)", async () => {
    for (const seed of [41, 42, 43]) {
      const sim = new Simulation({ members: 10, seed, loss: 0.1, startSpreadMs: 100 });
      sim.runFor(3000);
      const from = sim.now;
      const left = sim.leave("node-04");
      sim.runFor(200);
      await left;
      expect(sim.departures("node-04", from).size).toBe(9);
    }
  });

  it("a partition gives two consistent views, and they merge within 2 s of healing without deaths", () => {
    for (const seed of [51, 52, 53]) {
      const sim = new Simulation({ members: 10, seed, seedCount: 2, startSpreadMs: 200 });
      sim.runFor(3000);
      const names = sim.names();
      const sideA = names.slice(0, 4);
      const sideB = names.slice(4);
      sim.partitionInto([sideA, sideB]);
      sim.runFor(10_000);
      for (const name of sideA) expect(sameSet(sim.liveSeenBy(name), new Set(sideA))).toBe(true);
      for (const name of sideB) expect(sameSet(sim.liveSeenBy(name), new Set(sideB))).toBe(true);
      const healedAt = sim.now;
      sim.heal();
      expect(settle(sim, 2000, () => sim.converged())).toBeLessThan(2000);
      expect(sim.falseDeaths(new Set(names), healedAt)).toEqual([]);
    }
  });

  it("one node cut off from two: each side settles, and the merge after healing takes well under 2 s", () => {
    const sim = new Simulation({ members: 3, seed: 61, startSpreadMs: 100 });
    sim.runFor(2000);
    sim.partitionInto([["node-00"], ["node-01", "node-02"]]);
    sim.runFor(3000);
    expect([...sim.liveSeenBy("node-00")]).toEqual(["node-00"]);
    expect(sameSet(sim.liveSeenBy("node-01"), new Set(["node-01", "node-02"]))).toBe(true);
    sim.heal();
    expect(settle(sim, 2000, () => sim.converged())).toBeLessThan(1500);
  });

  it("runs the same with every message through the binary codec", () => {
    const sim = new Simulation({ members: 8, seed: 71, wire: true, startSpreadMs: 100 });
    expect(settle(sim, 3000, () => sim.converged())).toBeLessThan(3000);
    sim.crash("node-05");
    expect(settle(sim, 2000, () => sim.converged())).toBeLessThan(1200);
  });

  it("property: after any crashes under light loss, every survivor ends with exactly the survivors", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 3, max: 12 }),
        fc.double({ min: 0, max: 0.05, noNaN: true }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 2000 })), { maxLength: 4 }),
        (seed, members, loss, crashes) => {
          const sim = new Simulation({ members, seed, loss, seedCount: 2, startSpreadMs: 300 });
          sim.runFor(3000);
          const doomed = new Set<string>();
          for (const [pick, delay] of crashes) {
            const name = sim.names()[1 + (pick % (members - 1))] ?? "";
            if (doomed.size >= members - 2 || doomed.has(name)) continue;
            sim.runFor(delay);
            sim.crash(name);
            doomed.add(name);
          }
          sim.runFor(6000);
          const survivors = new Set(sim.running());
          expect(sim.converged(survivors)).toBe(true);
          expect(sim.falseDeaths(survivors)).toEqual([]);
        },
      ),
      { numRuns: 25 },
    );
  });
});
