/**
 * Allocator throughput and memory. Each throughput figure fills pools, frees 1% at random, then
 * repeats "release a random Service, allocate it again" and reports pairs per second: `value` by
 * the wall clock, `cpuBound` by the CPU time the process used (the figure on a host of its own;
 * on a shared one the wall clock also counts waiting for a core, see `loadavg`).
 * Addresses come from 198.18.0.0/15 (RFC 2544, benchmarking) and 2001:db8::/32; nothing here
 * touches a network.
 */
import { loadavg } from "node:os";
import { Allocator, type PoolSpec, type ServiceRequest } from "../src/ipam/index.js";
import { parseAddressRange } from "../src/net/ip.js";
import type { Emit } from "./run.js";

const MEASURE_NS = 1_000_000_000n;

function pool(name: string, cidr: string, namespaces?: string[]): PoolSpec {
  return {
    name,
    ranges: [parseAddressRange(cidr)],
    autoAssign: true,
    avoidBuggyIPs: false,
    ...(namespaces !== undefined && { serviceAllocation: { namespaces } }),
  };
}

function requests(
  count: number,
  family: "IPv4" | "IPv6",
  namespaceOf: (i: number) => string,
): ServiceRequest[] {
  return Array.from({ length: count }, (_, i) => ({
    namespace: namespaceOf(i),
    name: `svc-${i}`,
    labels: { app: `app-${i % 17}` },
    namespaceLabels: {},
    ipFamilies: [family],
    ipFamilyPolicy: "SingleStack",
    requestedIPs: [],
    ports: [{ protocol: "TCP", port: 443 }],
    backendKey: "cluster",
  }));
}

/** A small deterministic PRNG (xorshift32), so every run churns the same Services. */
function prng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

interface Churn {
  wallPerSecond: number;
  cpuPerSecond: number;
  held: number;
}

/**
 * Allocates every request, releases `holes` random ones (so free addresses are scattered, not
 * all at the end), then measures "release a random live Service, allocate it again" pairs for
 * about a second. Each allocation takes the lowest free address, so the holes move about.
 */
function churn(allocator: Allocator, reqs: readonly ServiceRequest[], holes: number): Churn {
  for (const [i, req] of reqs.entries()) {
    const r = allocator.allocate(req);
    if (!r.ok) throw new Error(`fill failed at ${i}: ${r.reason.message}`);
  }
  const keys = reqs.map((r) => `${r.namespace}/${r.name}`);
  const random = prng(0x1e0b);
  const order = [...reqs.keys()];
  for (let i = order.length - 1; i > 0; i--) {
    const j = random(i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  for (const i of order.slice(0, holes)) allocator.release(keys[i] as string);
  const live = order.slice(holes);
  const step = (): void => {
    const i = live[random(live.length)] as number;
    allocator.release(keys[i] as string);
    const r = allocator.allocate(reqs[i] as ServiceRequest);
    if (!r.ok) throw new Error(`churn failed: ${r.reason.message}`);
  };
  for (let i = 0; i < 20_000; i++) step(); // warm-up: let the JIT settle
  let pairs = 0;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < MEASURE_NS) {
    for (let i = 0; i < 1000; i++) step();
    pairs += 1000;
    elapsed = process.hrtime.bigint() - start;
  }
  const used = process.cpuUsage(cpu);
  return {
    wallPerSecond: Math.round((pairs * 1e9) / Number(elapsed)),
    // Main-thread and GC-helper CPU: what the work costs, apart from waiting for a busy host.
    cpuPerSecond: Math.round((pairs * 1e6) / (used.user + used.system)),
    held: allocator.size,
  };
}

function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --expose-gc (npm run bench does)");
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

export default async function ipamBench(emit: Emit): Promise<void> {
  await Promise.resolve();
  const load = Number(loadavg()[0]?.toFixed(1));
  const run = (
    figure: string,
    pools: PoolSpec[],
    reqs: ServiceRequest[],
    holes: number,
    extra = {},
  ): void => {
    const allocator = new Allocator();
    allocator.setPools(pools);
    const c = churn(allocator, reqs, holes);
    emit({
      bench: "ipam",
      figure,
      value: c.wallPerSecond,
      unit: "allocate+release/s",
      cpuBound: c.cpuPerSecond,
      held: c.held,
      loadavg: load,
      ...extra,
    });
  };
  const onePercent = (n: number): number => Math.ceil(n / 100);
  const inNamespace = () => "ns";

  run(
    "churn_ipv4_65536_at_99pct",
    [pool("big", "198.18.0.0/16")],
    requests(65_536, "IPv4", inNamespace),
    onePercent(65_536),
    {
      poolSize: 65_536,
    },
  );
  run(
    "churn_ipv4_1024_at_99pct",
    [pool("small", "198.18.0.0/22")],
    requests(1_024, "IPv4", inNamespace),
    onePercent(1_024),
    {
      poolSize: 1_024,
    },
  );
  // Pool size apart from the number of live Services: the big pool holding as many as the small one.
  run(
    "churn_ipv4_65536_holding_1014",
    [pool("big", "198.18.0.0/16")],
    requests(1_024, "IPv4", inNamespace),
    10,
    {
      poolSize: 65_536,
    },
  );
  run(
    "churn_ipv6_slash64_holding_100k",
    [pool("v6", "2001:db8:1::/64")],
    requests(100_000, "IPv6", inNamespace),
    1_000,
    {
      poolSize: "2^64",
    },
  );

  // 500 pools of 256 addresses (128,000 in all) at 99%: most pools are full and must be skipped.
  const manyPools = Array.from({ length: 500 }, (_, i) =>
    pool(`pool-${String(i).padStart(3, "0")}`, `198.${18 + (i >> 8)}.${i % 256}.0/24`),
  );
  run("churn_500_pools_at_99pct", manyPools, requests(128_000, "IPv4", inNamespace), onePercent(128_000), {
    pools: 500,
  });
  // The same with every pool scoped to one namespace (serviceAllocation.namespaces), one namespace each.
  const scoped = manyPools.map((p, i) => ({ ...p, serviceAllocation: { namespaces: [`ns-${i}`] } }));
  run(
    "churn_500_namespace_scoped_pools_at_99pct",
    scoped,
    requests(128_000, "IPv4", (i) => `ns-${i % 500}`),
    onePercent(128_000),
    { pools: 500 },
  );

  // Memory: the allocator's own heap for 100,000 single-stack assignments (requests pre-built).
  const count = 100_000;
  const reqs = requests(count, "IPv4", inNamespace);
  const allocator = new Allocator();
  allocator.setPools([pool("mem", "198.18.0.0/15")]);
  const before = heapUsed();
  for (const r of reqs) allocator.allocate(r);
  const after = heapUsed();
  emit({
    bench: "ipam",
    figure: "heap_per_100k_assignments",
    value: after - before,
    unit: "bytes",
    perAssignment: Math.round((after - before) / count),
    held: allocator.size,
  });
}
