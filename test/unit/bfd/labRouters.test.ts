// The lab routers' BFD parts: configuration lines and the parsers of their BFD views.
import { describe, expect, it } from "vitest";
import { birdConfig, parseBirdBfdSessions } from "../../../src/lab/routerBird.js";
import type { RouterSettings } from "../../../src/lab/routerDaemon.js";
import { frrBgpdConfig, parseFrrBfdPeers } from "../../../src/lab/routerFrr.js";

const settings = (bfd: boolean): RouterSettings => ({
  netns: "ilb-r",
  dir: "/tmp/x",
  asn: 64500,
  routerId: "192.0.2.1",
  localIPv4: "192.0.2.1",
  localIPv6: "2001:db8:1::1",
  holdTimeSeconds: 90,
  neighbors: [
    { address: "192.0.2.11", asn: 64512, ...(bfd ? { bfd: true } : {}) },
    { address: "192.0.2.12", asn: 64512 },
  ],
});

describe("lab routers with BFD", () => {
  it("BIRD: a bfd protocol and `bfd on` only for the neighbors that want it", () => {
    const text = birdConfig(settings(true));
    expect(text).toContain("protocol bfd {");
    expect(text.match(/bfd on;/g)).toHaveLength(1);
    expect(birdConfig(settings(false))).not.toContain("bfd");
  });

  it("FRR: `neighbor X bfd` only for the neighbors that want it", () => {
    expect(frrBgpdConfig(settings(true))).toContain(" neighbor 192.0.2.11 bfd\n");
    expect(frrBgpdConfig(settings(true))).not.toContain("192.0.2.12 bfd");
    expect(frrBgpdConfig(settings(false))).not.toContain(" bfd");
  });

  it("parses `birdc show bfd sessions`", () => {
    const text = [
      "BIRD 2.0.12 ready.",
      "bfd1:",
      "IP address                Interface  State      Since         Interval  Timeout",
      "192.0.2.11                ilb-r0     Up         23:00:01.123    0.300    0.900",
      "2001:db8:1:0::11          ilb-r0     Down       23:00:02.000    1.000    0.000",
      "",
    ].join("\n");
    expect(parseBirdBfdSessions(text)).toEqual([
      { address: "192.0.2.11", state: "Up" },
      { address: "2001:db8:1::11", state: "Down" },
    ]);
  });

  it("parses `show bfd peers json` (canonical addresses)", () => {
    const json = JSON.stringify([
      {
        multihop: false,
        peer: "2001:db8:1:0::11",
        status: "down",
        "remote-diagnostic": "administratively down",
      },
    ]);
    expect(parseFrrBfdPeers(json)).toEqual([
      {
        multihop: false,
        peer: "2001:db8:1::11",
        status: "down",
        "remote-diagnostic": "administratively down",
      },
    ]);
    expect(parseFrrBfdPeers("")).toEqual([]);
  });
});
