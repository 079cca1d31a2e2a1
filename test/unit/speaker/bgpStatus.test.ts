import { describe, expect, it } from "vitest";
import type { BGPNodePlan } from "../../../src/announce/bgp.js";
import type { BgpNodeStatus, BgpSessionView } from "../../../src/speaker/bgp.js";
import {
  desiredServiceStatuses,
  desiredSessionStates,
  MAX_LISTED_PREFIXES,
} from "../../../src/speaker/bgpStatus.js";
import { planObjectWrites } from "../../../src/speaker/statusObjects.js";
import { cidr } from "../bgp/helpers.js";

function session(name: string, state: BgpSessionView["state"], prefixes: string[]): BgpSessionView {
  return {
    name,
    address: name === "v4" ? "192.0.2.1" : "2001:db8:1::1",
    port: 179,
    state,
    sinceMs: 0,
    phaseSinceMs: Date.parse(name === "v4" ? "2026-11-22T23:00:00Z" : "2026-11-22T23:05:30.250Z"),
    advertisedPrefixes: prefixes.length,
    desiredPrefixes: prefixes.length,
    restarting: false,
    prefixes,
  };
}

const STATUS: BgpNodeStatus = {
  node: "node-a",
  sessions: [session("v4", "Established", ["198.51.100.7/32"]), session("v6", "Active", [])],
  problems: [],
};

const ad = (prefix: string, services: string[]) => ({
  prefix: cidr(prefix),
  communities: [],
  largeCommunities: [],
  ips: [],
  services,
  bgpAdvertisements: ["bgp"],
});

const PLAN: BGPNodePlan = {
  node: "node-a",
  peers: [
    { peer: "v4", sessionType: "ebgp", advertisements: [ad("198.51.100.7/32", ["default/web", "prod/api"])] },
    { peer: "v6", sessionType: "ibgp", advertisements: [ad("198.51.100.7/32", ["default/web"])] },
  ],
};

describe("BGP status objects", () => {
  it("one BGPSessionState per session, named peer.node, labelled with the node and peer", () => {
    const states = desiredSessionStates(STATUS);
    expect(states[0]).toEqual({
      name: "v4.node-a",
      labels: {
        "ironlb.io/node": "node-a",
        "ironlb.io/peer": "v4",
        "app.kubernetes.io/managed-by": "ironlb-speaker",
      },
      status: {
        node: "node-a",
        peer: "192.0.2.1",
        peerName: "v4",
        bgpStatus: "Established",
        bfdStatus: "N/A",
        stateSince: "2026-11-22T23:00:00.000Z",
        advertisedPrefixes: 1,
        prefixes: ["198.51.100.7/32"],
      },
    });
    expect(states.map((s) => [s.name, s.status.bgpStatus, s.status.stateSince])).toEqual([
      ["v4.node-a", "Established", "2026-11-22T23:00:00.000Z"],
      ["v6.node-a", "Active", "2026-11-22T23:05:30.250Z"],
    ]);
  });

  describe("BFD state and the last error", () => {
    const cases: {
      description: string;
      extra: Partial<BgpSessionView>;
      want: { bfdStatus: string; bfdProfile?: string; lastError?: string };
    }[] = [
      { description: "no bfdProfile: N/A, as MetalLB writes it", extra: {}, want: { bfdStatus: "N/A" } },
      {
        description: "a running BFD session: its state and the profile",
        extra: { bfdProfile: "fast", bfdState: "Up" },
        want: { bfdStatus: "Up", bfdProfile: "fast" },
      },
      {
        description: "BFD Down is written as it is",
        extra: { bfdProfile: "fast", bfdState: "Down" },
        want: { bfdStatus: "Down", bfdProfile: "fast" },
      },
      {
        description: "a profile the configuration lacks: the name, and N/A (no BFD session runs)",
        extra: { bfdProfile: "missing" },
        want: { bfdStatus: "N/A", bfdProfile: "missing" },
      },
      {
        description: "the last time the session went down, kind and detail",
        extra: { lastDown: { kind: "holdTimerExpired", detail: "no message within the hold time", atMs: 5 } },
        want: { bfdStatus: "N/A", lastError: "holdTimerExpired: no message within the hold time" },
      },
      {
        description: "the recorded last error (a NOTIFICATION, also before Established) comes first",
        extra: {
          lastError: "NOTIFICATION received: OPEN Message Error / Bad Peer As",
          lastDown: { kind: "holdTimerExpired", detail: "no message within the hold time", atMs: 5 },
        },
        want: { bfdStatus: "N/A", lastError: "NOTIFICATION received: OPEN Message Error / Bad Peer As" },
      },
    ];
    it.each(cases)("$description", ({ extra, want }) => {
      const [state] = desiredSessionStates({
        ...STATUS,
        sessions: [{ ...session("v4", "Established", []), ...extra }],
      });
      const { bfdStatus, bfdProfile, lastError } = state?.status ?? {};
      expect({ bfdStatus, bfdProfile, lastError }).toEqual({
        bfdProfile: undefined,
        lastError: undefined,
        ...want,
      });
    });

    it("a BFD state change changes the desired status (so the level-triggered sync writes it)", () => {
      const at = (bfdState: string) =>
        desiredSessionStates({
          ...STATUS,
          sessions: [{ ...session("v4", "Established", []), bfdProfile: "fast", bfdState }],
        });
      const writes = planObjectWrites(
        [{ metadata: { name: "v4.node-a", resourceVersion: "7" }, status: at("Up")[0]?.status }],
        at("Down"),
      );
      expect(writes.update.map((u) => [u.desired.name, u.desired.status.bfdStatus])).toEqual([
        ["v4.node-a", "Down"],
      ]);
      expect(
        planObjectWrites([{ metadata: { name: "v4.node-a" }, status: at("Up")[0]?.status }], at("Up")),
      ).toEqual({ create: [], update: [], delete: [] });
    });
  });

  it("lists at most 100 prefixes and counts them all", () => {
    const many = Array.from({ length: 250 }, (_, i) => `2001:db8:100::${i.toString(16)}/128`);
    const [state] = desiredSessionStates({ ...STATUS, sessions: [session("v6", "Established", many)] });
    expect(state?.status.advertisedPrefixes).toBe(250);
    expect(state?.status.prefixes).toHaveLength(MAX_LISTED_PREFIXES);
  });

  it("a ServiceBGPStatus per Service advertised, naming only Established peers", () => {
    expect(desiredServiceStatuses(PLAN, STATUS).map((d) => [d.name, d.status])).toEqual([
      [
        "default.web.node-a",
        { node: "node-a", serviceName: "web", serviceNamespace: "default", peers: ["v4"] },
      ],
      ["prod.api.node-a", { node: "node-a", serviceName: "api", serviceNamespace: "prod", peers: ["v4"] }],
    ]);
    const down: BgpNodeStatus = {
      ...STATUS,
      sessions: STATUS.sessions.map((s) => ({ ...s, state: "Idle" })),
    };
    expect(desiredServiceStatuses(PLAN, down)).toEqual([]);
  });
});
