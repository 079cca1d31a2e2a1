// eBGP TTL, checked on the wire: the router namespace captures what a node's speaker sends
// (bgpTtlCapture.ts, AF_PACKET) and BIRD tells which sessions form. A directly connected eBGP
// peer (ebgpMultiHop false) gets TTL / hop limit 1 on every packet, the SYN included; a peer
// behind the router (BIRD in the client namespace, two hops away) therefore never sees our SYNs
// — the router drops them and counts an ICMP Time Exceeded — until the BGPPeer says
// ebgpMultiHop: true, which sends with 255 and establishes.
import { spawnSync, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../src/lab/processes.js";
import { LabProcess } from "../../src/lab/processes.js";
import { parseBirdEstablished } from "../../src/lab/routerBird.js";
import { ironlb, nodeObject } from "../../src/lab/routerCluster.js";
import { RouterLab } from "../../src/lab/routerLab.js";
import { BGP_CLIENT, NODE_ASN, ROUTER_ASN, ROUTER_LAN } from "../../src/lab/routerTopology.js";
import { requirePrereqs } from "../support/e2e.js";
import { JsonLines, REPO_ROOT, spawnInNetns, stopChild } from "./nativeNetns.js";
import { nativeAvailable } from "../../src/native/index.js";

const FAR_ASN = 64501;
const prefix = `ilb-tt${String(process.pid % 100_000)}-`;

interface Packet {
  readonly family: 4 | 6;
  readonly src: string;
  readonly dst: string;
  readonly ttl: number;
  readonly sport: number;
  readonly dport: number;
  readonly syn: boolean;
}

const verdict = requirePrereqs({ root: true, binaries: ["ip", "bird", "birdc"] });
const missingAddon = !verdict.skip && !nativeAvailable();
if (missingAddon && process.env["IRONLB_E2E"] === "require")
  throw new Error("IRONLB_E2E=require and the native addon is not built");
const skip = verdict.skip || missingAddon;
const NAME = "eBGP TTL on the wire (BIRD next to the node and two hops away)";

describe.skipIf(skip)(skip ? `${NAME} (skipped: ${verdict.reason || "no native addon"})` : NAME, () => {
  let lab: RouterLab | undefined;
  let far: LabProcess | undefined;
  let capture: ChildProcess | undefined;
  let packets: JsonLines | undefined;
  const seen: Packet[] = [];
  const farSocket = (): string => join(lab?.dir ?? "", "far.ctl");

  const the = (): RouterLab => {
    if (lab === undefined) throw new Error("the lab did not start");
    return lab;
  };
  /** Every captured packet so far (drained from the capture's output). */
  const captured = async (): Promise<Packet[]> => {
    for (;;) {
      try {
        seen.push(await (packets as JsonLines).next<Packet>(() => true, 1));
      } catch {
        return seen;
      }
    }
  };
  const farEstablished = (): boolean => {
    const out = spawnSync("birdc", ["-s", farSocket(), "show", "protocols"], { encoding: "utf8" }).stdout;
    return parseBirdEstablished(out).includes("far");
  };
  const cluster = (multihop: boolean): unknown[] => {
    const peer = (name: string, peerAddress: string, peerASN: number, more: Record<string, unknown> = {}) =>
      ironlb("BGPPeer", name, {
        myASN: NODE_ASN,
        peerASN,
        peerAddress,
        holdTime: "6s",
        keepaliveTime: "2s",
        connectTime: "1s",
        ...more,
      });
    return [
      peer("near-v4", ROUTER_LAN.ipv4, ROUTER_ASN),
      peer("near-v6", ROUTER_LAN.ipv6, ROUTER_ASN),
      peer("far", BGP_CLIENT.ipv4, FAR_ASN, { ebgpMultiHop: multihop }),
      ...the().nodes.map((n) => nodeObject(n)),
    ];
  };

  beforeAll(async () => {
    lab = await RouterLab.create({
      prefix,
      nodes: 1,
      daemon: "bird",
      neighbors: (n) => [
        { address: n.ipv4, asn: NODE_ASN },
        { address: n.ipv6, asn: NODE_ASN },
      ],
      holdTimeSeconds: 6,
    });
    const node = the().nodes[0];
    if (node === undefined) throw new Error("no node");
    // The far peer: passive (IronLB only dials out), multihop, in the client namespace.
    const config = join(lab.dir, "far.conf");
    writeFileSync(
      config,
      [
        `router id ${BGP_CLIENT.ipv4};`,
        "protocol device { }",
        "protocol bgp far {",
        `  local ${BGP_CLIENT.ipv4} as ${String(FAR_ASN)};`,
        `  neighbor ${node.ipv4} as ${String(NODE_ASN)};`,
        "  multihop;",
        "  passive on;",
        "  error wait time 1, 5;",
        "  ipv4 { import all; export none; };",
        "}",
        "",
      ].join("\n"),
    );
    far = LabProcess.start(
      {
        name: "far-bird",
        netns: lab.layout.clientNetns,
        argv: ["bird", "-f", "-c", config, "-s", farSocket(), "-P", join(lab.dir, "far.pid")],
        logFile: join(lab.dir, "far.log"),
      },
      "owned",
    );
    capture = spawnInNetns(lab.layout.routerNetns, join(REPO_ROOT, "test", "e2e", "bgpTtlCapture.ts"), [
      lab.layout.routerLanIfname,
    ]);
    packets = new JsonLines(capture);
    await packets.next<{ ready?: boolean }>((m) => m.ready === true, 20_000);
    await waitFor(
      "the far BIRD's control socket",
      () => (spawnSync("birdc", ["-s", farSocket(), "show", "status"]).status === 0 ? true : undefined),
      { timeoutMs: 10_000 },
    );
    lab.writeCluster(cluster(false));
    lab.speaker(node).start("shutdown");
  }, 60_000);

  afterAll(async () => {
    if (capture !== undefined) await stopChild(capture);
    await far?.stop();
    await lab?.close();
  });

  it("a directly connected eBGP peer gets every packet with TTL / hop limit 1 and establishes", async () => {
    const r = the();
    const node = r.nodes[0];
    if (node === undefined) throw new Error("no node");
    await waitFor(
      "both sessions Established at the router",
      async () => {
        const up = await r.router.established();
        return up.has(node.ipv4) && up.has(node.ipv6) ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const toRouter = (await captured()).filter(
      (p) => (p.dst === ROUTER_LAN.ipv4 || p.dst === ROUTER_LAN.ipv6) && p.dport === 179,
    );
    for (const family of [4, 6] as const) {
      const mine = toRouter.filter((p) => p.family === family);
      // SYN, the handshake's ACK, OPEN, KEEPALIVEs: all of them.
      expect(mine.filter((p) => p.syn).length).toBeGreaterThan(0);
      expect(mine.length).toBeGreaterThan(2);
      expect([...new Set(mine.map((p) => p.ttl))]).toEqual([1]);
    }
  });

  it("a peer two hops away does not establish without ebgpMultiHop (the router drops the TTL-1 SYNs)", async () => {
    const r = the();
    const timeExceeded = (): number => {
      const snmp = spawnSync("ip", ["netns", "exec", r.layout.routerNetns, "cat", "/proc/net/snmp"], {
        encoding: "utf8",
      }).stdout;
      const [names, values] = snmp.split("\n").filter((l) => l.startsWith("Icmp:"));
      const index = (names ?? "").split(/\s+/).indexOf("OutTimeExcds");
      return Number((values ?? "").split(/\s+/)[index] ?? "0");
    };
    const before = timeExceeded();
    const synsToFar = async (): Promise<Packet[]> =>
      (await captured()).filter((p) => p.dst === BGP_CLIENT.ipv4 && p.dport === 179 && p.syn);
    const already = (await synsToFar()).length;
    // connectTime 1s: several attempts within the wait.
    await waitFor(
      "three SYNs towards the far peer",
      async () => ((await synsToFar()).length >= already + 3 ? true : undefined),
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect([...new Set((await synsToFar()).map((p) => p.ttl))]).toEqual([1]);
    expect(timeExceeded()).toBeGreaterThan(before);
    expect(farEstablished()).toBe(false);
  });

  it("with ebgpMultiHop: true it sends with 255 and establishes", async () => {
    const r = the();
    const node = r.nodes[0];
    if (node === undefined) throw new Error("no node");
    const from = (await captured()).length;
    r.writeCluster(cluster(true));
    r.reload();
    await waitFor("the far session Established", () => (farEstablished() ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    const after = (await captured()).slice(from);
    const toFar = after.filter((p) => p.src === node.ipv4 && p.dst === BGP_CLIENT.ipv4 && p.dport === 179);
    // SYNs sent before the reload took effect die at the router with TTL 1; the connection that
    // got through carried 255 from its SYN on.
    expect(toFar.some((p) => p.syn && p.ttl === 255)).toBe(true);
    const established = toFar.filter((p) => !p.syn);
    expect(established.length).toBeGreaterThan(1);
    expect([...new Set(established.map((p) => p.ttl))]).toEqual([255]);
    // The directly connected sessions keep TTL 1 (their next KEEPALIVE within 2 s).
    const toRouter = await waitFor(
      "a packet to the router after the reload",
      async () => {
        const found = (await captured())
          .slice(from)
          .filter((p) => p.dst === ROUTER_LAN.ipv4 && p.dport === 179);
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    expect([...new Set(toRouter.map((p) => p.ttl))]).toEqual([1]);
  });
});
