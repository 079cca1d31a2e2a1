// End to end in the lab: 3 node namespaces with real speakers and backends, the real controller
// and API server, and a client namespace that resolves the VIPs with the kernel's own ARP/NDP.
// The raw probe (l2ProbeMain) only listens or asks where a test must see every answer on the wire.
import { beforeAll, expect, it } from "vitest";
import type { Lab } from "../../src/lab/lab.js";
import type { ProbeSession } from "../../src/lab/probeSession.js";
import { describeLab, waitForNeighbour } from "./labSupport.js";

const DEMO = "demo";

function familyIPs(ips: readonly string[]): { v4: string; v6: string } {
  const v4 = ips.find((ip) => !ip.includes(":"));
  const v6 = ips.find((ip) => ip.includes(":"));
  if (v4 === undefined || v6 === undefined)
    throw new Error(`expected one IP per family, got ${ips.join(", ")}`);
  return { v4, v6 };
}

/** Answers (not announcements) to the probe's solicitations for `ip`. */
const repliesFor = (probe: ProbeSession, ip: string) =>
  probe
    .answers()
    .filter((a) => a.ip === ip && (a.kind === "arp-reply" || (a.kind === "na" && a.solicited === true)));

/**
 * Curls the VIPs so the client holds neighbour entries for them, and checks they name the
 * announcer. Never flushed: an entry left by an earlier test (a failover and the hand-back after
 * it) must already have followed the announcements; the kernel's own state is what is checked.
 */
async function primeClient(lab: Lab, vips: readonly string[], announcer: string): Promise<void> {
  const mac = lab.node(announcer).mac;
  for (const vip of vips) {
    expect(await lab.curlFromClient(vip)).toBe(announcer);
    expect((await waitForNeighbour(lab, vip, (e) => e?.lladdr === mac, 2_000))?.lladdr, vip).toBe(mac);
  }
}

