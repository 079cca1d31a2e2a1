import { describe, expect, it } from "vitest";
import {
  DEFAULT_ELECTION_TIMINGS,
  ElectionTimingsError,
  decide,
  nextRecord,
  observe,
  releasedRecord,
  validateTimings,
  type Decision,
  type ElectionTimings,
  type LeaseRecord,
  type Observation,
} from "../../../src/k8s/leaseDecision.js";

const ME = "controller-0_aaaa";
const OTHER = "controller-1_bbbb";
const timings = DEFAULT_ELECTION_TIMINGS;

function held(
  holder: string,
  observedAt: number,
  leaseDurationSeconds = 15,
  resourceVersion = "7",
): Observation {
  return {
    observedAt,
    lease: {
      resourceVersion,
      record: {
        holderIdentity: holder,
        leaseDurationSeconds,
        acquireTime: undefined,
        renewTime: undefined,
        leaseTransitions: 3,
      },
    },
  };
}

describe("decide", () => {
  const cases: {
    description: string;
    observation: Observation;
    leading?: boolean;
    lastRenewedAt?: number;
    now: number;
    expected: Decision;
  }[] = [
    {
      description: "no Lease object yet → create it",
      observation: { lease: undefined, observedAt: 0 },
      now: 0,
      expected: { action: "create" },
    },
    {
      description: "released lease (empty holder) → acquire at once",
      observation: held("", 1000, 1),
      now: 1000,
      expected: { action: "acquire" },
    },
    {
      description: "held by another and fresh → wait until it would expire",
      observation: held(OTHER, 1000),
      now: 6000,
      expected: { action: "wait", holder: OTHER, expiresInMs: 10_000 },
    },
    {
      description: "held by another, 1 ms before expiry → still wait",
      observation: held(OTHER, 1000),
      now: 15_999,
      expected: { action: "wait", holder: OTHER, expiresInMs: 1 },
    },
    {
      description: "held by another, unchanged for the whole lease duration → acquire (expired)",
      observation: held(OTHER, 1000),
      now: 16_000,
      expected: { action: "acquire" },
    },
    {
      description: "the holder's own (shorter) lease duration counts, not ours",
      observation: held(OTHER, 1000, 5),
      now: 6000,
      expected: { action: "acquire" },
    },
    {
      description: "a lease without a duration falls back to ours",
      observation: held(OTHER, 1000, 0),
      now: 15_000,
      expected: { action: "wait", holder: OTHER, expiresInMs: 1000 },
    },
    {
      description: "own lease while standing by (e.g. after a failed renew) → renew it",
      observation: held(ME, 1000),
      now: 2000,
      expected: { action: "renew" },
    },
    {
      description: "own lease while leading, renewed 2 s ago → renew",
      observation: held(ME, 1000),
      leading: true,
      lastRenewedAt: 1000,
      now: 3000,
      expected: { action: "renew" },
    },
    {
      description: "leading, 1 ms inside the renew deadline → renew",
      observation: held(ME, 1000),
      leading: true,
      lastRenewedAt: 1000,
      now: 10_999,
      expected: { action: "renew" },
    },
    {
      description: "leading, renew deadline passed → stop",
      observation: held(ME, 1000),
      leading: true,
      lastRenewedAt: 1000,
      now: 11_000,
      expected: { action: "stop", reason: "renew-deadline" },
    },
    {
      description: "leading but the lease names another holder → stop (lost)",
      observation: held(OTHER, 4000),
      leading: true,
      lastRenewedAt: 3000,
      now: 4000,
      expected: { action: "stop", reason: "lost" },
    },
    {
      description: "leading but the lease was released by someone → stop (lost)",
      observation: held("", 4000, 1),
      leading: true,
      lastRenewedAt: 3000,
      now: 4000,
      expected: { action: "stop", reason: "lost" },
    },
    {
      description: "leading and the Lease object was deleted → create it again",
      observation: { lease: undefined, observedAt: 4000 },
      leading: true,
      lastRenewedAt: 3000,
      now: 4000,
      expected: { action: "create" },
    },
  ];
  for (const { description, observation, leading = false, lastRenewedAt, now, expected } of cases) {
    it(description, () => {
      expect(decide({ identity: ME, timings, observation, leading, lastRenewedAt, now })).toEqual(expected);
    });
  }
});

