/**
 * Membership over real UDP sockets on loopback, in one process (`npm run bench -- membership`):
 * three members converge, then one stops without a word (how soon the others declare it dead)
 * and another leaves (how soon the last one sees it left). The e2e test
 * test/e2e/membership-udp.test.ts checks that both happen, and as which state; the times are
 * these figures, p50 and max of IRONLB_BENCH_ROUNDS rounds (default 10).
 */
import { loadavg } from "node:os";
import { memberAddress, type MemberAddress } from "../src/membership/address.js";
import { Keyring } from "../src/membership/keyring.js";
import { Membership } from "../src/membership/membership.js";
import { envInteger } from "./failoverSupport.js";
import type { Emit } from "./run.js";
import { emitRoundTimes } from "./timing.js";

const BENCH = "membership";
const KEY = Buffer.from("membership-bench-key-of-32-bytes");

/** Polls every 2 ms until `condition` holds; returns how long that took. */
async function until(condition: () => boolean, timeoutMs = 30_000): Promise<number> {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return performance.now() - start;
}

const liveIs = (m: Membership, names: readonly string[]): boolean =>
  m.alive().size === names.length && names.every((n) => m.alive().has(n));

async function member(name: string, seeds: MemberAddress[]): Promise<Membership> {
  const membership = new Membership({
    name,
    advertise: { ip: "127.0.0.1", port: 0 },
    bindAddress: "127.0.0.1",
    bindPort: 0,
    seeds,
    keyring: Keyring.fromSecrets(KEY),
  });
  await membership.start();
  return membership;
}

export default async function membershipBench(emit: Emit): Promise<void> {
  const rounds = envInteger("IRONLB_BENCH_ROUNDS", 10);
  const crash: number[] = [];
  const leave: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const [a, b, c] = [`a${i}`, `b${i}`, `c${i}`];
    const first = await member(a, []);
    const seeds = [memberAddress("127.0.0.1", first.port ?? 0)];
    const second = await member(b, seeds);
    const third = await member(c, seeds);
    try {
      await until(() => [first, second, third].every((m) => liveIs(m, [a, b, c])));
      await third.close(); // no leave: a crash as far as the others can tell
      crash.push(await until(() => [first, second].every((m) => liveIs(m, [a, b]))));
      const leaving = second.leave();
      leave.push(await until(() => liveIs(first, [a])));
      await leaving;
    } finally {
      for (const m of [first, second, third]) await m.close();
    }
  }
  const extra = { rounds, loadavg_1m: loadavg()[0] };
  emitRoundTimes(emit, BENCH, "membership_udp_crash_detection", crash, extra);
  emitRoundTimes(emit, BENCH, "membership_udp_leave", leave, extra);
}
