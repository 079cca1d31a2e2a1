import { describe, expect, it } from "vitest";
import { assertValidConfig } from "../../../src/api/config.js";
import type { IronLBConfig } from "../../../src/api/configTypes.js";
import { decideLayer2 } from "../../../src/announce/layer2.js";
import type { AnnouncementSnapshot, NodeSnapshot, ServiceSnapshot } from "../../../src/announce/snapshot.js";
import type { InterfaceAnnouncements } from "../../../src/l2/announcerPlan.js";
import { parseExcludedInterfaces, type LinkInfo } from "../../../src/l2/interfaces.js";
import { formatIP, parseIP } from "../../../src/net/ip.js";
import { ManualClock } from "../../../src/runtime/clock.js";
import { SpeakerCore } from "../../../src/speaker/core.js";
import { planNode } from "../../../src/speaker/nodePlan.js";

// ---------------------------------------------------------------------------------------------
// Fixtures

const meta = (name: string, labels?: Record<string, string>) => ({
  name,
  namespace: "ironlb-system",
  ...(labels === undefined ? {} : { labels }),
});

function config(l2: { name: string; interfaces?: string[]; nodeSelectors?: unknown[] }[]): IronLBConfig {
  return assertValidConfig({
    ipAddressPools: [
      {
        metadata: meta("lan"),
        spec: { addresses: ["192.0.2.200-192.0.2.250", "2001:db8:1::200-2001:db8:1::2ff"] },
      },
    ],
    l2Advertisements: l2.map((ad) => ({
      metadata: meta(ad.name),
      spec: {
        ...(ad.interfaces === undefined ? {} : { interfaces: ad.interfaces }),
        ...(ad.nodeSelectors === undefined ? {} : { nodeSelectors: ad.nodeSelectors }),
      },
    })),
  });
}

const node = (name: string, labels: Record<string, string> = {}): NodeSnapshot => ({
  name,
  labels: { "kubernetes.io/hostname": name, ...labels },
  networkUnavailable: false,
});

function service(name: string, ips: string[]): ServiceSnapshot {
  return {
    key: `default/${name}`,
    namespace: "default",
    name,
    labels: {},
    type: "LoadBalancer",
    ours: true,
    ips,
    externalTrafficPolicy: "Cluster",
    endpoints: { byNode: new Map(), withoutNode: { ready: 1, serving: 1 } },
  };
}

function link(name: string, ifindex: number, extra: Partial<LinkInfo> = {}): LinkInfo {
  return {
    name,
    ifindex,
    type: 1,
    flags: 0x1003,
    operState: "up",
    mac: `02:00:5e:00:53:${ifindex.toString(16).padStart(2, "0")}`,
    linkLocal: parseIP(`fe80::${ifindex}`),
    ...extra,
  };
}

const LINKS = [link("lo", 1, { type: 772, flags: 0x9 }), link("eth0", 2), link("eth1", 3), link("veth9", 4)];

function snapshotOf(cfg: IronLBConfig, services: ServiceSnapshot[], nodes: string[]): AnnouncementSnapshot {
  return { config: cfg, services, nodes: nodes.map((n) => node(n)), liveSpeakers: new Set(nodes) };
}

/** A node that wins `ip` among `nodes`, found by asking the decision itself. */
function winnerOf(cfg: IronLBConfig, ip: string, nodes: string[]): string {
  const decision = decideLayer2(snapshotOf(cfg, [service("probe", [ip])], nodes));
  const winner = decision.announcements[0]?.node;
  if (winner === undefined) throw new Error("nobody announces");
  return winner;
}

const perLink = (list: readonly InterfaceAnnouncements[]): Record<string, string[]> =>
  Object.fromEntries(list.map((e) => [e.link.name, e.ips.map(formatIP)]));

// ---------------------------------------------------------------------------------------------

