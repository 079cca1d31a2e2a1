import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { memberAddress } from "../../../src/membership/address.js";
import type { MemberView } from "../../../src/membership/protocol.js";
import {
  combinedLiveSet,
  createSpeakerMembership,
  nodeInternalIP,
  seedsFromNodes,
  SpeakerMembershipError,
  type NodeAddressesView,
} from "../../../src/membership/speakerMembership.js";
import { staticLiveSpeakers } from "../../../src/speaker/liveSpeakers.js";

const node = (name: string, ...addresses: [string, string][]): NodeAddressesView => ({
  metadata: { name },
  status: { addresses: addresses.map(([type, address]) => ({ type, address })) },
});

const nodes = [
  node("a", ["Hostname", "a"], ["InternalIP", "192.0.2.1"], ["InternalIP", "2001:db8:1::1"]),
  node("b", ["ExternalIP", "203.0.113.2"], ["InternalIP", "2001:db8:1::2"], ["InternalIP", "192.0.2.2"]),
  node("c", ["InternalIP", "2001:db8:1::3"]),
  node("d", ["InternalIP", "not-an-ip"]),
  node("e"),
];

describe("speaker membership addresses", () => {
  it("takes a Node's first InternalIP, or the first of a family", () => {
    expect(nodeInternalIP(nodes[0] as NodeAddressesView)).toBe("192.0.2.1");
    expect(nodeInternalIP(nodes[1] as NodeAddressesView)).toBe("2001:db8:1::2");
    expect(nodeInternalIP(nodes[1] as NodeAddressesView, 4)).toBe("192.0.2.2");
    expect(nodeInternalIP(nodes[4] as NodeAddressesView)).toBeUndefined();
  });

  it("seeds from the other Nodes' InternalIPs of our own family, at our port", () => {
    expect(seedsFromNodes(nodes, "a", memberAddress("192.0.2.1", 7946))).toEqual([
      memberAddress("192.0.2.2", 7946),
    ]);
    expect(seedsFromNodes(nodes, "a", memberAddress("2001:db8:1::1", 7000))).toEqual([
      memberAddress("2001:db8:1::2", 7000),
      memberAddress("2001:db8:1::3", 7000),
    ]);
  });
});

describe("live speakers while membership and Leases overlap", () => {
  const addr = memberAddress("192.0.2.1", 7946);
  const view = (state: MemberView["state"]): MemberView => ({ state, incarnation: 0, addr });
  const cases: {
    description: string;
    members: [string, MemberView["state"]][];
    leases: string[];
    live: string[];
  }[] = [
    {
      description: "membership alone",
      members: [
        ["a", "alive"],
        ["b", "suspect"],
      ],
      leases: [],
      live: ["a", "b"],
    },
    {
      description: "membership overrules a fresh Lease of a node it saw die",
      members: [
        ["a", "alive"],
        ["b", "dead"],
        ["c", "left"],
      ],
      leases: ["a", "b", "c"],
      live: ["a"],
    },
    {
      description: "a node membership never saw is live by its Lease (a speaker still on Leases)",
      members: [["a", "alive"]],
      leases: ["a", "old-speaker"],
      live: ["a", "old-speaker"],
    },
    { description: "nothing known", members: [], leases: [], live: [] },
  ];
  for (const { description, members, leases, live } of cases) {
    it(description, () => {
      const table = new Map(members.map(([name, state]) => [name, view(state)]));
      expect([...combinedLiveSet(table, new Set(leases))].sort()).toEqual(live);
    });
  }
});

describe("createSpeakerMembership picks the mode", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "ilb-speaker-membership-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const leases = staticLiveSpeakers(["x"]);

  it("lease: never membership, even with a key", async () => {
    await writeFile(join(dir, "secretkey"), "a-key-that-is-long-enough");
    expect(await createSpeakerMembership({ node: "a", mode: "lease", keyDir: dir }, leases)).toBeUndefined();
  });

  it("auto: membership with a key, Leases without", async () => {
    expect(await createSpeakerMembership({ node: "a", mode: "auto", keyDir: dir }, leases)).toBeUndefined();
    await writeFile(join(dir, "secretkey"), "a-key-that-is-long-enough");
    const membership = await createSpeakerMembership({ node: "a", mode: "auto", keyDir: dir }, leases);
    expect(membership).toBeDefined();
    // Before it starts: this node and the Lease view.
    expect([...(membership?.current() ?? [])].sort()).toEqual(["a", "x"]);
  });

  it("swim: refuses to start without a key, and any mode refuses a bad key", async () => {
    await expect(createSpeakerMembership({ node: "a", mode: "swim", keyDir: dir }, leases)).rejects.toThrow(
      SpeakerMembershipError,
    );
    await writeFile(join(dir, "secretkey"), "short");
    await expect(createSpeakerMembership({ node: "a", mode: "auto", keyDir: dir }, leases)).rejects.toThrow(
      /at least 16 bytes/,
    );
  });
});
