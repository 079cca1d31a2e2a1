// IronLB's BFD (RFC 5880/5881) against real routers: BIRD 2 (`protocol bfd`, `bfd on`) and FRR
// (bfdd, `neighbor X bfd`), each in turn in the BGP lab's router namespace. Two nodes run IronLB's
// BGP speaker: ilb-node1 with a BFDProfile (300 ms × 3) on its IPv4 and IPv6 sessions, ilb-node2
// without BFD — the contrast that shows what BFD changes. Hold time is 90 s on both sides, so
// anything that happens within a few seconds is BFD's doing. Everything about the router is read
// from the router itself (birdc, vtysh … json).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accessSync, constants } from "node:fs";
import { waitFor } from "../../src/lab/processes.js";
import { BirdRouter } from "../../src/lab/routerBird.js";
import { ironlb, routerLabCluster, routerNeighbors, WEB } from "../../src/lab/routerCluster.js";
import type { RouterKind, RouterPath } from "../../src/lab/routerDaemon.js";
import { FrrRouter } from "../../src/lab/routerFrr.js";
import { RouterLab, type SpeakerEvent } from "../../src/lab/routerLab.js";
import { ROUTER_LAN } from "../../src/lab/routerTopology.js";
import type { LabNode } from "../../src/lab/topology.js";
import { PrereqMissingError, strictPrereqs } from "../support/e2e.js";
import { bgpPrereqs, describeWithBgpPrereqs } from "./bgpSupport.js";

const HOLD_SECONDS = 90;
const BFD_NODE = "ilb-node1";
/** Well under the 90 s hold time, well over BFD's 0.9 s detection time. */
const QUICK_MS = 5000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// bfdd is not among the BGP suite's prerequisites.
if (!bgpPrereqs().skip) {
  try {
    accessSync("/usr/lib/frr/bfdd", constants.X_OK);
  } catch {
    if (strictPrereqs())
      throw new PrereqMissingError(
        "IRONLB_E2E=require and /usr/lib/frr/bfdd is missing (apt-get install frr)",
      );
  }
}

interface Profile {
  readonly transmitInterval: number;
  readonly receiveInterval: number;
  readonly detectMultiplier: number;
  readonly minimumTtl?: number;
}
const FAST: Profile = { transmitInterval: 300, receiveInterval: 300, detectMultiplier: 3 };

/**
 * The lab's objects for one node: BGPPeers with a 90 s hold time and, when `profile` is given, BFD
 * (the IPv4 peer ebgpMultiHop when `multiHopV4`).
 */
function clusterFor(nodes: readonly LabNode[], profile: Profile | undefined, multiHopV4 = false): unknown[] {
  const objects = routerLabCluster(nodes, { services: [WEB] }) as {
    kind?: string;
    metadata?: { name?: string };
    spec?: object;
  }[];
  return [
    ...objects.map((o) =>
      o.kind === "BGPPeer"
        ? {
            ...o,
            spec: {
              ...o.spec,
              holdTime: `${String(HOLD_SECONDS)}s`,
              keepaliveTime: "30s",
              ...(profile === undefined ? {} : { bfdProfile: "lab-bfd" }),
              ...(multiHopV4 && o.metadata?.name === "router-v4" ? { ebgpMultiHop: true } : {}),
            },
          }
        : o,
    ),
    ...(profile === undefined ? [] : [ironlb("BFDProfile", "lab-bfd", { ...profile })]),
  ];
}

/** The router's BFD sessions: canonical neighbor address → state in lower case. */
async function routerBfd(lab: RouterLab): Promise<Map<string, string>> {
  const r = lab.router;
  if (r instanceof BirdRouter)
    return new Map((await r.bfdSessions()).map((s) => [s.address, s.state.toLowerCase()]));
  if (r instanceof FrrRouter)
    return new Map((await r.bfdPeers()).map((p) => [p.peer, p.status.toLowerCase()]));
  throw new Error(`no BFD on ${r.kind}`);
}

const pathsFrom = (paths: readonly RouterPath[], node: LabNode): RouterPath[] =>
  paths.filter((p) => p.from === node.ipv4 || p.from === node.ipv6);

function sessionsOf(node: LabNode): string[] {
  return [node.ipv4, node.ipv6];
}

