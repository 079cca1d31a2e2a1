// End to end: a speaker namespace runs the addon + pure responder for 192.0.2.200 and
// 2001:db8:1::200; a client namespace on the other end of a veth resolves them with the
// kernel's own ARP/NDP. The VIPs sit on the speaker's lo with strict ARP, as kube-proxy in
// IPVS mode leaves them, so only the responder answers for them.
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createNetns,
  deleteNetns,
  inNetns,
  JsonLines,
  nativeE2ePrereqs,
  netnsName,
  REPO_ROOT,
  spawnInNetns,
  stopChild,
  TSX_NODE,
} from "./nativeNetns.js";
import type { ChildProcess } from "node:child_process";

const prereqs = nativeE2ePrereqs(["ping"]);

const VIP4 = "192.0.2.200";
const VIP6 = "2001:db8:1::200";
const NOT_ANNOUNCED4 = "192.0.2.201";
const CLIENT6 = "2001:db8:1::10";
const STALE_MAC = "02:00:5e:00:53:99";

interface NeighbourJson {
  dst: string;
  lladdr?: string;
  state?: string[];
}

describe.skipIf(prereqs.skip)(
  prereqs.skip ? `layer 2 responder end to end (skipped: ${prereqs.reason})` : "layer 2 responder end to end",
  () => {
    const speakerNs = netnsName("l2s");
    const clientNs = netnsName("l2c");
    let responder: ChildProcess | undefined;
    let output: JsonLines;
    let speakerMac: string;

    const neighbour = (address: string): NeighbourJson | undefined => {
      const entries = JSON.parse(
        inNetns(clientNs, ["ip", "-j", "neigh", "show", address, "dev", "ilb-c0"]),
      ) as NeighbourJson[];
      return entries[0];
    };

    /** Polls the client's neighbour entry (bounded) until it names `mac`. */
    async function waitForNeighbourMac(
      address: string,
      mac: string,
      timeoutMs: number,
    ): Promise<NeighbourJson | undefined> {
      const deadline = Date.now() + timeoutMs;
      let entry = neighbour(address);
      while (entry?.lladdr !== mac && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        entry = neighbour(address);
      }
      return entry;
    }

    const ping = (address: string): boolean => {
      try {
        inNetns(clientNs, ["ping", "-c1", "-W1", address]);
        return true;
      } catch {
        return false;
      }
    };

    beforeAll(async () => {
      deleteNetns(speakerNs, clientNs);
      createNetns(speakerNs);
      createNetns(clientNs);
      execFileSync("ip", [
        "link",
        "add",
        "ilb-s0",
        "netns",
        speakerNs,
        "type",
        "veth",
        "peer",
        "name",
        "ilb-c0",
        "netns",
        clientNs,
      ]);
      // Speaker: the VIPs on lo, strict ARP, a LAN address on the veth for the return path.
      inNetns(speakerNs, [
        "sysctl",
        "-q",
        "-w",
        "net.ipv4.conf.all.arp_ignore=1",
        "net.ipv4.conf.all.arp_announce=2",
      ]);
      inNetns(speakerNs, ["ip", "addr", "add", `${VIP4}/32`, "dev", "lo"]);
      inNetns(speakerNs, ["ip", "addr", "add", `${VIP6}/128`, "dev", "lo"]);
      inNetns(speakerNs, ["ip", "addr", "add", "192.0.2.2/24", "dev", "ilb-s0"]);
      inNetns(speakerNs, ["ip", "addr", "add", "2001:db8:1::2/64", "dev", "ilb-s0"]);
      inNetns(speakerNs, ["ip", "link", "set", "ilb-s0", "up"]);
      inNetns(clientNs, ["ip", "addr", "add", "192.0.2.10/24", "dev", "ilb-c0"]);
      inNetns(clientNs, ["ip", "addr", "add", `${CLIENT6}/64`, "dev", "ilb-c0"]);
      inNetns(clientNs, ["ip", "link", "set", "ilb-c0", "up"]);
      // Stale entries with another MAC: only the takeover announcements can correct them
      // before the client asks.
      inNetns(clientNs, ["ip", "neigh", "add", VIP4, "lladdr", STALE_MAC, "dev", "ilb-c0", "nud", "stale"]);
      inNetns(clientNs, [
        "ip",
        "-6",
        "neigh",
        "add",
        VIP6,
        "lladdr",
        STALE_MAC,
        "dev",
        "ilb-c0",
        "nud",
        "stale",
      ]);

      responder = spawnInNetns(speakerNs, "test/e2e/nativeL2Responder.ts", ["ilb-s0", VIP4, VIP6]);
      output = new JsonLines(responder);
      const ready = await output.next<{ ready?: boolean; mac: string }>((m) => m.ready === true, 30_000);
      speakerMac = ready.mac;
    });

    afterAll(async () => {
      if (responder !== undefined) await stopChild(responder);
      deleteNetns(speakerNs, clientNs);
    });

    it("corrects the client's stale entries with gratuitous ARP and an unsolicited NA, unasked", async () => {
      // Neighbour entries in STALE are updated by an announcement with our MAC but not re-probed
      // by the kernel on its own, so a change here can only come from the takeover packets.
      expect((await waitForNeighbourMac(VIP4, speakerMac, 3000))?.lladdr).toBe(speakerMac);
      expect((await waitForNeighbourMac(VIP6, speakerMac, 3000))?.lladdr).toBe(speakerMac);
    });

    it("the client resolves the IPv4 VIP to the responder's MAC and reaches it", async () => {
      inNetns(clientNs, ["ip", "neigh", "flush", "dev", "ilb-c0"]);
      expect(ping(VIP4)).toBe(true);
      const entry = await waitForNeighbourMac(VIP4, speakerMac, 1000);
      expect(entry?.lladdr).toBe(speakerMac);
      const reply = await output.next<{ replied?: string; ip: string; to: string }>(
        (m) => m.replied === "arp" && m.ip === VIP4,
        2000,
      );
      expect(reply.to).toBe(neighbourMacOfClient());
    });

    it("the client resolves the IPv6 VIP to the responder's MAC and reaches it", async () => {
      inNetns(clientNs, ["ip", "-6", "neigh", "flush", "dev", "ilb-c0"]);
      expect(ping(VIP6)).toBe(true);
      const entry = await waitForNeighbourMac(VIP6, speakerMac, 1000);
      expect(entry?.lladdr).toBe(speakerMac);
      await output.next<{ replied?: string; ip: string }>((m) => m.replied === "ndp" && m.ip === VIP6, 2000);
    });

    it("answers a unicast NS without a source link-layer option, Solicited and Override set", () => {
      const report = execFileSync(
        "ip",
        ["netns", "exec", clientNs, ...TSX_NODE, "test/e2e/nativeL2Client.ts", "ilb-c0", CLIENT6, VIP6],
        { cwd: REPO_ROOT, encoding: "utf8" },
      );
      expect(JSON.parse(report)).toEqual({
        advertisement: {
          solicited: true,
          override: true,
          targetLinkLayer: speakerMac,
          destination: CLIENT6,
          hopLimit: 255,
        },
      });
    });

    it("does not answer for an address it does not announce", () => {
      expect(ping(NOT_ANNOUNCED4)).toBe(false);
      expect(neighbour(NOT_ANNOUNCED4)?.lladdr).toBeUndefined();
    });

    function neighbourMacOfClient(): string {
      const links = JSON.parse(inNetns(clientNs, ["ip", "-j", "link", "show", "ilb-c0"])) as {
        address: string;
      }[];
      return links[0]?.address ?? "";
    }
  },
);