describe("planNode", () => {
  it("answers on every usable, non-excluded link when the advertisement names none", () => {
    const cfg = config([{ name: "all" }]);
    const decision = decideLayer2(
      snapshotOf(cfg, [service("web", ["192.0.2.200", "2001:db8:1::200"])], ["a"]),
    );
    const plan = planNode(decision, "a", LINKS);
    expect(perLink(plan.interfaces)).toEqual({
      eth0: ["192.0.2.200", "2001:db8:1::200"],
      eth1: ["192.0.2.200", "2001:db8:1::200"],
    });
    expect(plan.services).toEqual([
      {
        key: "default/web",
        namespace: "default",
        name: "web",
        ips: ["192.0.2.200", "2001:db8:1::200"],
        interfaces: ["eth0", "eth1"],
      },
    ]);
    expect(plan.withoutLink).toEqual([]);
  });

  it("answers only on the advertisement's interfaces, even an excluded-by-default one", () => {
    const cfg = config([{ name: "only-eth1", interfaces: ["eth1", "veth9"] }]);
    const decision = decideLayer2(snapshotOf(cfg, [service("web", ["192.0.2.200"])], ["a"]));
    expect(perLink(planNode(decision, "a", LINKS).interfaces)).toEqual({
      eth1: ["192.0.2.200"],
      veth9: ["192.0.2.200"],
    });
  });

  it("applies the configured exclusion patterns", () => {
    const cfg = config([{ name: "all" }]);
    const decision = decideLayer2(snapshotOf(cfg, [service("web", ["192.0.2.200"])], ["a"]));
    const plan = planNode(decision, "a", LINKS, parseExcludedInterfaces("+eth1"));
    expect(Object.keys(perLink(plan.interfaces))).toEqual(["eth0"]);
  });

  it("reports addresses it won but has no working link for, and does not claim the Service", () => {
    const cfg = config([{ name: "eth7", interfaces: ["eth7"] }]);
    const decision = decideLayer2(snapshotOf(cfg, [service("web", ["192.0.2.200"])], ["a"]));
    const plan = planNode(decision, "a", LINKS);
    expect(plan.interfaces).toEqual([]);
    expect(plan.services).toEqual([]);
    expect(plan.withoutLink).toEqual([{ ip: "192.0.2.200", skipped: [{ name: "eth7", reason: "absent" }] }]);
  });

  it("contains nothing for a node that does not win", () => {
    const cfg = config([{ name: "all" }]);
    const winner = winnerOf(cfg, "192.0.2.200", ["a", "b"]);
    const loser = winner === "a" ? "b" : "a";
    const decision = decideLayer2(snapshotOf(cfg, [service("web", ["192.0.2.200"])], ["a", "b"]));
    expect(planNode(decision, loser, LINKS)).toEqual({ interfaces: [], services: [], withoutLink: [] });
    expect(planNode(decision, winner, LINKS).services.map((s) => s.key)).toEqual(["default/web"]);
  });
});

// ---------------------------------------------------------------------------------------------

