/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
// Helpers for the speaker's integration and end-to-end tests: `ironlb speaker` as a child process
// (optionally inside a network namespace; the process handling is ironlbProcess.ts), a simulated
// network folder, and the cluster objects a Layer 2 Service needs.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CoreV1Api, CustomObjectsApi, DiscoveryV1Api } from "@kubernetes/client-node";
import { daemonArgs, DaemonProcess, type DaemonOptions } from "./ironlbProcess.js";

export interface SpeakerProcessOptions extends DaemonOptions {
  readonly node: string;
  readonly leaseDurationSeconds?: number;
  /** A folder made by writeSimulatedNetwork: no raw sockets, no host links. */
  readonly simulateNetwork?: string;
  /** Run inside this network namespace (`ip netns exec`). */
  readonly netns?: string;
}

/** One `ironlb speaker` child process, stopped only through its own PID. */
export class SpeakerProcess extends DaemonProcess {
  private constructor(
    readonly node: string,
    child: ReturnType<typeof DaemonProcess.spawnChild>,
  ) {
    super(`speaker ${node}`, child);
  }

  static start(options: SpeakerProcessOptions): SpeakerProcess {
    const args = daemonArgs("speaker", options, [
      "--node",
      options.node,
      ...(options.leaseDurationSeconds === undefined
        ? []
        : ["--lease-duration", String(options.leaseDurationSeconds)]),
      ...(options.simulateNetwork === undefined ? [] : ["--simulate-network", options.simulateNetwork]),
    ]);
    const child =
      options.netns === undefined
        ? DaemonProcess.spawnChild(process.execPath, args)
        : DaemonProcess.spawnChild("ip", ["netns", "exec", options.netns, process.execPath, ...args]);
    return new SpeakerProcess(options.node, child);
  }
}

/** The value of one sample in Prometheus text (`name{labels} value`), or undefined. */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const brace = line.indexOf("{");
    const labelText =
      brace >= 0 && line.startsWith(`${name}{`) ? line.slice(brace + 1, line.lastIndexOf("}")) : "";
    const matches = Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`));
    if (matches) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

/** A sysfs-shaped folder with the given Ethernet links, for `--simulate-network`. */
export function writeSimulatedNetwork(
  dir: string,
  links: readonly { name: string; ifindex: number; mac: string; up?: boolean }[],
): void {
  const inet6: string[] = [];
  for (const link of links) {
    const path = join(dir, "net", link.name);
    mkdirSync(path, { recursive: true });
    const up = link.up ?? true;
    const files: Record<string, string> = {
      ifindex: String(link.ifindex),
      type: "1",
      flags: up ? "0x1003" : "0x1002",
      operstate: up ? "up" : "down",
      address: link.mac,
    };
    for (const [file, value] of Object.entries(files)) writeFileSync(join(path, file), `${value}\n`);
    inet6.push(
      `fe80000000000000000000000000${link.ifindex.toString(16).padStart(4, "0")} 02 40 20 80 ${link.name}`,
    );
  }
  writeFileSync(join(dir, "if_inet6"), `${inet6.join("\n")}\n`);
}

/**
 * IPAddressPool "lan" with `addresses` and an L2Advertisement "lan" of it in `namespace`, for the
 * nodes `nodeSelectors` pick (every node when none).
 */
export async function createLayerTwoConfig(
  custom: CustomObjectsApi,
  namespace: string,
  addresses: readonly string[],
  nodeSelectors?: readonly unknown[],
): Promise<void> {
  const create = (plural: string, kind: string, spec: unknown) =>
    custom.createNamespacedCustomObject({
      group: "ironlb.io",
      version: "v1beta1",
      plural,
      namespace,
      body: { apiVersion: "ironlb.io/v1beta1", kind, metadata: { name: "lan", namespace }, spec },
    });
  await create("ipaddresspools", "IPAddressPool", { addresses });
  await create("l2advertisements", "L2Advertisement", {
    ipAddressPools: ["lan"],
    ...(nodeSelectors === undefined ? {} : { nodeSelectors }),
  });
}

export interface L2StatusObject {
  metadata?: {
    name?: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid: string }[];
    creationTimestamp?: unknown;
  };
  status?: {
    node?: string;
    serviceName?: string;
    serviceNamespace?: string;
    interfaces?: { name?: string }[];
  };
}

/** The ServiceL2Status objects (in IronLB's `namespace`) about one Service, from every node. */
export async function l2StatusesOf(
  custom: CustomObjectsApi,
  namespace: string,
  service: { readonly namespace: string; readonly name: string },
): Promise<L2StatusObject[]> {
  const list = (await custom.listNamespacedCustomObject({
    group: "ironlb.io",
    version: "v1beta1",
    plural: "servicel2statuses",
    namespace,
    labelSelector: `ironlb.io/service-name=${service.name},ironlb.io/service-namespace=${service.namespace}`,
  })) as { items: L2StatusObject[] };
  return list.items;
}

export interface LayerTwoServiceOptions {
  readonly namespace: string;
  readonly name: string;
  readonly lbClass: string;
  readonly ips: readonly string[];
  /** Nodes with a ready endpoint. */
  readonly endpointNodes: readonly string[];
}

/**
 * A LoadBalancer Service of `lbClass` whose status already holds `ips` (as the controller would
 * write it) and an EndpointSlice with a ready endpoint on each of `endpointNodes`.
 */
export async function createLayerTwoService(
  core: CoreV1Api,
  discovery: DiscoveryV1Api,
  options: LayerTwoServiceOptions,
): Promise<void> {
  const { namespace, name } = options;
  await core.createNamespacedService({
    namespace,
    body: {
      metadata: { name },
      spec: {
        type: "LoadBalancer",
        loadBalancerClass: options.lbClass,
        ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: 8080 }],
        ipFamilyPolicy: "PreferDualStack",
      },
    },
  });
  const created = await core.readNamespacedService({ namespace, name });
  created.status = { loadBalancer: { ingress: options.ips.map((ip) => ({ ip })) } };
  await core.replaceNamespacedServiceStatus({ namespace, name, body: created });
  await discovery.createNamespacedEndpointSlice({
    namespace,
    body: {
      metadata: { name: `${name}-ilb`, labels: { "kubernetes.io/service-name": name } },
      addressType: "IPv4",
      ports: [{ name: "http", port: 8080, protocol: "TCP" }],
      endpoints: options.endpointNodes.map((node, i) => ({
        addresses: [`10.244.${i}.10`],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: node,
      })),
    },
  });
}

/** Polls `probe` every 100 ms until it returns a value, or throws after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
