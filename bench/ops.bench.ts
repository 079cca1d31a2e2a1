/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; the bench builds them as literals. */
/**
 * Cost of `ironlb status` and `ironlb doctor` after the lists arrive: building the model (config,
 * allocator loaded with every assignment, Layer 2 and BGP decisions) and the report, for 10,000
 * LoadBalancer Services (9,000 allocated, 1,000 pending). Median of a few runs; the API reads
 * themselves are one paginated list per resource and not measured here.
 */
import type { V1EndpointSlice, V1Service } from "@kubernetes/client-node";
import { buildClusterModel, type ClusterObjects } from "../src/ops/cluster.js";
import { buildDoctorReport } from "../src/ops/doctor.js";
import { buildStatusReport } from "../src/ops/status.js";
import type { Emit } from "./run.js";

const RUNS = 3;
const SERVICES = 10_000;
const NS = "ironlb-system";

function objects(): ClusterObjects {
  const services: V1Service[] = [];
  const endpointSlices: V1EndpointSlice[] = [];
  for (let i = 0; i < SERVICES; i++) {
    const namespace = `ns${String(i % 50)}`;
    const name = `svc${String(i)}`;
    services.push({
      metadata: { namespace, name, creationTimestamp: new Date(1_700_000_000_000 + i) },
      spec: {
        type: "LoadBalancer",
        ipFamilies: ["IPv6"],
        ipFamilyPolicy: "SingleStack",
        ports: [{ port: 80 }],
      },
      status: { loadBalancer: { ingress: i < 9_000 ? [{ ip: `2001:db8:100::${i.toString(16)}` }] : [] } },
    });
    endpointSlices.push({
      metadata: { namespace, name: `${name}-1`, labels: { "kubernetes.io/service-name": name } },
      addressType: "IPv6",
      endpoints: [
        { addresses: ["2001:db8:2::1"], nodeName: `n${String(i % 10)}`, conditions: { ready: true } },
      ],
    });
  }
  const nodes = Array.from({ length: 10 }, (_, i) => ({ metadata: { name: `n${String(i)}` } }));
  return {
    services,
    endpointSlices,
    nodes,
    namespaces: [],
    ironlbConfig: [
      {
        apiVersion: "ironlb.io/v1beta1",
        kind: "IPAddressPool",
        metadata: { name: "big", namespace: NS },
        spec: { addresses: ["2001:db8:100::/112"] },
      },
      {
        apiVersion: "ironlb.io/v1beta1",
        kind: "L2Advertisement",
        metadata: { name: "all", namespace: NS },
        spec: {},
      },
    ],
    metallbConfig: [],
    l2Statuses: [],
    bgpStatuses: [],
    bgpSessions: [],
    leases: nodes.map((n) => ({
      metadata: { name: `ironlb-speaker-${n.metadata.name}`, namespace: NS },
      spec: {
        holderIdentity: n.metadata.name,
        leaseDurationSeconds: 3600,
        renewTime: new Date().toISOString(),
      },
    })),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

export default function bench(emit: Emit): Promise<void> {
  const input = objects();
  const options = { namespace: NS, now: Date.now() };
  const status: number[] = [];
  const doctor: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    let start = performance.now();
    const report = buildStatusReport(input, buildClusterModel(input, options));
    status.push(performance.now() - start);
    if (report.services.length !== SERVICES) throw new Error("status report lost Services");
    start = performance.now();
    buildDoctorReport(
      { ...input, kubeProxyConfigMap: undefined, metallbConfigMap: undefined, webhooks: [] },
      options,
    );
    doctor.push(performance.now() - start);
  }
  emit({
    bench: "ops",
    figure: "status report, 10,000 Services",
    value: Math.round(median(status)),
    unit: "ms",
  });
  emit({
    bench: "ops",
    figure: "doctor report, 10,000 Services",
    value: Math.round(median(doctor)),
    unit: "ms",
  });
  return Promise.resolve();
}
