import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LabProcess, LabTimeoutError, recordAlive, stopRecord, waitFor } from "../../../src/lab/processes.js";
import { LabStateError, readState, writeState, type LabState } from "../../../src/lab/state.js";

const dir = mkdtempSync(join(tmpdir(), "ironlb-lab-unit-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("lab processes", () => {
  it("records a started process and stops it by its own PID", async () => {
    const sleeper = LabProcess.start(
      { name: "sleeper", argv: ["sleep", "30"], logFile: join(dir, "sleeper.log") },
      "owned",
    );
    expect(recordAlive(sleeper.record)).toBe(true);
    await stopRecord(sleeper.record, 2000);
    expect(recordAlive(sleeper.record)).toBe(false);
    await sleeper.exited();
    expect(sleeper.exitReason).toBe("signal SIGTERM");
  });

  it("a PID whose start time differs is another process: never alive, never signalled", async () => {
    const sleeper = LabProcess.start(
      { name: "sleeper", argv: ["sleep", "30"], logFile: join(dir, "s2.log") },
      "owned",
    );
    const impostor = { ...sleeper.record, startTicks: sleeper.record.startTicks + 1 };
    expect(recordAlive(impostor)).toBe(false);
    await stopRecord(impostor, 100);
    expect(sleeper.running).toBe(true);
    await sleeper.stop();
  });

  it("escalates to SIGKILL when SIGTERM is ignored", async () => {
    const stubborn = LabProcess.start(
      {
        name: "stubborn",
        argv: ["sh", "-c", "trap '' TERM; echo ready; sleep 30 & wait"],
        logFile: join(dir, "s3.log"),
      },
      "owned",
    );
    await waitFor("the trap", () => (stubborn.logTail().includes("ready") ? true : undefined), {
      timeoutMs: 5000,
      intervalMs: 10,
    });
    await stopRecord(stubborn.record, 200);
    await stubborn.exited();
    expect(stubborn.exitReason).toBe("signal SIGKILL");
  });

  it("waitFor returns the first value, reports the last error on timeout, and gives up on request", async () => {
    let calls = 0;
    await expect(
      waitFor("three calls", () => (++calls >= 3 ? calls : undefined), { timeoutMs: 2000, intervalMs: 1 }),
    ).resolves.toBe(3);
    await expect(
      waitFor("a failing probe", () => Promise.reject(new Error("refused")), {
        timeoutMs: 50,
        intervalMs: 10,
      }),
    ).rejects.toThrow(/timed out after 50 ms waiting for a failing probe \(last error: refused\)/);
    await expect(
      waitFor("anything", () => undefined, { timeoutMs: 5000, giveUp: () => "it died" }),
    ).rejects.toThrow(LabTimeoutError);
  });
});

describe("lab state file", () => {
  const state: LabState = {
    version: 1,
    mode: "l2",
    prefix: "ilb-t-",
    nodes: 2,
    secondLink: false,
    stateDir: join(dir, "state"),
    startedAt: new Date(0).toISOString(),
    phase: "starting",
    namespaces: ["ilb-t-node1"],
    processes: [{ name: "x", pid: 1, startTicks: 2, argv: ["a"], logFile: "/l" }],
  };

  it("round-trips, and a missing file is no lab", () => {
    expect(readState(join(dir, "none"))).toBeUndefined();
    writeState(state);
    expect(readState(state.stateDir)).toEqual(state);
  });

  it("rejects a file that is not a lab state", () => {
    const other = join(dir, "other");
    writeState({ ...state, stateDir: other });
    writeFileSync(join(other, "state.json"), '{"version": 2}');
    expect(() => readState(other)).toThrow(LabStateError);
    writeFileSync(join(other, "state.json"), "{");
    expect(() => readState(other)).toThrow(LabStateError);
  });
});
