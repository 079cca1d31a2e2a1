import { describe, expect, it } from "vitest";
import { formatDurationMs, parseDurationMs } from "../../../src/api/duration.js";

describe("Go durations", () => {
  it.each([
    ["0", 0],
    ["0s", 0],
    ["90s", 90_000],
    ["1m30s", 90_000],
    ["1.5h", 5_400_000],
    ["300ms", 300],
    [".5s", 500],
    ["2h45m", 9_900_000],
    ["1500us", 1.5],
    ["1500µs", 1.5],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDurationMs(text)).toBeCloseTo(ms, 9);
  });

  it.each(["", "90", "-5s", "1d", "s", "1m 30s", "1.2.3s", "+3s"])("%j is not a duration", (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });

  it.each([
    [0, "0s"],
    [250, "250ms"],
    [90_000, "1m30s"],
    [3_600_000, "1h"],
    [3_723_000, "1h2m3s"],
  ])("%d ms formats as %s", (ms, text) => {
    expect(formatDurationMs(ms)).toBe(text);
    expect(parseDurationMs(text)).toBe(ms);
  });
});
