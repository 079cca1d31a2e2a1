// From configuration to BFD: the echo-mode warning, and a BGPPeer's profile as BFD session settings.
import { describe, expect, it } from "vitest";
import { assertValidConfig, validateConfig } from "../../../src/api/config.js";
import { parseIP } from "../../../src/net/ip.js";
import { bfdSettingsFor, peerSpecFor } from "../../../src/speaker/bgpPeers.js";
import { obj } from "../api/fixtures.js";

const peer = (name: string, spec: Record<string, unknown>) =>
  obj(name, { myASN: 64501, peerASN: 64500, peerAddress: "192.0.2.1", ...spec });

const input = (profile: Record<string, unknown>, peerSpec: Record<string, unknown> = {}) => ({
  bfdProfiles: [obj("fast", profile)],
  bgpPeers: [peer("router", { bfdProfile: "fast", ...peerSpec })],
});

describe("BFD configuration", () => {
  it("warns that echo mode is not implemented (and still accepts the profile)", () => {
    const result = validateConfig(input({ echoMode: true }));
    expect(result.ok).toBe(true);
    expect(result.warnings.map((w) => [w.kind, w.name, w.path, w.message])).toContainEqual([
      "BFDProfile",
      "fast",
      "spec.echoMode",
      expect.stringMatching(/not implemented/) as unknown,
    ]);
  });

  it("no warning without echo mode", () => {
    const result = validateConfig(input({ echoMode: false }));
    expect(result.warnings.filter((w) => w.path === "spec.echoMode")).toEqual([]);
  });

  it.each([
    {
      description: "defaults, single hop",
      profile: {},
      peerSpec: {},
      want: {
        multiHop: false,
        passive: false,
        minimumTtl: 254,
        timers: { desiredMinTxMs: 300, requiredMinRxMs: 300, detectMult: 3 },
      },
    },
    {
      description: "an ebgpMultiHop peer runs multi hop with the profile's minimumTtl",
      profile: {
        transmitInterval: 100,
        receiveInterval: 200,
        detectMultiplier: 5,
        passiveMode: true,
        minimumTtl: 250,
      },
      peerSpec: { ebgpMultiHop: true },
      want: {
        multiHop: true,
        passive: true,
        minimumTtl: 250,
        timers: { desiredMinTxMs: 100, requiredMinRxMs: 200, detectMult: 5 },
      },
    },
  ])("profile → session settings: $description", ({ profile, peerSpec, want }) => {
    const config = assertValidConfig(input(profile, peerSpec));
    const p = config.bgpPeers[0];
    const prof = config.bfdProfiles.get("fast");
    if (p === undefined || prof === undefined) throw new Error("config incomplete");
    expect(bfdSettingsFor(p, prof)).toEqual(want);
    const spec = peerSpecFor(
      p,
      { name: "n1", ipv4: parseIP("192.0.2.11") },
      () => ({ ok: false, reason: "none" }),
      config.bfdProfiles,
    );
    expect(spec.ok && spec.spec.bfd).toEqual(want);
  });

  it("a peer without bfdProfile has no BFD", () => {
    const config = assertValidConfig({ bgpPeers: [peer("router", {})] });
    const p = config.bgpPeers[0];
    if (p === undefined) throw new Error("no peer");
    const spec = peerSpecFor(
      p,
      { name: "n1", ipv4: parseIP("192.0.2.11") },
      () => ({ ok: false, reason: "none" }),
      config.bfdProfiles,
    );
    expect(spec.ok && spec.spec.bfd).toBeUndefined();
  });
});