describeLab("lab: Layer 2 from the client's side", "l2", { nodes: 3 }, (lab) => {
  let vip4: string;
  let vip6: string;

  beforeAll(async () => {
    ({ v4: vip4, v6: vip6 } = familyIPs(await lab().waitForServiceIPs(DEMO, "default", { count: 2 })));
    await lab().waitForAnnouncer(DEMO);
  });

  it("the kernel resolves both VIPs to the announcing node's MAC and curl reaches its backend", async () => {
    const announcer = await lab().waitForAnnouncer(DEMO);
    await lab().flushClientNeighbours();
    for (const vip of [vip4, vip6]) {
      expect(await lab().curlFromClient(vip)).toBe(announcer);
      const [entry] = await lab().clientNeighbours(vip);
      expect(entry?.lladdr, vip).toBe(lab().node(announcer).mac);
    }
  });

  it("exactly one MAC answers for each VIP, and every solicitation is answered", async () => {
    const announcer = lab().node(await lab().waitForAnnouncer(DEMO));
    for (const vip of [vip4, vip6]) {
      const probe = await lab().probe("solicit", ["--target", vip, "--count", "5", "--interval-ms", "100"]);
      await probe.finished(30_000);
      const replies = repliesFor(probe, vip);
      expect(replies.length, vip).toBeGreaterThanOrEqual(5);
      expect(new Set(replies.map((r) => r.mac)), vip).toEqual(new Set([announcer.mac]));
      expect(new Set(replies.map((r) => r.claimedMac)), vip).toEqual(new Set([announcer.mac]));
    }
  });

  it("externalTrafficPolicy Local: the announcement moves to a node with an endpoint, the client follows", async () => {
    const spec = { name: "local", externalTrafficPolicy: "Local" as const, families: ["IPv4" as const] };
    await lab().createService(spec);
    try {
      const [vip = ""] = await lab().waitForServiceIPs(spec.name);
      const first = await lab().waitForAnnouncer(spec.name);
      await primeClient(lab(), [vip], first);
      const other = lab().layout.nodes.find((n) => n.nodeName !== first)?.nodeName ?? "";
      await lab().setEndpoints({ ...spec, endpointNodes: [other] });
      expect(await lab().waitForAnnouncer(spec.name, { accept: (n) => n === other, timeoutMs: 15_000 })).toBe(
        other,
      );
      // The gratuitous ARP of the new owner corrects the client's entry before it asks again.
      const entry = await waitForNeighbour(lab(), vip, (e) => e?.lladdr === lab().node(other).mac, 5_000);
      expect(entry?.lladdr).toBe(lab().node(other).mac);
      expect(await lab().curlFromClient(vip)).toBe(other);
      // No endpoint left anywhere: nobody announces.
      await lab().setEndpoints({ ...spec, endpointNodes: [] });
      await expect.poll(() => lab().announcers(spec.name), { timeout: 15_000, interval: 100 }).toEqual([]);
    } finally {
      await lab().deleteService(spec.name);
    }
  });

  it("deleting the Service stops every answer within a second", async () => {
    const spec = { name: "gone" };
    await lab().createService(spec);
    const { v4, v6 } = familyIPs(await lab().waitForServiceIPs(spec.name, "default", { count: 2 }));
    await lab().waitForAnnouncer(spec.name);
    // Solicit every 20 ms for 5 s; delete once both families are answered.
    const probes = await Promise.all(
      [v4, v6].map((vip) =>
        lab().probe("solicit", ["--target", vip, "--count", "250", "--interval-ms", "20"]),
      ),
    );
    const [probe4, probe6] = probes as [ProbeSession, ProbeSession];
    await probe4.next((l) => l.event === "answer" && l["ip"] === v4, 10_000);
    await probe6.next((l) => l.event === "answer" && l["ip"] === v6, 10_000);
    const deletedAt = Date.now();
    await lab().deleteService(spec.name);
    await Promise.all(probes.map((p) => p.finished(30_000)));
    for (const [probe, vip] of [
      [probe4, v4],
      [probe6, v6],
    ] as const) {
      const lastAnswer = Math.max(0, ...repliesFor(probe, vip).map((a) => a.atMs));
      // Probing went on for seconds after the deletion: the silence is real.
      expect(lastAnswer - deletedAt, vip).toBeLessThan(1000);
    }
  });

  it("SIGTERM of the announcing speaker moves the VIPs; the client's entries follow the gratuitous ARP / unsolicited NA", async () => {
    const old = await lab().waitForAnnouncer(DEMO);
    await primeClient(lab(), [vip4, vip6], old);
    const watch = await lab().probe("watch");
    const pid = lab().speakerPid(old);
    expect(pid).toBeTypeOf("number");
    try {
      await lab().stopSpeaker(old, "SIGTERM");
      const next = await lab().waitForAnnouncer(DEMO, { accept: (n) => n !== old, timeoutMs: 15_000 });
      const mac = lab().node(next).mac;
      // The client sends nothing meanwhile: only the new owner's announcements can change these.
      for (const vip of [vip4, vip6]) {
        const entry = await waitForNeighbour(lab(), vip, (e) => e?.lladdr === mac, 5_000);
        expect(entry?.lladdr, vip).toBe(mac);
      }
      const announced = watch.answers().filter((a) => a.mac === mac);
      expect(announced.some((a) => a.kind === "arp-gratuitous" && a.ip === vip4)).toBe(true);
      expect(
        announced.some(
          (a) => a.kind === "na" && a.ip === vip6 && a.override === true && a.solicited === false,
        ),
      ).toBe(true);
      for (const vip of [vip4, vip6]) expect(await lab().curlFromClient(vip)).toBe(next);
    } finally {
      await watch.stop();
      lab().startSpeaker(old);
      await lab().waitForLiveSpeakers([old]);
      // The hash picks the restarted node again: wait for the hand-back before the next test.
      await lab().waitForAnnouncer(DEMO, { accept: (n) => n === old, timeoutMs: 30_000 });
    }
    expect(lab().speakerPid(old)).not.toBe(pid);
  });

  it("a dead node (its switch port down) loses the VIPs to another node; the client's entries follow", async () => {
    const old = await lab().waitForAnnouncer(DEMO);
    await primeClient(lab(), [vip4, vip6], old);
    await lab().cutNode(old);
    try {
      // The dead node cannot withdraw its own status object: look at the others.
      const next = await lab().waitForAnnouncer(DEMO, { ignore: [old], timeoutMs: 30_000 });
      const mac = lab().node(next).mac;
      for (const vip of [vip4, vip6]) {
        const entry = await waitForNeighbour(lab(), vip, (e) => e?.lladdr === mac, 5_000);
        expect(entry?.lladdr, vip).toBe(mac);
        expect(await lab().curlFromClient(vip)).toBe(next);
      }
    } finally {
      await lab().restoreNode(old);
      await lab().waitForLiveSpeakers([old]);
    }
    // Healed: the same live set hashes the Service back to the restored node. Status objects can
    // briefly name the interim owner while membership merges, so wait for the expected one rather
    // than sampling the first single announcer; then the client's own entries must follow it.
    const settled = await lab().waitForAnnouncer(DEMO, { accept: (n) => n === old, timeoutMs: 30_000 });
    const settledMac = lab().node(settled).mac;
    for (const vip of [vip4, vip6]) {
      const entry = await waitForNeighbour(lab(), vip, (e) => e?.lladdr === settledMac, 5_000);
      expect(entry?.lladdr, vip).toBe(settledMac);
      expect(await lab().curlFromClient(vip)).toBe(settled);
    }
  });
});
