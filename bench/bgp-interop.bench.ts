/**
 * BGP figures against a real BIRD 2 (as root; `npm run bench -- bgp-interop`):
 *
 * - Service create → route at BIRD: the Layer 2 lab's control plane, controller and two
 *   `ironlb speaker`s with a BIRD namespace on the LAN; a Service asking for a BGP pool address is
 *   created through the API server and BIRD is polled until it holds the /32 (p50, p99 over
 *   SERVICE_ITERATIONS).
 * - advertisement → route at BIRD: a Service added to (then removed from) the node's file, the
 *   speaker told with SIGHUP, and the time until `birdc show route` has (no longer has) the /32;
 *   p50 and p99 over ITERATIONS. The controller's share (allocation, status write, informers) is
 *   not in it: the speaker's input changes directly.
 * - 10,000 /128 prefixes (10,000 Services) to one BIRD peer: time from the session being
 *   Established to BIRD holding all of them, UPDATE messages sent, and the speaker's RSS then.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../src/lab/processes.js";
import { BirdRouter } from "../src/lab/routerBird.js";
import {
  ironlb,
  routerLabCluster,
  routerNeighbors,
  serviceObjects,
  type LabService,
} from "../src/lab/routerCluster.js";
import { Lab } from "../src/lab/lab.js";
import { attachBirdRouter } from "../src/lab/routerAttach.js";
import { RouterLab } from "../src/lab/routerLab.js";
import { NODE_ASN, ROUTER_ASN, ROUTER_LAN } from "../src/lab/routerTopology.js";
import type { LabNode } from "../src/lab/topology.js";
import type { Emit } from "./run.js";

const BENCH = "bgp-interop";
const SERVICE_ITERATIONS = 20;
const ITERATIONS = 30;
const LARGE_TABLE = 10_000;

const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;

function vmRssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(pid)}/status`, "utf8"));
  return m === null ? Number.NaN : Number(m[1]);
}

/** birdc exits non-zero ("Network not found") when the route is absent. */
async function routePresent(bird: BirdRouter, prefix: string): Promise<boolean> {
  try {
    return (await bird.birdc(["show", "route", prefix])).includes(prefix);
  } catch {
    return false;
  }
}

async function timeUntil(what: string, check: () => Promise<boolean>): Promise<number> {
  const t0 = performance.now();
  await waitFor(what, async () => ((await check()) ? true : undefined), { timeoutMs: 20_000, intervalMs: 5 });
  return performance.now() - t0;
}

async function advertisementLatency(
  emit: Emit,
  lab: RouterLab,
  bird: BirdRouter,
  node: LabNode,
): Promise<void> {
  const base = routerLabCluster(lab.nodes, { services: [] });
  const announce: number[] = [];
  const withdraw: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const ip = `198.51.100.${String(10 + i)}`;
    const service: LabService = {
      name: `bench-${String(i)}`,
      ips: [ip],
      policy: "Cluster",
      endpointNodes: [node.nodeName],
    };
    lab.writeCluster([...base, ...serviceObjects(service)]);
    const added = timeUntil(`${ip} at BIRD`, () => routePresent(bird, `${ip}/32`));
    lab.reload();
    announce.push(await added);
    lab.writeCluster(base);
    const removed = timeUntil(`${ip} gone at BIRD`, async () => !(await routePresent(bird, `${ip}/32`)));
    lab.reload();
    withdraw.push(await removed);
  }
  const extra = { iterations: ITERATIONS, pollIntervalMs: 5, path: "file change, ironlb BGP speaker, BGP" };
  emitQuantiles(emit, "advertisement_to_bird_rib_ms", announce, extra);
  emitQuantiles(emit, "withdrawal_to_bird_rib_ms", withdraw, extra);
}

async function largeTable(emit: Emit, lab: RouterLab, bird: BirdRouter, node: LabNode): Promise<void> {
  const speaker = lab.speaker(node);
  await speaker.stop();
  const objects = [
    ...routerLabCluster(lab.nodes, { services: [] }),
    ironlb("IPAddressPool", "large", { addresses: ["2001:db8:200::/112"] }),
    ironlb("BGPAdvertisement", "large", { ipAddressPools: ["large"] }),
  ];
  for (let i = 0; i < LARGE_TABLE; i++) {
    const ip = `2001:db8:200::${(i + 1).toString(16)}`;
    // One backend on the node (the IPv6 slice is enough for the decision).
    const [svc, , v6] = serviceObjects({
      name: `large-${String(i)}`,
      ips: [ip],
      policy: "Cluster",
      endpointNodes: [node.nodeName],
    });
    objects.push(svc, v6);
  }
  lab.writeCluster(objects);
  const started = Date.now();
  speaker.start("shutdown");
  const established = await speaker.waitEvent(
    "IPv6 session Established",
    (e) => e.event === "established" && e.peer === "router-v6",
    120_000,
  );
  await waitFor(
    `${String(LARGE_TABLE)} routes at BIRD`,
    async () => ((await bird.routeCount(node.ipv6)) >= LARGE_TABLE ? true : undefined),
    { timeoutMs: 300_000, intervalMs: 50 },
  );
  const done = Date.now();
  const pid = speaker.process?.pid ?? 0;
  const rssKiB = vmRssKiB(pid);
  const status = await speaker.status();
  const heapUsed = (status["memory"] as { heapUsed?: number } | undefined)?.heapUsed ?? Number.NaN;
  const updates = /ironlb_bgp_updates_sent_total\{peer="2001:db8:1::1"\} (\d+)/.exec(
    String(status["metrics"]),
  )?.[1];
  const extra = { prefixes: LARGE_TABLE, family: "IPv6 /128", updatesSent: Number(updates ?? Number.NaN) };
  emit({
    bench: BENCH,
    figure: "large_table_established_to_bird_ms",
    value: done - established.t,
    unit: "ms",
    ...extra,
  });
  emit({ bench: BENCH, figure: "large_table_start_to_bird_ms", value: done - started, unit: "ms", ...extra });
  emit({
    bench: BENCH,
    figure: "large_table_speaker_rss",
    value: Math.round(rssKiB / 1024),
    unit: "MiB",
    ...extra,
  });
  emit({
    bench: BENCH,
    figure: "large_table_speaker_heap_used",
    value: Math.round(heapUsed / 2 ** 20),
    unit: "MiB",
    ...extra,
  });
}

