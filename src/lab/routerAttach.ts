/**
 * A BIRD router namespace added to a running Layer 2 lab (`Lab`): a port on the lab's switch at
 * 192.0.2.1 / 2001:db8:1::1, BIRD with one session per node. For BGP checks through the whole
 * product (control plane, controller, `ironlb speaker`) without a lab mode of its own.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Lab } from "./lab.js";
import { buildTopology, deleteNamespacesSync } from "./netns.js";
import { BirdRouter } from "./routerBird.js";
import type { RouterNeighbor } from "./routerDaemon.js";
import { ROUTER_ASN, ROUTER_LAN } from "./routerTopology.js";
import type { LabNode, TopologySpec } from "./topology.js";

export interface AttachedRouter {
  readonly router: BirdRouter;
  readonly netns: string;
  /** Stops BIRD and removes the namespace and the directory. */
  close(): Promise<void>;
}

export async function attachBirdRouter(
  lab: Lab,
  neighbors: (node: LabNode) => readonly RouterNeighbor[],
  holdTimeSeconds = 9,
): Promise<AttachedRouter> {
  const netns = `${lab.layout.prefix}router`;
  const topology: TopologySpec = {
    namespaces: [
      {
        name: netns,
        role: "router",
        sysctls: { "net.ipv6.conf.all.accept_dad": "0", "net.ipv6.conf.default.accept_dad": "0" },
      },
    ],
    bridges: [],
    links: [
      {
        netns,
        ifname: "ilb-eth0",
        mac: "00:00:5e:00:53:01",
        addresses: [`${ROUTER_LAN.ipv4}/24`, `${ROUTER_LAN.ipv6}/64`],
        bridge: lab.layout.bridge,
        port: "ilb-router",
      },
    ],
    routes: [],
  };
  const dir = mkdtempSync(join(tmpdir(), `${lab.layout.prefix}bird-`));
  const routerDir = join(dir, "bird");
  mkdirSync(routerDir);
  const router = new BirdRouter({
    netns,
    dir: routerDir,
    asn: ROUTER_ASN,
    routerId: ROUTER_LAN.ipv4,
    localIPv4: ROUTER_LAN.ipv4,
    localIPv6: ROUTER_LAN.ipv6,
    neighbors: lab.layout.nodes.flatMap((n) => neighbors(n)),
    holdTimeSeconds,
  });
  const close = async (): Promise<void> => {
    await router.stop().catch(() => undefined);
    deleteNamespacesSync([netns]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await buildTopology(topology);
    await router.start();
  } catch (error) {
    await close();
    throw error;
  }
  return { router, netns, close };
}
