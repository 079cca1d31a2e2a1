// L2Advertisement.interfaces in the lab: every node has a second link on the same LAN
// (ilb-eth1); the advertisement names only ilb-eth0, so nothing may ever answer from ilb-eth1 —
// not replies, not takeover announcements. Lifting the restriction shows the check can fail.
import { expect, it } from "vitest";
import { l2AdvertisementObject } from "../../src/lab/cluster.js";
import type { Lab } from "../../src/lab/lab.js";
import { describeLab } from "./labSupport.js";

const SERVICE = "selected";

/** MACs that answered solicitations for `vip` (5 of them, 100 ms apart). */
async function answeringMacs(lab: Lab, vip: string): Promise<Set<string>> {
  const probe = await lab.probe("solicit", ["--target", vip, "--count", "5", "--interval-ms", "100"]);
  await probe.finished(30_000);
  return new Set(
    probe
      .answers()
      .filter((a) => a.ip === vip && (a.kind === "arp-reply" || (a.kind === "na" && a.solicited === true)))
      .map((a) => a.mac),
  );
}

describeLab(
  "lab: an interface left out of L2Advertisement.interfaces",
  "if",
  { nodes: 2, secondLink: true, demoService: false, l2Advertisement: { interfaces: ["ilb-eth0"] } },
  (lab) => {
    it("never answers: neither replies nor takeover announcements come from it", async () => {
      const secondMacs = new Set(lab().layout.nodes.map((n) => n.secondMac));
      const watch = await lab().probe("watch");
      try {
        await lab().createService({ name: SERVICE });
        const ips = await lab().waitForServiceIPs(SERVICE, "default", { count: 2 });
        const first = await lab().waitForAnnouncer(SERVICE);
        for (const vip of ips)
          expect(await answeringMacs(lab(), vip), vip).toEqual(new Set([lab().node(first).mac]));

        await lab().stopSpeaker(first, "SIGTERM");
        const next = await lab().waitForAnnouncer(SERVICE, { accept: (n) => n !== first, timeoutMs: 15_000 });
        for (const vip of ips)
          expect(await answeringMacs(lab(), vip), vip).toEqual(new Set([lab().node(next).mac]));
        lab().startSpeaker(first);
        await lab().waitForLiveSpeakers([first]);
        await lab().waitForAnnouncer(SERVICE, { timeoutMs: 15_000 });

        const seen = watch.answers();
        // Takeovers happened (announcements were seen), all from first links.
        expect(seen.some((a) => a.kind === "arp-gratuitous")).toBe(true);
        expect(seen.filter((a) => secondMacs.has(a.mac) || secondMacs.has(a.claimedMac ?? ""))).toEqual([]);
      } finally {
        await watch.stop();
      }
    });

    it("without the restriction the announcing speaker answers on both links (the check above can fail)", async () => {
      const [vip4 = ""] = await lab().waitForServiceIPs(SERVICE);
      const node = lab().node(await lab().waitForAnnouncer(SERVICE));
      await lab().apply(l2AdvertisementObject());
      try {
        await expect
          .poll(() => answeringMacs(lab(), vip4), { timeout: 20_000, interval: 200 })
          .toEqual(new Set([node.mac, node.secondMac]));
      } finally {
        await lab().apply(l2AdvertisementObject({ interfaces: ["ilb-eth0"] }));
      }
      await expect
        .poll(() => answeringMacs(lab(), vip4), { timeout: 20_000, interval: 200 })
        .toEqual(new Set([node.mac]));
    });
  },
);