function emitQuantiles(
  emit: Emit,
  figure: string,
  samples: readonly number[],
  extra: Record<string, unknown>,
): void {
  const sorted = [...samples].sort((a, b) => a - b);
  for (const [name, q] of [
    ["p50", 0.5],
    ["p99", 0.99],
  ] as const) {
    emit({
      bench: BENCH,
      figure: `${figure}_${name}`,
      value: Math.round(quantile(sorted, q) * 10) / 10,
      unit: "ms",
      ...extra,
    });
  }
}

/** Through the whole product: API server → controller → speakers → BIRD. */
async function serviceToRib(emit: Emit): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "ironlb-bgp-bench-"));
  const lab = await Lab.start({
    prefix: `ilb-bs${String(process.pid % 100_000)}-`,
    nodes: 2,
    demoService: false,
    stateDir: join(dir, "state"),
    logLevel: "warn",
  });
  let attached: Awaited<ReturnType<typeof attachBirdRouter>> | undefined;
  try {
    attached = await attachBirdRouter(lab, (n) => [{ address: n.ipv4, asn: NODE_ASN }]);
    const bird = attached.router;
    await lab.apply(ironlb("IPAddressPool", "bgp", { addresses: ["198.51.100.0/24"], autoAssign: false }));
    await lab.apply(
      ironlb("BGPPeer", "router", {
        myASN: NODE_ASN,
        peerASN: ROUTER_ASN,
        peerAddress: ROUTER_LAN.ipv4,
        connectTime: "2s",
      }),
    );
    await lab.apply(ironlb("BGPAdvertisement", "bgp", { ipAddressPools: ["bgp"] }));
    await waitFor(
      "sessions at BIRD",
      async () => ((await bird.established()).size === lab.layout.nodes.length ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    const samples: number[] = [];
    for (let i = 0; i < SERVICE_ITERATIONS; i++) {
      const ip = `198.51.100.${String(100 + i)}`;
      const t0 = performance.now();
      await lab.createService({
        name: `bench-${String(i)}`,
        families: ["IPv4"],
        annotations: { "ironlb.io/loadBalancerIPs": ip },
      });
      await waitFor(
        `${ip} at BIRD`,
        async () => ((await routePresent(bird, `${ip}/32`)) ? true : undefined),
        {
          timeoutMs: 30_000,
          intervalMs: 5,
        },
      );
      samples.push(performance.now() - t0);
    }
    emitQuantiles(emit, "service_create_to_bird_rib_ms", samples, {
      iterations: SERVICE_ITERATIONS,
      nodes: lab.layout.nodes.length,
      path: "API server, controller, ironlb speaker, BGP",
    });
  } finally {
    await attached?.close();
    await lab.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function bgpInteropBench(emit: Emit): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stderr.write("bgp-interop bench: skipped, it builds a network-namespace lab and needs root\n");
    return;
  }
  const lab = await RouterLab.create({
    prefix: `ilb-bi${String(process.pid % 100_000)}-`,
    nodes: 1,
    daemon: "bird",
    neighbors: (n) => routerNeighbors(n),
    holdTimeSeconds: 90,
  });
  try {
    const [node] = lab.nodes as [LabNode];
    const bird = lab.router;
    if (!(bird instanceof BirdRouter)) throw new Error("expected BIRD");
    lab.writeCluster(routerLabCluster(lab.nodes, { services: [] }));
    lab.speaker(node).start("shutdown");
    await lab
      .speaker(node)
      .waitEvent("sessions", (e) => e.event === "established" && e.peer === "router-v4", 60_000);
    await lab
      .speaker(node)
      .waitEvent("sessions", (e) => e.event === "established" && e.peer === "router-v6", 60_000);
    const idle = lab.speaker(node).process?.pid ?? 0;
    emit({
      bench: BENCH,
      figure: "idle_speaker_rss",
      value: Math.round(vmRssKiB(idle) / 1024),
      unit: "MiB",
      sessions: 2,
    });
    await advertisementLatency(emit, lab, bird, node);
    await largeTable(emit, lab, bird, node);
  } finally {
    await lab.close();
  }
  await serviceToRib(emit);
}
