// IronLB's BGP speakers against real routers: BIRD 2, FRR and ExaBGP from the distribution, each
// in turn in a router namespace; three node namespaces run IronLB's BGP speaker (the same
// BgpSpeaker/BgpManager as `ironlb speaker`, fed from a YAML file); a client sits behind the
// router. Everything is checked on the router itself: its RIB (birdc, vtysh … json, ExaBGP's
// JSON), its kernel FIB, and traffic from the client.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../src/lab/processes.js";
import type { RouterKind, RouterPath } from "../../src/lab/routerDaemon.js";
import { ExabgpRouter } from "../../src/lab/routerExabgp.js";
import { RouterLab, type SpeakerEvent } from "../../src/lab/routerLab.js";
import type { LabNode } from "../../src/lab/topology.js";
import {
  AGG,
  HOLD_SECONDS,
  LOCAL,
  routerLabCluster,
  routerNeighbors,
  WEB,
} from "../../src/lab/routerCluster.js";
import { describeWithBgpPrereqs, expectedTable, pathTable } from "./bgpSupport.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a lab for `daemon` in beforeAll and removes it in afterAll; `lab()` returns it. */
function withLab(daemon: RouterKind, tag: string): () => RouterLab {
  let current: RouterLab | undefined;
  beforeAll(async () => {
    current = await RouterLab.create({
      prefix: `ilb-${tag}${String(process.pid % 100_000)}-`,
      nodes: 3,
      daemon,
      neighbors: (n) => routerNeighbors(n),
      holdTimeSeconds: HOLD_SECONDS,
    });
    current.writeCluster(routerLabCluster(current.nodes));
    for (const node of current.nodes) current.speaker(node).start("shutdown");
  });
  afterAll(async () => {
    await current?.close();
  });
  return () => {
    if (current === undefined) throw new Error("the lab did not start");
    return current;
  };
}

const allSessions = (lab: RouterLab): string[] => lab.nodes.flatMap((n) => [n.ipv4, n.ipv6]).sort();