describe("SpeakerCore", () => {
  function setup(nodeName: string, initial: AnnouncementSnapshot | undefined) {
    const clock = new ManualClock();
    const state = { snapshot: initial, links: LINKS as readonly LinkInfo[] };
    const applied: Record<string, string[]>[] = [];
    const statuses: string[][] = [];
    const events: string[] = [];
    const metrics: string[][] = [];
    const core = new SpeakerCore({
      node: nodeName,
      clock,
      debounceMs: 100,
      inputs: { snapshot: () => state.snapshot, links: () => state.links },
      outputs: {
        announcer: { apply: (desired) => applied.push(perLink(desired)) },
        statuses: { desire: (list) => statuses.push(list.map((s) => s.name)) },
        events: { nodeAssigned: (svc) => events.push(svc.key) },
        metrics: { announced: (_n, services) => metrics.push(services.flatMap((s) => s.ips)) },
      },
    });
    return { clock, state, core, applied, statuses, events, metrics };
  }

  const cfg = config([{ name: "all" }]);

  it("does nothing until there is a snapshot to decide on", async () => {
    const { core, clock, applied } = setup("a", undefined);
    core.changed();
    await clock.advance(1000);
    expect(applied).toEqual([]);
  });

  it("coalesces a burst of changes into one decision after the debounce", async () => {
    const { core, clock, applied, statuses, events, metrics } = setup(
      "a",
      snapshotOf(cfg, [service("web", ["192.0.2.200"])], ["a"]),
    );
    core.changed();
    await clock.advance(50);
    core.changed();
    core.changed();
    expect(applied).toHaveLength(0);
    await clock.advance(50);
    expect(applied).toEqual([{ eth0: ["192.0.2.200"], eth1: ["192.0.2.200"] }]);
    expect(statuses).toEqual([["default.web.a"]]);
    expect(events).toEqual(["default/web"]);
    expect(metrics).toEqual([["192.0.2.200"]]);
  });

  it("a live-speaker change is acted on at once, without the debounce", async () => {
    const { core, clock, applied } = setup("a", snapshotOf(cfg, [service("web", ["192.0.2.200"])], ["a"]));
    core.changed();
    core.changedNow();
    await clock.advance(0);
    expect(applied).toHaveLength(1);
    await clock.advance(200);
    expect(applied).toHaveLength(1);
  });

  it("takes over when the winner's speaker dies, with one nodeAssigned Event, and gives back when it returns", async () => {
    const winner = winnerOf(cfg, "192.0.2.200", ["a", "b"]);
    const other = winner === "a" ? "b" : "a";
    const both = snapshotOf(cfg, [service("web", ["192.0.2.200"])], ["a", "b"]);
    const { core, clock, state, applied, statuses, events } = setup(other, both);
    core.changedNow();
    await clock.advance(0);
    expect(applied.at(-1)).toEqual({});
    state.snapshot = { ...both, liveSpeakers: new Set([other]) };
    core.changedNow();
    await clock.advance(0);
    expect(applied.at(-1)).toEqual({ eth0: ["192.0.2.200"], eth1: ["192.0.2.200"] });
    expect(statuses.at(-1)).toEqual([`default.web.${other}`]);
    core.changedNow();
    await clock.advance(0);
    expect(events).toEqual(["default/web"]);
    state.snapshot = both;
    core.changedNow();
    await clock.advance(0);
    expect(applied.at(-1)).toEqual({});
    expect(statuses.at(-1)).toEqual([]);
  });

  it("follows links: an interface going down stops answering there", async () => {
    const { core, clock, state, applied } = setup(
      "a",
      snapshotOf(cfg, [service("web", ["192.0.2.200"])], ["a"]),
    );
    core.reconcile();
    state.links = LINKS.map((l) => (l.name === "eth1" ? { ...l, operState: "down" } : l));
    core.changedNow();
    await clock.advance(0);
    expect(applied.at(-1)).toEqual({ eth0: ["192.0.2.200"] });
  });

  it("keeps deciding after a failing output", async () => {
    const clock = new ManualClock();
    let fail = true;
    const applied: number[] = [];
    const core = new SpeakerCore({
      node: "a",
      clock,
      inputs: {
        snapshot: () => snapshotOf(cfg, [service("web", ["192.0.2.200"])], ["a"]),
        links: () => LINKS,
      },
      outputs: {
        announcer: {
          apply: (d) => {
            if (fail) throw new Error("boom");
            applied.push(d.length);
          },
        },
        statuses: { desire: () => undefined },
        events: { nodeAssigned: () => undefined },
      },
    });
    core.changedNow();
    await clock.advance(0);
    fail = false;
    core.changedNow();
    await clock.advance(0);
    expect(applied).toEqual([2]);
  });

  it("stop() cancels a pending decision", async () => {
    const { core, clock, applied } = setup("a", snapshotOf(cfg, [service("web", ["192.0.2.200"])], ["a"]));
    core.changed();
    core.stop();
    await clock.advance(1000);
    expect(applied).toEqual([]);
    expect(core.reconcile()).toBeUndefined();
  });
});
