import { describe, expect, test } from "vitest";
import {
  INT64_MAX,
  poolStatusCounts,
  poolStatusDiffers,
  poolStatusJSON,
} from "../../../src/controller/poolStatus.js";

const stats = (v4: bigint, v6: bigint, free4: bigint, free6: bigint) => ({
  assignedIPv4: v4,
  assignedIPv6: v6,
  availableIPv4: free4,
  availableIPv6: free6,
});

describe("pool status", () => {
  test("counts above int64 are capped (an IPv6 /48 has 2^80 addresses)", () => {
    expect(poolStatusCounts(stats(1n, 2n, 3n, 1n << 80n))).toEqual(stats(1n, 2n, 3n, INT64_MAX));
  });

  test("JSON text keeps every digit of a capped count", () => {
    expect(poolStatusJSON(stats(1n, 0n, 254n, INT64_MAX))).toBe(
      '{"assignedIPv4":1,"assignedIPv6":0,"availableIPv4":254,"availableIPv6":9223372036854775807}',
    );
  });

  test.each([
    { description: "no status yet", current: undefined, want: true },
    {
      description: "a field missing",
      current: { assignedIPv4: 1, assignedIPv6: 0, availableIPv4: 9 },
      want: true,
    },
    {
      description: "the same counts",
      current: { assignedIPv4: 1, assignedIPv6: 0, availableIPv4: 9, availableIPv6: 0 },
      want: false,
    },
    {
      description: "one count differs",
      current: { assignedIPv4: 2, assignedIPv6: 0, availableIPv4: 8, availableIPv6: 0 },
      want: true,
    },
  ])("differs: $description", ({ current, want }) => {
    expect(poolStatusDiffers(current, stats(1n, 0n, 9n, 0n))).toBe(want);
  });

  test("a capped count read back through a JavaScript number is not rewritten forever", () => {
    const readBack = JSON.parse(poolStatusJSON(stats(0n, 0n, 0n, INT64_MAX))) as unknown;
    expect(poolStatusDiffers(readBack, stats(0n, 0n, 0n, INT64_MAX))).toBe(false);
    expect(poolStatusDiffers(readBack, stats(0n, 0n, 0n, 1n << 40n))).toBe(true);
  });
});
