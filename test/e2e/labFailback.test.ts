// Failback in the lab, from the client's side, without ever flushing its neighbour table: the
// announcing speaker is stopped (SIGKILL, SIGTERM) or its node cut off, another node takes the
// VIPs over, then the speaker comes back and takes its Services back (the hash still picks it).
// The client's kernel entries must then name the returning owner and keep naming it for longer
// than the takeover repeat schedule: a repeat of the interim owner landing after the hand-back
// would point the client back at a node that no longer announces the VIP.
import { beforeAll, expect, it } from "vitest";
import type { Lab } from "../../src/lab/lab.js";
import type { ProbeSession } from "../../src/lab/probeSession.js";
import { DEFAULT_TAKEOVER_OFFSETS_MS } from "../../src/l2/responderTakeover.js";
import { describeLab, sleep, waitForNeighbour } from "./labSupport.js";

const DEMO = "demo";
/** Longer than the whole takeover repeat schedule, so a late repeat from anyone would show. */
const HOLD_MS = Math.max(3_000, (DEFAULT_TAKEOVER_OFFSETS_MS.at(-1) ?? 0) + 1_000);
type Failure = "SIGKILL" | "SIGTERM" | "cut";

/**
 * Polls the client's entry for `vip` for `ms`; returns each stretch of at least FLASH_MS during
 * which it named another MAC than `mac`. (A claim by another node and the owner's answer to it
 * can be a millisecond apart: a poll landing in between is no failure, an entry left there is.)
 */
const FLASH_MS = 250;
async function holdsMac(lab: Lab, vip: string, mac: string, ms: number): Promise<string[]> {
  const start = Date.now();
  const wrong: string[] = [];
  let since: { at: number; lladdr: string } | undefined;
  const close = (now: number): void => {
    if (since !== undefined && now - since.at >= FLASH_MS)
      wrong.push(`${since.lladdr} from +${String(since.at - start)} ms for ${String(now - since.at)} ms`);
    since = undefined;
  };
  while (Date.now() - start < ms) {
    const entry = (await lab.clientNeighbours(vip))[0];
    const now = Date.now();
    if (entry?.lladdr === mac) close(now);
    else since ??= { at: now, lladdr: String(entry?.lladdr) };
    await sleep(50);
  }
  close(Date.now());
  return wrong;
}

/** The announcements seen on the wire, for a failure message. */
const wire = (probe: ProbeSession, vips: readonly string[], since: number): string =>
  probe
    .answers()
    .filter((a) => vips.includes(a.ip) && a.atMs >= since)
    .map((a) => `${String(a.atMs - since)} ms ${a.kind} ${a.ip} ${a.mac}`)
    .join("\n");

describeLab("lab: failback, the client's own neighbour entries", "fb", { nodes: 3 }, (lab) => {
  let vips: string[];

  beforeAll(async () => {
    vips = await lab().waitForServiceIPs(DEMO, "default", { count: 2 });
    await lab().waitForAnnouncer(DEMO);
  });

  it.each<{ failure: Failure }>([{ failure: "SIGKILL" }, { failure: "SIGTERM" }, { failure: "cut" }])(
    "after $failure and recovery the client's entries name the returning owner and keep it for 3 s",
    async ({ failure }) => {
      const owner = await lab().waitForAnnouncer(DEMO, { timeoutMs: 15_000 });
      const ownerMac = lab().node(owner).mac;
      // The client talks to both VIPs so it holds entries (whatever they say now).
      for (const vip of vips) expect(await lab().curlFromClient(vip)).not.toBe("");

      if (failure === "cut") await lab().cutNode(owner);
      else await lab().stopSpeaker(owner, failure);
      const interim = await lab().waitForAnnouncer(DEMO, {
        ignore: [owner],
        accept: (n) => n !== owner,
        timeoutMs: 15_000,
      });
      const interimMac = lab().node(interim).mac;
      for (const vip of vips) {
        const entry = await waitForNeighbour(lab(), vip, (e) => e?.lladdr === interimMac, 5_000);
        expect(entry?.lladdr, `${vip} after the failure`).toBe(interimMac);
      }

      const watch = await lab().probe("watch");
      const recoveredAt = Date.now();
      try {
        if (failure === "cut") await lab().restoreNode(owner);
        else lab().startSpeaker(owner);
        expect(await lab().waitForAnnouncer(DEMO, { accept: (n) => n === owner, timeoutMs: 30_000 })).toBe(
          owner,
        );
        for (const vip of vips) {
          const entry = await waitForNeighbour(lab(), vip, (e) => e?.lladdr === ownerMac, 5_000);
          expect(entry?.lladdr, `${vip} after failback\n${wire(watch, vips, recoveredAt)}`).toBe(ownerMac);
        }
        const wrong = await Promise.all(vips.map((vip) => holdsMac(lab(), vip, ownerMac, HOLD_MS)));
        expect(
          wrong.flat(),
          `entries left ${ownerMac} (${owner}; interim ${interim} ${interimMac})\n${wire(watch, vips, recoveredAt)}`,
        ).toEqual([]);
        for (const vip of vips) expect(await lab().curlFromClient(vip)).toBe(owner);
      } finally {
        await watch.stop();
        if (failure === "cut") await lab().restoreNode(owner);
        else if (lab().speakerPid(owner) === undefined) lab().startSpeaker(owner);
        await lab().waitForLiveSpeakers([owner]);
      }
    },
  );

  it("a node cut off and restored leaves the client's entries for another node's Service alone", async () => {
    const spec = { name: "bystander" };
    await lab().createService(spec);
    try {
      const ips = await lab().waitForServiceIPs(spec.name, "default", { count: 2 });
      const owner = await lab().waitForAnnouncer(spec.name, { timeoutMs: 15_000 });
      const ownerMac = lab().node(owner).mac;
      for (const ip of ips) {
        expect(await lab().curlFromClient(ip)).toBe(owner);
        const entry = await waitForNeighbour(lab(), ip, (e) => e?.lladdr === ownerMac, 5_000);
        expect(entry?.lladdr, ip).toBe(ownerMac);
      }
      // Cut another node long enough for it to believe it is alone (and so owns every Service).
      const isolated = lab().layout.nodes.find((n) => n.nodeName !== owner)?.nodeName ?? "";
      const watch = await lab().probe("watch");
      const cutAt = Date.now();
      try {
        await lab().cutNode(isolated);
        await sleep(3_000);
        await lab().restoreNode(isolated);
        await lab().waitForLiveSpeakers([isolated]);
        const wrong = await Promise.all(ips.map((ip) => holdsMac(lab(), ip, ownerMac, HOLD_MS)));
        expect(
          wrong.flat(),
          `entries left ${ownerMac} (${owner}; isolated ${isolated} ${lab().node(isolated).mac})\n${wire(watch, ips, cutAt)}`,
        ).toEqual([]);
        expect(await lab().announcers(spec.name)).toEqual([owner]);
      } finally {
        await watch.stop();
        await lab().restoreNode(isolated);
      }
    } finally {
      await lab().deleteService(spec.name);
    }
  });
});