async function waitRecovered(lab: RouterLab, timeoutMs = 60_000): Promise<void> {
  const [bfdNode, plain] = lab.nodes as [LabNode, LabNode];
  await waitFor(
    `every session Established, both nodes' paths and ${BFD_NODE}'s BFD Up at ${lab.router.kind}`,
    async () => {
      const up = await lab.router.established();
      if (![...sessionsOf(bfdNode), ...sessionsOf(plain)].every((a) => up.has(a))) return undefined;
      const paths = await lab.router.paths();
      if (pathsFrom(paths, bfdNode).length !== 2 || pathsFrom(paths, plain).length !== 2) return undefined;
      const bfd = await routerBfd(lab);
      return sessionsOf(bfdNode).every((a) => bfd.get(a) === "up") ? true : undefined;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

/** Polls until `node` has no path at the router; the time since `t0`, or undefined after `limitMs`. */
async function withdrawnWithin(
  lab: RouterLab,
  node: LabNode,
  t0: number,
  limitMs: number,
): Promise<number | undefined> {
  while (Date.now() - t0 < limitMs) {
    if (pathsFrom(await lab.router.paths(), node).length === 0) return Date.now() - t0;
    await sleep(50);
  }
  return undefined;
}

const downsSince = (events: readonly SpeakerEvent[], t0: number): SpeakerEvent[] =>
  events.filter((e) => e.event === "down" && e.t >= t0);

/** Prints a measured figure for the report (JSON line). */
function figure(name: string, value: number, extra: Record<string, unknown> = {}): void {
  process.stdout.write(
    `${JSON.stringify({ bench: "bfd-interop", figure: name, value, unit: "ms", ...extra })}\n`,
  );
}

function bfdSuite(daemon: Extract<RouterKind, "bird" | "frr">, tag: string): void {
  describe(daemon === "bird" ? "with BIRD 2" : "with FRR (bfdd)", () => {
    let current: RouterLab | undefined;
    const lab = (): RouterLab => {
      if (current === undefined) throw new Error("the lab did not start");
      return current;
    };
    const nodes = (): [LabNode, LabNode] => lab().nodes as [LabNode, LabNode];

    beforeAll(async () => {
      current = await RouterLab.create({
        prefix: `ilb-${tag}${String(process.pid % 100_000)}-`,
        nodes: 2,
        daemon,
        neighbors: (n) =>
          routerNeighbors(n).map((x) => ({ ...x, ...(n.nodeName === BFD_NODE ? { bfd: true } : {}) })),
        holdTimeSeconds: HOLD_SECONDS,
      });
      const [bfdNode, plain] = current.nodes as [LabNode, LabNode];
      current.writeCluster(clusterFor(current.nodes, FAST), [bfdNode]);
      current.writeCluster(clusterFor(current.nodes, undefined), [plain]);
      for (const node of current.nodes) current.speaker(node).start("shutdown");
    });
    afterAll(async () => {
      await current?.close();
    });

    it("the BFD sessions come Up on the router for IPv4 and IPv6; the node without a profile has none", async () => {
      const [bfdNode, plain] = nodes();
      await waitRecovered(lab());
      const bfd = await routerBfd(lab());
      expect(sessionsOf(plain).map((a) => bfd.get(a) ?? "none")).toEqual(["none", "none"]);
      const status = await lab().speaker(bfdNode).status();
      const metrics = String(status["metrics"]);
      expect(metrics).toContain(`ironlb_bfd_session_up{peer="${ROUTER_LAN.ipv4}"} 1`);
      expect(metrics).toContain(`ironlb_bfd_session_up{peer="${ROUTER_LAN.ipv6}"} 1`);
      expect(metrics).toMatch(/ironlb_bfd_control_packets_received_total\{peer="192\.0\.2\.1"\} [1-9]/);
      const plainMetrics = String((await lab().speaker(plain).status())["metrics"]);
      expect(plainMetrics).not.toContain("ironlb_bfd_session_up{");
    });

    it("a frozen speaker (SIGSTOP): the router drops BFD and withdraws its routes within seconds; without BFD they stay", async () => {
      const [bfdNode, plain] = nodes();
      await waitRecovered(lab());
      const t0 = Date.now();
      lab().speaker(bfdNode).signal("SIGSTOP");
      lab().speaker(plain).signal("SIGSTOP");
      try {
        const took = await withdrawnWithin(lab(), bfdNode, t0, QUICK_MS);
        expect(took, `${BFD_NODE}'s routes withdrawn within ${String(QUICK_MS)} ms`).toBeDefined();
        figure("router-withdrawal-after-sigstop", took ?? -1, { daemon });
        const bfd = await routerBfd(lab());
        for (const a of sessionsOf(bfdNode)) expect(bfd.get(a)).not.toBe("up");
        // The contrast: the frozen node without BFD keeps its routes until its hold timer (90 s).
        const remaining = QUICK_MS - (Date.now() - t0);
        if (remaining > 0) await sleep(remaining);
        expect(pathsFrom(await lab().router.paths(), plain)).toHaveLength(2);
      } finally {
        lab().speaker(bfdNode).signal("SIGCONT");
        lab().speaker(plain).signal("SIGCONT");
      }
      await waitRecovered(lab());
    });

    it("the router's BFD goes silent (its daemon frozen by PID): IronLB tears its BGP sessions down at once", async () => {
      const [bfdNode, plain] = nodes();
      await waitRecovered(lab());
      const router = lab().router;
      const pid =
        router instanceof FrrRouter
          ? router.pidOf("bfdd")
          : router instanceof BirdRouter
            ? router.pid
            : undefined;
      if (pid === undefined) throw new Error("no router PID");
      const t0 = Date.now();
      process.kill(pid, "SIGSTOP");
      let frrWithdrawn: number | undefined;
      try {
        const speaker = lab().speaker(bfdNode);
        const downs = await waitFor(
          "both BGP sessions torn down by BFD",
          () => {
            const d = downsSince(speaker.events(), t0).filter((e) => e.kind === "automaticStop");
            return new Set(d.map((e) => e["peer"])).size === 2 ? d : undefined;
          },
          { timeoutMs: QUICK_MS, intervalMs: 50 },
        );
        const took = Math.max(...downs.map((d) => d.t)) - t0;
        figure("ironlb-teardown-after-router-bfd-freeze", took, { daemon });
        const bfdEvents = speaker
          .events()
          .filter((e) => e.event === "bfd" && e.t >= t0 && e["from"] === "Up");
        expect(bfdEvents.map((e) => [e["to"], e["diag"]])).toContainEqual(["Down", 1]);
        if (router instanceof FrrRouter) {
          // bgpd is still running: it sees our Cease and withdraws the node's routes.
          frrWithdrawn = await withdrawnWithin(lab(), bfdNode, t0, QUICK_MS);
          expect(frrWithdrawn, "FRR withdraws the routes after IronLB's Cease").toBeDefined();
          expect(pathsFrom(await lab().router.paths(), plain)).toHaveLength(2);
        }
        // The contrast: the node without BFD keeps its sessions.
        const remaining = QUICK_MS - (Date.now() - t0);
        if (remaining > 0) await sleep(remaining);
        expect(downsSince(lab().speaker(plain).events(), t0)).toEqual([]);
      } finally {
        process.kill(pid, "SIGCONT");
      }
      if (frrWithdrawn !== undefined) figure("frr-withdrawal-after-ironlb-cease", frrWithdrawn);
      await waitRecovered(lab());
    });

    it("a clean stop sends AdminDown: the router's session goes down long before its detection time", async () => {
      const [bfdNode] = nodes();
      // A slow profile: detection at the router takes 10 × 1 s, so a quick Down must be AdminDown.
      lab().writeCluster(
        clusterFor(lab().nodes, { transmitInterval: 1000, receiveInterval: 1000, detectMultiplier: 10 }),
        [bfdNode],
      );
      lab().reload([bfdNode]);
      await waitRecovered(lab());
      const t0 = Date.now();
      await lab().speaker(bfdNode).stop();
      const states = await waitFor(
        `${BFD_NODE}'s BFD sessions down at the router`,
        async () => {
          const bfd = await routerBfd(lab());
          return sessionsOf(bfdNode).every((a) => bfd.get(a) !== "up") ? bfd : undefined;
        },
        { timeoutMs: 3000, intervalMs: 50 },
      );
      figure("router-bfd-down-after-clean-stop", Date.now() - t0, { daemon });
      for (const a of sessionsOf(bfdNode)) expect(["down", "admindown"]).toContain(states.get(a));
      const router = lab().router;
      if (router instanceof FrrRouter) {
        const peers = await router.bfdPeers();
        for (const a of sessionsOf(bfdNode))
          expect(peers.find((p) => p.peer === a)?.["remote-diagnostic"]).toBe("administratively down");
      }
      lab().writeCluster(clusterFor(lab().nodes, FAST), [bfdNode]);
      lab().speaker(bfdNode).start("shutdown");
      await waitRecovered(lab());
    });
  });
}

/**
 * RFC 5883: the IPv4 session is eBGP multihop on both sides, so its BFD session runs on UDP 4784.
 * BIRD sends multi-hop BFD with the system's default TTL (64), not 255: with the profile's default
 * minimumTtl (254) IronLB's receive filter drops its packets and the session cannot come Up; a
 * minimumTtl of 60 lets it. FRR sends with 255 and comes Up with the default.
 */
function multiHopSuite(daemon: Extract<RouterKind, "bird" | "frr">, tag: string): void {
  describe(`multi hop (RFC 5883) with ${daemon === "bird" ? "BIRD 2" : "FRR (bfdd)"}`, () => {
    let current: RouterLab | undefined;
    const lab = (): RouterLab => {
      if (current === undefined) throw new Error("the lab did not start");
      return current;
    };
    beforeAll(async () => {
      current = await RouterLab.create({
        prefix: `ilb-${tag}${String(process.pid % 100_000)}-`,
        nodes: 1,
        daemon,
        neighbors: (n) =>
          routerNeighbors(n).map((x) => ({
            ...x,
            bfd: true,
            ...(x.address === n.ipv4 ? { multihop: true } : {}),
          })),
        holdTimeSeconds: HOLD_SECONDS,
      });
      current.writeCluster(
        clusterFor(current.nodes, daemon === "bird" ? { ...FAST, minimumTtl: 254 } : FAST, true),
      );
      for (const node of current.nodes) current.speaker(node).start("shutdown");
    });
    afterAll(async () => {
      await current?.close();
    });

    if (daemon === "bird") {
      it("minimumTtl is enforced: BIRD's TTL-64 packets are dropped with minimumTtl 254, accepted with 60", async () => {
        const [node] = lab().nodes as [LabNode];
        await waitFor(
          "both sessions Established, IPv6 BFD Up",
          async () => {
            const up = await lab().router.established();
            const bfd = await routerBfd(lab());
            return sessionsOf(node).every((a) => up.has(a)) && bfd.get(node.ipv6) === "up" ? true : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 200 },
        );
        for (let i = 0; i < 20; i++) {
          expect((await routerBfd(lab())).get(node.ipv4), "multi-hop BFD with TTL 64 < 254").not.toBe("up");
          await sleep(200);
        }
        lab().writeCluster(clusterFor(lab().nodes, { ...FAST, minimumTtl: 60 }, true));
        lab().reload();
      });
    }

    it("the multi-hop IPv4 session comes Up on the router, and a frozen speaker's routes go within seconds", async () => {
      const [node] = lab().nodes as [LabNode];
      await waitFor(
        "both sessions Established with BFD Up",
        async () => {
          const up = await lab().router.established();
          const bfd = await routerBfd(lab());
          return sessionsOf(node).every((a) => up.has(a) && bfd.get(a) === "up") ? true : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      );
      const router = lab().router;
      if (router instanceof FrrRouter) {
        const peers = await router.bfdPeers();
        expect(peers.find((p) => p.peer === node.ipv4)?.multihop).toBe(true);
        expect(peers.find((p) => p.peer === node.ipv6)?.multihop).toBe(false);
      }
      const events = lab().speaker(node).events();
      expect(events.filter((e) => e.event === "bfd" && e["to"] === "Up").map((e) => e["peer"])).toContain(
        ROUTER_LAN.ipv4,
      );
      await waitFor(
        "the paths at the router",
        async () => ((await lab().router.paths()).length === 2 ? true : undefined),
        { timeoutMs: 20_000, intervalMs: 200 },
      );
      const t0 = Date.now();
      lab().speaker(node).signal("SIGSTOP");
      try {
        const took = await withdrawnWithin(lab(), node, t0, QUICK_MS);
        expect(took, "routes withdrawn within the quick window").toBeDefined();
        figure("router-withdrawal-after-sigstop-multihop", took ?? -1, { daemon });
      } finally {
        lab().speaker(node).signal("SIGCONT");
      }
    });
  });
}

describeWithBgpPrereqs("BFD interop with real routers", () => {
  bfdSuite("bird", "db");
  bfdSuite("frr", "df");
  multiHopSuite("bird", "dmb");
  multiHopSuite("frr", "dmf");
});
