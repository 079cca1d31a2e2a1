/**
 * `ironlb lab status`: what runs, which speakers are live, and which node announces which
 * Service. Gathering talks to the API (through the host relay) and /proc; rendering is pure.
 */
import { isIP } from "node:net";
import type { KubeClients } from "../k8s/client.js";
import { announcements, IRONLB_NAMESPACE, speakerLeases, type Announcement } from "./cluster.js";
import type { Lab } from "./lab.js";
import type { LabState } from "./state.js";

export interface ProcessHealth {
  readonly name: string;
  readonly pid: number;
  readonly netns: string | undefined;
  readonly running: boolean;
}

export interface ServiceView {
  readonly namespace: string;
  readonly name: string;
  readonly ips: readonly string[];
  readonly externalTrafficPolicy: string;
  /** Announcing nodes with their interfaces (normally exactly one). */
  readonly announcedBy: readonly { readonly node: string; readonly interfaces: readonly string[] }[];
}

export interface LabStatus {
  readonly state: LabState;
  readonly processes: readonly ProcessHealth[];
  /** Speaker Lease age per node in seconds; undefined when the API did not answer. */
  readonly speakerLeaseAges?: Readonly<Record<string, number>>;
  readonly services?: readonly ServiceView[];
  /** Why the API part is missing. */
  readonly apiError?: string;
}

/** Joins LoadBalancer Services with the speakers' announcements. */
export function serviceViews(
  services: readonly {
    namespace: string;
    name: string;
    ips: readonly string[];
    externalTrafficPolicy: string;
  }[],
  announced: readonly Announcement[],
): ServiceView[] {
  return services
    .map((service) => ({
      ...service,
      announcedBy: announced
        .filter((a) => a.serviceName === service.name && a.serviceNamespace === service.namespace)
        .map((a) => ({ node: a.node, interfaces: a.interfaces })),
    }))
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

async function loadBalancerServices(clients: KubeClients): Promise<
  {
    namespace: string;
    name: string;
    ips: string[];
    externalTrafficPolicy: string;
  }[]
> {
  const list = await clients.core.listServiceForAllNamespaces();
  return list.items
    .filter((service) => service.spec?.type === "LoadBalancer")
    .map((service) => ({
      namespace: service.metadata?.namespace ?? "",
      name: service.metadata?.name ?? "",
      ips: (service.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip === undefined ? [] : [i.ip])),
      externalTrafficPolicy: service.spec?.externalTrafficPolicy ?? "Cluster",
    }));
}

interface ServiceBGPStatusLike {
  readonly status?: {
    readonly node?: string;
    readonly serviceName?: string;
    readonly serviceNamespace?: string;
    readonly peers?: readonly string[];
  };
}

/** Who advertises what over BGP, from the speakers' ServiceBGPStatus objects (peers as "interfaces"). */
export async function bgpAnnouncements(clients: KubeClients): Promise<Announcement[]> {
  const list = (await clients.customObjects.listNamespacedCustomObject({
    group: "ironlb.io",
    version: "v1beta1",
    namespace: IRONLB_NAMESPACE,
    plural: "servicebgpstatuses",
  })) as { items?: ServiceBGPStatusLike[] };
  return (list.items ?? [])
    .flatMap(({ status }): Announcement[] =>
      status?.node === undefined || status.serviceName === undefined
        ? []
        : [
            {
              serviceNamespace: status.serviceNamespace ?? "",
              serviceName: status.serviceName,
              node: status.node,
              interfaces: [...(status.peers ?? [])].sort(),
            },
          ],
    )
    .sort((a, b) => a.node.localeCompare(b.node));
}

export async function gatherStatus(lab: Lab, now: Date = new Date()): Promise<LabStatus> {
  const base = { state: lab.state, processes: lab.health() };
  if (lab.state.adminKubeconfig === undefined) return { ...base, apiError: "control plane not started" };
  try {
    const [leases, services, announced] = await Promise.all([
      speakerLeases(lab.clients),
      loadBalancerServices(lab.clients),
      lab.state.mode === "bgp" ? bgpAnnouncements(lab.clients) : announcements(lab.clients),
    ]);
    const ages: Record<string, number> = {};
    for (const [node, renewed] of leases) {
      if (renewed !== undefined) ages[node] = (now.getTime() - new Date(renewed).getTime()) / 1000;
    }
    return { ...base, speakerLeaseAges: ages, services: serviceViews(services, announced) };
  } catch (error) {
    return { ...base, apiError: error instanceof Error ? error.message : String(error) };
  }
}

const pad = (text: string, width: number): string => text.padEnd(width);

/** The command that curls `ip` from the client namespace (quoted: brackets are shell globs). */
export function curlCommand(clientNetns: string, ip: string): string {
  const url = isIP(ip) === 6 ? `'http://[${ip}]/'` : `http://${ip}/`;
  return `ip netns exec ${clientNetns} curl ${url}`;
}

export function renderStatus(status: LabStatus, clientNetns: string): string {
  const { state } = status;
  const lines: string[] = [];
  lines.push(
    `lab ${state.phase} since ${state.startedAt}: mode ${state.mode}, ${state.nodes} nodes, state in ${state.stateDir}`,
  );
  lines.push("processes:");
  for (const p of status.processes) {
    lines.push(
      `  ${pad(p.name, 22)} pid ${pad(String(p.pid), 8)} ${pad(p.netns ?? "-", 18)} ${p.running ? "running" : "NOT RUNNING"}`,
    );
  }
  if (status.apiError !== undefined) {
    lines.push(`API server: not reachable (${status.apiError})`);
    return `${lines.join("\n")}\n`;
  }
  const ages = status.speakerLeaseAges ?? {};
  const nodes = Object.keys(ages).sort();
  lines.push(
    `speaker Leases: ${nodes.length === 0 ? "none" : nodes.map((n) => `${n} renewed ${(ages[n] ?? 0).toFixed(1)} s ago`).join(", ")}`,
  );
  const services = status.services ?? [];
  // Layer 2 lists the interfaces a node answers on; BGP the peers it advertises to.
  const via = state.mode === "bgp" ? "to " : "";
  lines.push(services.length === 0 ? "LoadBalancer Services: none" : "LoadBalancer Services:");
  for (const service of services) {
    const who =
      service.announcedBy.length === 0
        ? "not announced"
        : service.announcedBy
            .map((a) => `${a.node}${a.interfaces.length > 0 ? ` (${via}${a.interfaces.join(", ")})` : ""}`)
            .join(" and ");
    const ips = service.ips.length === 0 ? "<pending>" : service.ips.join(", ");
    lines.push(
      `  ${service.namespace}/${service.name}  ${ips}  externalTrafficPolicy ${service.externalTrafficPolicy}  announced by ${who}`,
    );
  }
  const firstWithIPs = services.find((s) => s.ips.length > 0);
  if (firstWithIPs !== undefined) {
    lines.push("try:");
    for (const ip of firstWithIPs.ips) lines.push(`  ${curlCommand(clientNetns, ip)}`);
  }
  return `${lines.join("\n")}\n`;
}
