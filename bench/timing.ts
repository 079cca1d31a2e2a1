/** Shared by benches that time repeated rounds of one event. */
import { percentile } from "./failoverSupport.js";
import type { Emit } from "./run.js";

/** Emits `<figure>_p50_ms` and `<figure>_max_ms` of `times` (milliseconds, any order). */
export function emitRoundTimes(
  emit: Emit,
  bench: string,
  figure: string,
  times: readonly number[],
  extra: Record<string, unknown>,
): void {
  const sorted = [...times].sort((a, b) => a - b);
  const value = { p50: percentile(sorted, 50), max: sorted.at(-1) ?? NaN };
  for (const [stat, ms] of Object.entries(value)) {
    emit({ bench, figure: `${figure}_${stat}_ms`, value: Math.round(ms), unit: "ms", ...extra });
  }
}
