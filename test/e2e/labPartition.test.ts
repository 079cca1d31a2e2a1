// A network partition between the nodes, in the lab (issue 6, section 4). One node is cut off from
// the other nodes only: blackhole routes in both directions (its addresses on their side, theirs
// on its side) drop every IP packet between them, so membership cannot cross, while each node
// still reaches the API server and the client (ARP/NDP replies are not routed, the client's
// traffic is untouched). Both sides keep running. By design of Layer 2, each side then elects
// its own announcer; once the routes are removed, the membership rejoins and one announcer is left.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Lab } from "../../src/lab/lab.js";
import { run } from "../../src/lab/netns.js";
import type { LabNode } from "../../src/lab/topology.js";
import { describeLab, waitForNeighbour } from "./labSupport.js";

const DEMO = "demo";
/** The healed cluster must settle on one announcer, and the client follow it, within this. */
const HEAL_BOUND_MS = 2_000;

const hostRoutes = (node: LabNode): [family: "-4" | "-6", destination: string][] => [
  ["-4", `${node.ipv4}/32`],
  ["-6", `${node.ipv6}/128`],
];

/** Adds (or deletes) blackhole routes so `isolated` and `others` exchange no IP packet. */
async function setPartition(isolated: LabNode, others: readonly LabNode[], op: "add" | "del"): Promise<void> {
  for (const other of others) {
    for (const [family, destination] of hostRoutes(other))
      await run(["ip", "-n", isolated.netns, family, "route", op, "blackhole", destination]);
    for (const [family, destination] of hostRoutes(isolated))
      await run(["ip", "-n", other.netns, family, "route", op, "blackhole", destination]);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls the announcers of the demo Service until `accept` holds (bounded); returns the last set. */
async function waitForAnnouncers(
  lab: Lab,
  accept: (nodes: readonly string[]) => boolean,
  timeoutMs: number,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let nodes = await lab.announcers(DEMO);
  while (!accept(nodes) && Date.now() < deadline) {
    await sleep(25);
    nodes = await lab.announcers(DEMO);
  }
  return nodes;
}

describeLab("lab: a partition between the nodes", "part", { nodes: 3 }, (lab) => {
  let vip4: string;
  let partitioned: { isolated: LabNode; others: LabNode[] } | undefined;

  beforeAll(async () => {
    const ips = await lab().waitForServiceIPs(DEMO, "default", { count: 2 });
    const v4 = ips.find((ip) => !ip.includes(":"));
    if (v4 === undefined) throw new Error(`no IPv4 address among ${ips.join(", ")}`);
    vip4 = v4;
    await lab().waitForAnnouncer(DEMO);
  });

  afterAll(async () => {
    // A failed test must not leave the routes for the next one.
    if (partitioned !== undefined) await setPartition(partitioned.isolated, partitioned.others, "del");
  });

  it("each side announces once while partitioned; within 2 s of healing one announcer is left and the client follows it", async () => {
    const nodes = lab().state.nodes;
    expect(nodes).toBe(3);
    // Isolate the current announcer: the other side must take over, and both must meet on healing.
    const isolated = lab().node(await lab().waitForAnnouncer(DEMO));
    const others = lab().layout.nodes.filter((n) => n.nodeName !== isolated.nodeName);
    partitioned = { isolated, others };
    await setPartition(isolated, others, "add");

    const otherNames = new Set(others.map((n) => n.nodeName));
    const split = await waitForAnnouncers(
      lab(),
      (announcers) =>
        announcers.length === 2 &&
        announcers.includes(isolated.nodeName) &&
        announcers.filter((n) => otherNames.has(n)).length === 1,
      15_000,
    );
    expect(
      split.filter((n) => n === isolated.nodeName),
      "announcers on the isolated side",
    ).toHaveLength(1);
    expect(
      split.filter((n) => otherNames.has(n)),
      "announcers on the other side",
    ).toHaveLength(1);
    // Stable: no second announcer appears on either side after the take-over.
    await sleep(1_500);
    expect((await lab().announcers(DEMO)).sort()).toEqual([...split].sort());

    // The client talks to the VIP during the partition, so it holds an entry for one of the two.
    await lab().curlFromClient(vip4);
    expect((await lab().clientNeighbours(vip4))[0]?.lladdr).toBeDefined();

    const healedAt = Date.now();
    await setPartition(isolated, others, "del");
    partitioned = undefined;

    const healed = await waitForAnnouncers(lab(), (announcers) => announcers.length === 1, HEAL_BOUND_MS);
    expect(healed, "announcers after healing").toHaveLength(1);
    const winner = lab().node(healed[0] ?? "");
    const entry = await waitForNeighbour(
      lab(),
      vip4,
      (e) => e?.lladdr === winner.mac,
      Math.max(0, HEAL_BOUND_MS - (Date.now() - healedAt)),
    );
    expect(entry?.lladdr, "the client's neighbour entry for the VIP").toBe(winner.mac);
    expect(Date.now() - healedAt).toBeLessThanOrEqual(HEAL_BOUND_MS + 200);
    // And it stays that way, with traffic reaching the winner's backend.
    expect(await lab().curlFromClient(vip4)).toBe(winner.nodeName);
    expect(await lab().announcers(DEMO)).toEqual([winner.nodeName]);
  });
});
