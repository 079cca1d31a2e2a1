/**
 * Cost of the "who announces what" core: how long one full decision takes for a cluster of a
 * given size, which bounds how often a speaker can recompute on every informer event. Reports the
 * median of several runs; `cpuMs` is the process CPU time per run (the wall clock on a shared host
 * also counts waiting for a core). Addresses come from 198.18.0.0/15 (RFC 2544) and 2001:db8::/32.
 */
import { assertValidConfig } from "../src/api/config.js";
import { bgpPlanForNode, decideBGP } from "../src/announce/bgp.js";
import { decideLayer2 } from "../src/announce/layer2.js";
import type { AnnouncementSnapshot, NodeSnapshot, ServiceSnapshot } from "../src/announce/snapshot.js";
import { formatIP } from "../src/net/ip.js";
import type { Emit } from "./run.js";

const RUNS = 5;

function obj(name: string, spec: unknown): unknown {
  return { metadata: { name, namespace: "ironlb-system" }, spec };
}

const config = assertValidConfig({
  ipAddressPools: [obj("bench", { addresses: ["198.18.0.0/15", "2001:db8::/112"] })],
  l2Advertisements: [obj("bench", { ipAddressPools: ["bench"] })],
  bgpAdvertisements: [obj("bench", { ipAddressPools: ["bench"], communities: ["65000:1"] })],
  bgpPeers: [
    obj("tor-a", { myASN: 64500, peerASN: 64500, peerAddress: "192.0.2.1" }),
    obj("tor-b", { myASN: 64501, peerASN: 64510, peerAddress: "192.0.2.2" }),
  ],
});

function cluster(services: number, nodes: number): AnnouncementSnapshot {
  const nodeList: NodeSnapshot[] = Array.from({ length: nodes }, (_, i) => ({
    name: `node-${String(i)}`,
    labels: { rack: `r${String(i % 4)}` },
    networkUnavailable: false,
  }));
  const serviceList: ServiceSnapshot[] = Array.from({ length: services }, (_, i) => {
    const local = i % 3 === 0;
    const byNode = new Map(
      local
        ? [0, 1].map((k) => [`node-${String((i + k * 7) % nodes)}`, { ready: 1, serving: 1 }] as const)
        : [],
    );
    const ips =
      i % 2 === 0
        ? [formatIP({ family: "IPv4", value: 0xc6120000n + BigInt(i) })]
        : [
            formatIP({ family: "IPv4", value: 0xc6120000n + BigInt(i) }),
            formatIP({ family: "IPv6", value: 0x20010db8n * 2n ** 96n + BigInt(i) }),
          ];
    return {
      key: `ns-${String(i % 50)}/svc-${String(i)}`,
      namespace: `ns-${String(i % 50)}`,
      name: `svc-${String(i)}`,
      labels: {},
      type: "LoadBalancer",
      ours: true,
      ips,
      allocatedFromPool: "bench",
      externalTrafficPolicy: local ? "Local" : "Cluster",
      endpoints: { byNode, withoutNode: { ready: local ? 0 : 2, serving: local ? 0 : 2 } },
    };
  });
  return {
    config,
    services: serviceList,
    nodes: nodeList,
    liveSpeakers: new Set(nodeList.map((n) => n.name)),
  };
}

function measure(fn: () => void): { ms: number; cpuMs: number } {
  fn(); // warm-up
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    fn();
    walls.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const cpu = process.cpuUsage(cpu0);
    cpus.push((cpu.user + cpu.system) / 1000);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  return { ms: median(walls), cpuMs: median(cpus) };
}

/**
 * Layer 2 and a speaker's own BGP plan at both sizes; the cluster-wide BGP view (what `ironlb
 * doctor` computes, one table per node and peer) at the smaller size only, its output alone being
 * services × nodes × peers routes.
 */
export default async function bench(emit: Emit): Promise<void> {
  for (const [services, nodes, clusterWide] of [
    [1_000, 10, true],
    [10_000, 100, false],
  ] as const) {
    const snap = cluster(services, nodes);
    const shape = { services, nodes };
    const l2 = measure(() => decideLayer2(snap));
    emit({
      bench: "announce",
      figure: "layer2_decision",
      value: l2.ms,
      unit: "ms",
      cpuMs: l2.cpuMs,
      ...shape,
    });
    const own = measure(() => bgpPlanForNode(snap, "node-0"));
    emit({
      bench: "announce",
      figure: "bgp_plan_one_node",
      value: own.ms,
      unit: "ms",
      cpuMs: own.cpuMs,
      ...shape,
    });
    if (clusterWide) {
      const all = measure(() => decideBGP(snap));
      emit({
        bench: "announce",
        figure: "bgp_decision_all_nodes",
        value: all.ms,
        unit: "ms",
        cpuMs: all.cpuMs,
        ...shape,
      });
    }
    await Promise.resolve();
  }
}