async function waitEstablished(
  lab: RouterLab,
  expected: readonly string[],
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(
    `sessions ${expected.join(", ")} Established at ${lab.router.kind}`,
    async () => {
      const up = await lab.router.established();
      return expected.every((a) => up.has(a)) ? true : undefined;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

async function waitTable(
  lab: RouterLab,
  want: Record<string, string[]>,
  timeoutMs = 20_000,
): Promise<RouterPath[]> {
  let last: Record<string, string[]> = {};
  try {
    return await waitFor(
      `${lab.router.kind}'s table`,
      async () => {
        const paths = await lab.router.paths();
        last = sortKeys(pathTable(paths));
        return JSON.stringify(last) === JSON.stringify(sortKeys(want)) ? paths : undefined;
      },
      { timeoutMs, intervalMs: 200 },
    );
  } catch (error) {
    // Show the difference rather than a timeout.
    expect(last).toEqual(sortKeys(want));
    throw error;
  }
}

function sortKeys(t: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(t).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const pathsFrom = (paths: readonly RouterPath[], node: LabNode): RouterPath[] =>
  paths.filter((p) => p.from === node.ipv4 || p.from === node.ipv6);

/** Waits until the router has no path from `node`; resolves with the time it took from `since`. */
async function waitNodeGone(
  lab: RouterLab,
  node: LabNode,
  since: number,
  timeoutMs: number,
): Promise<number> {
  await waitFor(
    `${node.nodeName}'s paths gone at ${lab.router.kind}`,
    async () => (pathsFrom(await lab.router.paths(), node).length === 0 ? true : undefined),
    { timeoutMs, intervalMs: 100 },
  );
  return Date.now() - since;
}

/** Checks every `intervalMs` until `until()` holds that `node` keeps its paths; returns the samples taken. */
async function assertPathsKept(
  lab: RouterLab,
  node: LabNode,
  want: number,
  until: () => boolean,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let samples = 0;
  for (;;) {
    const have = pathsFrom(await lab.router.paths(), node).length;
    expect(have, `${node.nodeName}'s paths at ${lab.router.kind} during its restart`).toBe(want);
    const fib = await lab.fibNextHops("198.51.100.7/32");
    expect(fib, "the kernel's ECMP route during the restart").toHaveLength(3);
    samples++;
    if (until()) return samples;
    if (Date.now() > deadline)
      throw new Error(`${node.nodeName} did not come back within ${String(timeoutMs)} ms`);
    await sleep(100);
  }
}

const isEstablished = (peer: string) => (e: SpeakerEvent) => e.event === "established" && e.peer === peer;

function kernelRouterSuite(daemon: "bird" | "frr", tag: string): void {
  describe(`with ${daemon === "bird" ? "BIRD 2" : "FRR (bgpd + zebra)"}`, () => {
    const lab = withLab(daemon, tag);

    it("IPv4 and IPv6 sessions come up with TCP-MD5 and every prefix arrives with its node's next hop", async () => {
      await waitEstablished(lab(), allSessions(lab()));
      await waitTable(lab(), expectedTable(lab().nodes));
    });

    it("attributes as configured: AS path, communities, alias, large community, LOCAL_PREF on iBGP only, aggregation", async () => {
      const paths = await lab().router.paths();
      const web4 = paths.filter((p) => p.prefix === "198.51.100.7/32");
      const web6 = paths.filter((p) => p.prefix === "2001:db8:100::7/128");
      const agg = paths.filter((p) => p.prefix === "198.51.100.64/28" || p.prefix === "2001:db8:100::40/124");
      expect(web4).toHaveLength(3);
      for (const p of web4) {
        expect(p.asPath).toEqual([64512]);
        expect(p.communities).toEqual(["64512:100", "64512:200"]);
        expect(p.largeCommunities).toEqual(["64512:1:2"]);
      }
      for (const p of web6) {
        expect(p.asPath).toEqual([]);
        expect(p.localPref).toBe(150);
        expect(p.communities).toEqual(["64512:100", "64512:200"]);
      }
      expect(agg).toHaveLength(6);
      for (const p of agg) {
        expect(p.communities).toEqual([]);
        expect(p.largeCommunities).toEqual([]);
      }
      // No /32 for the aggregated Service's address.
      expect(paths.some((p) => p.prefix === "198.51.100.66/32")).toBe(false);
    });

    it("the kernel FIB has an ECMP route over 3 nodes for Cluster Services, only endpoint nodes for Local", async () => {
      const nodes = lab().nodes;
      const v4 = (names: readonly string[]) =>
        nodes.filter((n) => names.includes(n.nodeName)).map((n) => n.ipv4);
      const v6 = (names: readonly string[]) =>
        nodes.filter((n) => names.includes(n.nodeName)).map((n) => n.ipv6);
      const all = nodes.map((n) => n.nodeName);
      const want: Record<string, string[]> = {
        "198.51.100.7/32": v4(all),
        "2001:db8:100::7/128": v6(all),
        "198.51.100.8/32": v4(LOCAL.endpointNodes),
        "2001:db8:100::8/128": v6(LOCAL.endpointNodes),
        "198.51.100.64/28": v4(all),
        "2001:db8:100::40/124": v6(all),
      };
      await waitFor(
        "the kernel routes",
        async () => {
          for (const [prefix, hops] of Object.entries(want)) {
            if (JSON.stringify(await lab().fibNextHops(prefix)) !== JSON.stringify([...hops].sort()))
              return undefined;
          }
          return true;
        },
        { timeoutMs: 10_000, intervalMs: 200 },
      );
    });

    it("the client behind the router reaches the VIPs (backends on the nodes' lo)", async () => {
      await lab().startBackends([...WEB.ips, ...LOCAL.ips, ...AGG.ips]);
      for (const vip of [...WEB.ips, ...AGG.ips]) {
        const answer = await waitFor(`GET ${vip}`, () => lab().fetchFromClient(vip), { timeoutMs: 10_000 });
        expect(lab().nodes.map((n) => n.nodeName)).toContain(answer);
      }
      for (const vip of LOCAL.ips) {
        const answer = await waitFor(`GET ${vip}`, () => lab().fetchFromClient(vip), { timeoutMs: 10_000 });
        expect(LOCAL.endpointNodes).toContain(answer);
      }
    });

    it("TCP-MD5: a wrong password never establishes; the right one does again; the other session is untouched", async () => {
      const [, , n3] = lab().nodes as [LabNode, LabNode, LabNode];
      lab().writeCluster(routerLabCluster(lab().nodes, { v4Password: "wrong-password" }), [n3]);
      lab().reload([n3]);
      await waitFor(
        "n3's IPv4 session down",
        async () => ((await lab().router.established()).has(n3.ipv4) ? undefined : true),
        { timeoutMs: 10_000, intervalMs: 100 },
      );
      // Several connection attempts (connectTime 2 s) all fail: the router never sees the session.
      for (let i = 0; i < 25; i++) {
        const up = await lab().router.established();
        expect(up.has(n3.ipv4)).toBe(false);
        expect(up.has(n3.ipv6)).toBe(true);
        await sleep(200);
      }
      const attempts = lab()
        .speaker(n3)
        .events()
        .filter((e) => e.event === "state" && e.peer === "router-v4" && e.to === "Connect");
      expect(attempts.length).toBeGreaterThanOrEqual(2);
      lab().writeCluster(routerLabCluster(lab().nodes), [n3]);
      lab().reload([n3]);
      await waitEstablished(lab(), allSessions(lab()));
      await waitTable(lab(), expectedTable(lab().nodes));
    });

    it("a frozen speaker's paths go when the router's hold timer expires", async () => {
      const [, n2] = lab().nodes as [LabNode, LabNode];
      const t0 = Date.now();
      lab().speaker(n2).signal("SIGSTOP");
      try {
        const took = await waitNodeGone(lab(), n2, t0, (HOLD_SECONDS + 5) * 1000);
        // The last keepalive may have been up to one keepalive interval (2 s) before the stop.
        expect(took).toBeGreaterThanOrEqual((HOLD_SECONDS - 2.5) * 1000);
      } finally {
        lab().speaker(n2).signal("SIGCONT");
      }
      // Bring it back for the next case.
      await waitEstablished(lab(), allSessions(lab()));
      await waitTable(lab(), expectedTable(lab().nodes));
    });

    it("a killed speaker (SIGKILL by PID) loses its paths within the hold time", async () => {
      const [, n2] = lab().nodes as [LabNode, LabNode];
      const t0 = Date.now();
      await lab().speaker(n2).kill();
      const took = await waitNodeGone(lab(), n2, t0, (HOLD_SECONDS + 3) * 1000);
      expect(took).toBeLessThanOrEqual((HOLD_SECONDS + 2) * 1000);
      lab().speaker(n2).start("shutdown");
      await waitEstablished(lab(), allSessions(lab()));
      await waitTable(lab(), expectedTable(lab().nodes));
    });

    it("a clean stop withdraws at once with a Cease", async () => {
      const [, , n3] = lab().nodes as [LabNode, LabNode, LabNode];
      const speaker = lab().speaker(n3);
      const t0 = Date.now();
      await speaker.stop();
      const took = await waitNodeGone(lab(), n3, t0, 5000);
      expect(took).toBeLessThan(2000);
      const downs = speaker.events().filter((e) => e.event === "down" && e.t >= t0);
      expect(downs.map((d) => [d.peer, d.kind, d.notification]).sort()).toEqual([
        ["router-v4", "manualStop", "Cease / Administrative Shutdown"],
        ["router-v6", "manualStop", "Cease / Administrative Shutdown"],
      ]);
      speaker.start("restart");
      await waitEstablished(lab(), allSessions(lab()));
      await waitTable(lab(), expectedTable(lab().nodes));
    });

    it("graceful restart: restarting a speaker (SIGTERM, then SIGKILL) keeps its routes at the router throughout", async () => {
      const [n1, n2] = lab().nodes as [LabNode, LabNode];
      // Every speaker restarts with graceful restart configured (and SIGTERM meaning "restart").
      lab().writeCluster(routerLabCluster(lab().nodes, { gracefulRestart: true }));
      for (const node of lab().nodes) await lab().speaker(node).stop();
      for (const node of lab().nodes) lab().speaker(node).start("restart");
      await waitEstablished(lab(), allSessions(lab()));
      await waitTable(lab(), expectedTable(lab().nodes));

      for (const [node, how] of [
        [n1, "SIGTERM"],
        [n2, "SIGKILL"],
      ] as const) {
        const speaker = lab().speaker(node);
        const want = pathsFrom(await lab().router.paths(), node).length;
        if (how === "SIGTERM") await speaker.stop();
        else await speaker.kill();
        speaker.start("restart");
        let done = false;
        const back = Promise.all([
          speaker.waitEvent("v4 back", isEstablished("router-v4"), 30_000),
          speaker.waitEvent("v6 back", isEstablished("router-v6"), 30_000),
        ]).then(async () => {
          await sleep(1000);
          done = true;
        });
        const samples = await assertPathsKept(lab(), node, want, () => done, 40_000);
        await back;
        expect(samples).toBeGreaterThan(5);
        const starting = speaker.events().find((e) => e.event === "starting");
        expect(starting?.["restarting"], "the new process sets the Restart State bit").toBe(true);
      }
      await waitTable(lab(), expectedTable(lab().nodes));
    });
  });
}

describeWithBgpPrereqs("BGP interop with real routers", () => {
  kernelRouterSuite("bird", "bb");
  kernelRouterSuite("frr", "bf");

  describe("with ExaBGP", () => {
    const lab = withLab("exabgp", "be");
    const exabgp = (): ExabgpRouter => {
      const router = lab().router;
      if (!(router instanceof ExabgpRouter)) throw new Error("not ExaBGP");
      return router;
    };

    it("sessions come up (TCP-MD5) and ExaBGP receives the prefixes and attributes as configured", async () => {
      await waitEstablished(lab(), allSessions(lab()));
      const paths = await waitTable(lab(), expectedTable(lab().nodes));
      const web6 = paths.filter((p) => p.prefix === "2001:db8:100::7/128");
      expect(web6.map((p) => p.localPref)).toEqual([150, 150, 150]);
      for (const p of paths.filter((x) => x.prefix === "198.51.100.7/32")) {
        expect(p.asPath).toEqual([64512]);
        expect(p.localPref).toBeUndefined();
        expect(p.communities).toEqual(["64512:100", "64512:200"]);
        expect(p.largeCommunities).toEqual(["64512:1:2"]);
      }
    });

    it("a malformed COMMUNITIES attribute is treated as withdraw (RFC 7606): the session stays up", async () => {
      const [n1] = lab().nodes as [LabNode];
      exabgp().send(
        `neighbor ${n1.ipv4} announce route 203.0.113.0/24 next-hop 192.0.2.1 attribute [ 0x08 0xc0 0x010203 ]`,
      );
      const problem = await lab()
        .speaker(n1)
        .waitEvent("treat-as-withdraw", (e) => e.event === "updateProblems", 10_000);
      expect(problem["treatAsWithdraw"]).toBe(true);
      await sleep(1000);
      expect(
        lab()
          .speaker(n1)
          .events()
          .filter((e) => e.event === "down"),
      ).toEqual([]);
      expect((await lab().router.established()).has(n1.ipv4)).toBe(true);
      exabgp().send(`neighbor ${n1.ipv4} withdraw route 203.0.113.0/24 next-hop 192.0.2.1`);
    });

    it("a malformed MP_REACH_NLRI resets that session with UPDATE Message Error; the other sessions are unaffected", async () => {
      const [n1, n2, n3] = lab().nodes as [LabNode, LabNode, LabNode];
      const before = exabgp().view().notifications.length;
      exabgp().send(
        `neighbor ${n2.ipv4} announce route 203.0.113.0/24 next-hop 192.0.2.1 attribute [ 0x0e 0x80 0x000101 ]`,
      );
      await waitFor(
        "ExaBGP receives the NOTIFICATION",
        () =>
          exabgp()
            .view()
            .notifications.slice(before)
            .find((n) => n.neighbor === n2.ipv4),
        { timeoutMs: 10_000 },
      );
      const got = exabgp().view().notifications.slice(before);
      expect(got.map((n) => [n.neighbor, n.code, n.subcode])).toEqual([[n2.ipv4, 3, 9]]);
      // Stop the bad route so the session can come back.
      exabgp().send(`neighbor ${n2.ipv4} withdraw route 203.0.113.0/24 next-hop 192.0.2.1`);
      for (const node of [n1, n3]) {
        expect(
          lab()
            .speaker(node)
            .events()
            .filter((e) => e.event === "down"),
        ).toEqual([]);
      }
      const status = await lab().speaker(n2).status();
      expect(String(status["metrics"])).toMatch(
        /ironlb_bgp_notifications_sent_total\{peer="192\.0\.2\.1",code="3",subcode="9"\} [1-9]/,
      );
      await waitEstablished(lab(), allSessions(lab()));
      await waitTable(lab(), expectedTable(lab().nodes));
    });
  });
});
