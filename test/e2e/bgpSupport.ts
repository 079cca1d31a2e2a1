// Shared by the BGP interop tests: the prerequisite gate (root, iproute2, curl, the three daemons,
// the native addon for TCP-MD5) and the expected router tables.
import { accessSync, constants } from "node:fs";
import { describe } from "vitest";
import { LOCAL } from "../../src/lab/routerCluster.js";
import type { RouterPath } from "../../src/lab/routerDaemon.js";
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