describe("observe", () => {
  const first = held(OTHER, 1000, 15, "7");
  const cases: {
    description: string;
    previous: Observation | undefined;
    next: Observation["lease"];
    expectedObservedAt: number;
  }[] = [
    {
      description: "first read starts the clock",
      previous: undefined,
      next: first.lease,
      expectedObservedAt: 5000,
    },
    {
      description: "same resourceVersion keeps the first time seen",
      previous: first,
      next: held(OTHER, 0, 15, "7").lease,
      expectedObservedAt: 1000,
    },
    {
      description: "a new resourceVersion (a renewal) restarts the clock",
      previous: first,
      next: held(OTHER, 0, 15, "8").lease,
      expectedObservedAt: 5000,
    },
    {
      description: "still no Lease keeps the time",
      previous: { lease: undefined, observedAt: 1000 },
      next: undefined,
      expectedObservedAt: 1000,
    },
    {
      description: "the Lease disappearing restarts the clock",
      previous: first,
      next: undefined,
      expectedObservedAt: 5000,
    },
  ];
  for (const { description, previous, next, expectedObservedAt } of cases) {
    it(description, () => {
      const result = observe(previous, next, 5000);
      expect(result.observedAt).toBe(expectedObservedAt);
      expect(result.lease).toBe(next);
    });
  }
});

describe("nextRecord / releasedRecord", () => {
  const now = new Date("2025-01-01T00:00:10Z");
  const earlier = new Date("2025-01-01T00:00:00Z");
  const other: LeaseRecord = {
    holderIdentity: OTHER,
    leaseDurationSeconds: 15,
    acquireTime: earlier,
    renewTime: earlier,
    leaseTransitions: 4,
  };
  const mine: LeaseRecord = { ...other, holderIdentity: ME };

  it("create: held by us, no transitions yet, times now", () => {
    expect(nextRecord("create", undefined, ME, timings, now)).toEqual({
      holderIdentity: ME,
      leaseDurationSeconds: 15,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
    });
  });

  it("acquire from another holder counts a transition and resets acquireTime", () => {
    expect(nextRecord("acquire", other, ME, timings, now)).toEqual({
      holderIdentity: ME,
      leaseDurationSeconds: 15,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 5,
    });
  });

  it("renew keeps acquireTime and transitions, moves renewTime", () => {
    expect(nextRecord("renew", mine, ME, timings, now)).toEqual({ ...mine, renewTime: now });
  });

  it("release empties the holder and shortens the lease to 1 s", () => {
    expect(releasedRecord(mine, now)).toEqual({
      holderIdentity: "",
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 4,
    });
  });
});

describe("validateTimings", () => {
  it("accepts the defaults (15 s lease, 10 s renew deadline, 2 s retry)", () => {
    expect(() => {
      validateTimings(DEFAULT_ELECTION_TIMINGS);
    }).not.toThrow();
  });
  const invalid: { description: string; timings: ElectionTimings }[] = [
    {
      description: "renew deadline not shorter than the lease",
      timings: { leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 },
    },
    {
      description: "retry period too close to the renew deadline",
      timings: { leaseDurationMs: 15_000, renewDeadlineMs: 2200, retryPeriodMs: 2000 },
    },
    {
      description: "lease not in whole seconds",
      timings: { leaseDurationMs: 15_500, renewDeadlineMs: 10_000, retryPeriodMs: 2000 },
    },
    {
      description: "zero retry period",
      timings: { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 0 },
    },
  ];
  for (const { description, timings: t } of invalid) {
    it(`rejects ${description}`, () => {
      expect(() => {
        validateTimings(t);
      }).toThrow(ElectionTimingsError);
    });
  }
});
