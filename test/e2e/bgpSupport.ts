// Shared by the BGP interop tests and benchmark: the prerequisite gate (root, iproute2, curl, the
// three daemons, the native addon for TCP-MD5), the lab configuration (pools, peers,
// advertisements, Services) and assertions read from the router.
import { accessSync, constants } from "node:fs";
import { describe } from "vitest";
import {
  ironlb,
  basicAuthSecret,
  nodeObject,
  serviceObjects,
  type LabService,
} from "../../src/lab/routerCluster.js";
import type { RouterNeighbor, RouterPath } from "../../src/lab/routerDaemon.js";
import { NODE_ASN, ROUTER_ASN, ROUTER_LAN } from "../../src/lab/routerTopology.js";
import type { LabNode } from "../../src/lab/topology.js";
import { nativeAvailable } from "../../src/native/index.js";
import { PrereqMissingError, requirePrereqs, strictPrereqs } from "../support/e2e.js";

const FRR_DAEMONS = ["/usr/lib/frr/zebra", "/usr/lib/frr/bgpd"];

export function bgpPrereqs(): { skip: boolean; reason: string } {
  const verdict = requirePrereqs({
    root: true,
    binaries: ["ip", "curl", "bird", "birdc", "vtysh", "exabgp"],
  });
  if (verdict.missing.length > 0) return { skip: verdict.skip, reason: verdict.reason };
  const missing: string[] = [];
  for (const path of FRR_DAEMONS) {
    try {
      accessSync(path, constants.X_OK);
    } catch {
      missing.push(`${path} (apt-get install frr)`);
    }
  }
  if (!nativeAvailable())
    missing.push("the native addon build/Release/ironlb_native.node (npm ci builds it)");
  if (missing.length === 0) return { skip: false, reason: "" };
  const reason = `missing ${missing.join("; ")}`;
  if (strictPrereqs())
    throw new PrereqMissingError(`IRONLB_E2E=require and the tests' prerequisites are ${reason}`);
  return { skip: true, reason };
}

export function describeWithBgpPrereqs(name: string, body: () => void): void {
  const p = bgpPrereqs();
  describe.skipIf(p.skip)(p.skip ? `${name} (skipped: ${p.reason})` : name, body);
}

export const V4_PASSWORD = "s3cret-v4";
export const V6_PASSWORD = "s3cret-v6";
export const HOLD_SECONDS = 6;

/** The router's two sessions with a node: IPv4 eBGP and IPv6 iBGP, both with TCP-MD5. */
export function labNeighbors(node: LabNode, md5 = true): RouterNeighbor[] {
  return [
    { address: node.ipv4, asn: NODE_ASN, ...(md5 ? { password: V4_PASSWORD } : {}) },
    { address: node.ipv6, asn: ROUTER_ASN, ...(md5 ? { password: V6_PASSWORD } : {}) },
  ];
}

export const WEB: LabService = {
  name: "web",
  ips: ["198.51.100.7", "2001:db8:100::7"],
  policy: "Cluster",
  endpointNodes: ["ilb-node1"],
};
export const LOCAL: LabService = {
  name: "local",
  ips: ["198.51.100.8", "2001:db8:100::8"],
  policy: "Local",
  endpointNodes: ["ilb-node1", "ilb-node3"],
};
export const AGG: LabService = {
  name: "agg",
  ips: ["198.51.100.66", "2001:db8:100::42"],
  policy: "Cluster",
  endpointNodes: ["ilb-node2"],
};

export interface ClusterOptions {
  readonly gracefulRestart?: boolean;
  /** The password in the Secret the IPv4 peer names (the router expects V4_PASSWORD). */
  readonly v4Password?: string;
  readonly md5?: boolean;
  readonly services?: readonly LabService[];
}

/**
 * The lab's objects: two pools (per-address and aggregated), BGPPeers for both families (IPv4
 * with its password in a basic-auth Secret, IPv6 iBGP with dynamicASN and an inline password),
 * advertisements with LOCAL_PREF, a standard community, an alias and a large community.
 */
export function labCluster(nodes: readonly LabNode[], o: ClusterOptions = {}): unknown[] {
  const md5 = o.md5 ?? true;
  const timers = { holdTime: `${String(HOLD_SECONDS)}s`, keepaliveTime: "2s", connectTime: "2s" };
  const gr = { enableGracefulRestart: o.gracefulRestart ?? false };
  return [
    ironlb("IPAddressPool", "web", { addresses: ["198.51.100.0/26", "2001:db8:100::/122"] }),
    ironlb("IPAddressPool", "agg", { addresses: ["198.51.100.64/28", "2001:db8:100::40/124"] }),
    ironlb("Community", "aliases", { communities: [{ name: "lab-tag", value: "64512:200" }] }),
    ironlb("BGPPeer", "router-v4", {
      myASN: NODE_ASN,
      peerASN: ROUTER_ASN,
      peerAddress: ROUTER_LAN.ipv4,
      ...timers,
      ...gr,
      ...(md5 ? { passwordSecret: { name: "bgp-auth" } } : {}),
    }),
    ironlb("BGPPeer", "router-v6", {
      myASN: ROUTER_ASN,
      dynamicASN: "internal",
      peerAddress: ROUTER_LAN.ipv6,
      ...timers,
      ...gr,
      ...(md5 ? { password: V6_PASSWORD } : {}),
    }),
    ironlb("BGPAdvertisement", "web", {
      ipAddressPools: ["web"],
      localPref: 150,
      communities: ["64512:100", "lab-tag", "large:64512:1:2"],
    }),
    ironlb("BGPAdvertisement", "agg", {
      ipAddressPools: ["agg"],
      aggregationLength: 28,
      aggregationLengthV6: 124,
    }),
    basicAuthSecret("bgp-auth", o.v4Password ?? V4_PASSWORD),
    ...nodes.map((n) => nodeObject(n)),
    ...(o.services ?? [WEB, LOCAL, AGG]).flatMap(serviceObjects),
  ];
}

/** prefix → sorted "from>nextHop" of every path, for compact assertions. */
export function pathTable(paths: readonly RouterPath[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const p of paths) (out[p.prefix] ??= []).push(`${p.from}>${p.nextHop}`);
  for (const list of Object.values(out)) list.sort();
  return out;
}

/** The table the lab's Services should produce: for each prefix, each node's path with its own address. */
export function expectedTable(nodes: readonly LabNode[]): Record<string, string[]> {
  const by = (names: readonly string[], family: "ipv4" | "ipv6"): string[] =>
    nodes
      .filter((n) => names.includes(n.nodeName))
      .map((n) => `${n[family]}>${n[family]}`)
      .sort();
  const all = nodes.map((n) => n.nodeName);
  return {
    "198.51.100.7/32": by(all, "ipv4"),
    "2001:db8:100::7/128": by(all, "ipv6"),
    "198.51.100.8/32": by(LOCAL.endpointNodes, "ipv4"),
    "2001:db8:100::8/128": by(LOCAL.endpointNodes, "ipv6"),
    "198.51.100.64/28": by(all, "ipv4"),
    "2001:db8:100::40/124": by(all, "ipv6"),
  };
}
