import { describe, expect, it } from "vitest";
import { ReplayGuard } from "../../../src/membership/replay.js";

const ms = (value: number): bigint => BigInt(value) * 1000n;
const now = ms(1_700_000_000_000);

describe("ReplayGuard", () => {
  it("accepts clocks 5 minutes apart by default, not more", () => {
    expect(new ReplayGuard().check("a", now - ms(299_000), now)).toBe("ok");
    expect(new ReplayGuard().check("a", now + ms(301_000), now)).toBe("stale");
  });

  it("accepts each stamp once per sender", () => {
    const guard = new ReplayGuard();
    expect(guard.check("a", now, now)).toBe("ok");
    expect(guard.check("a", now, now)).toBe("replay");
    expect(guard.check("b", now, now)).toBe("ok");
  });

  it("accepts reordering within the window and refuses what falls behind it", () => {
    const guard = new ReplayGuard({ reorderMs: 100 });
    expect(guard.check("a", now, now)).toBe("ok");
    expect(guard.check("a", now - ms(50), now)).toBe("ok"); // late but within the window
    expect(guard.check("a", now - ms(50), now)).toBe("replay"); // and only once
    expect(guard.check("a", now - ms(150), now)).toBe("replay"); // behind the window: cannot tell, refuse
    expect(guard.check("a", now + ms(1), now)).toBe("ok");
  });

  const skews: { description: string; stamp: bigint; verdict: string }[] = [
    { description: "far in the past", stamp: now - ms(61_000), verdict: "stale" },
    { description: "far in the future", stamp: now + ms(61_000), verdict: "stale" },
    { description: "within the skew", stamp: now - ms(59_000), verdict: "ok" },
  ];
  for (const { description, stamp, verdict } of skews) {
    it(`judges a stamp ${description} of our clock as ${verdict}`, () => {
      expect(new ReplayGuard({ maxSkewMs: 60_000 }).check("a", stamp, now)).toBe(verdict);
    });
  }

  it("bounds memory: past maxRemembered stamps the floor rises and old stamps are refused", () => {
    const guard = new ReplayGuard({ maxRemembered: 4, reorderMs: 10_000 });
    for (let i = 0; i < 6; i++) expect(guard.check("a", now + BigInt(i), now)).toBe("ok");
    // 0 and 1 were forgotten and lie under the floor now: refused, though never seen twice.
    expect(guard.check("a", now + 1n, now)).toBe("replay");
    expect(guard.check("a", now + 5n, now)).toBe("replay");
    expect(guard.check("a", now + 6n, now)).toBe("ok");
  });

  it("forgets the least recently heard senders past maxSenders", () => {
    const guard = new ReplayGuard({ maxSenders: 2 });
    guard.check("a", now, now);
    guard.check("b", now, now);
    guard.check("a", now + 1n, now);
    guard.check("c", now, now); // evicts b
    expect(guard.size).toBe(2);
    expect(guard.check("a", now, now)).toBe("replay");
    expect(guard.check("b", now, now)).toBe("ok"); // b was forgotten (a restart of ours looks the same)
  });
});
