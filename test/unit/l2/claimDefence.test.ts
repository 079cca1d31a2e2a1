import { describe, expect, it } from "vitest";
import { encodeArp, type ArpOperation } from "../../../src/l2/codec/arp.js";
import { encodeEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV6 } from "../../../src/l2/codec/ethernet.js";
import { ALL_NODES_IPV6, solicitedNodeAddress } from "../../../src/l2/codec/ipv6.js";
import { BROADCAST_MAC, ZERO_MAC, type MacAddress } from "../../../src/l2/codec/mac.js";
import { encodeNeighborAdvertisement, encodeNeighborSolicitation } from "../../../src/l2/codec/ndp.js";
import { arpClaim, ClaimDefence, ndpClaim } from "../../../src/l2/claimDefence.js";
import { AnnouncementSet } from "../../../src/l2/responder.js";
import { parseIP, formatIP, type IPAddr } from "../../../src/net/ip.js";

const OURS = "02:00:5e:00:53:02" as MacAddress;
const OTHER = "02:00:5e:00:53:09" as MacAddress;
const VIP4 = parseIP("192.0.2.200");
const VIP6 = parseIP("2001:db8:1::200");
const ELSEWHERE4 = parseIP("192.0.2.222");
const HOST4 = parseIP("192.0.2.10");
const announced = new AnnouncementSet([
  { ip: VIP4, interfaces: ["eth0"] },
  { ip: VIP6, interfaces: ["eth0"] },
]);
const eth0 = { name: "eth0", mac: OURS };

function arpFrame(spec: {
  operation: ArpOperation;
  senderMac: MacAddress;
  senderIp: IPAddr;
  targetIp: IPAddr;
  source?: MacAddress;
  etherType?: number;
}): Buffer {
  return encodeEthernet({
    destination: BROADCAST_MAC,
    source: spec.source ?? spec.senderMac,
    etherType: spec.etherType ?? ETHERTYPE_ARP,
    payload: encodeArp({
      operation: spec.operation,
      senderMac: spec.senderMac,
      senderIp: spec.senderIp,
      targetMac: spec.operation === "reply" ? spec.senderMac : ZERO_MAC,
      targetIp: spec.targetIp,
    }),
  });
}

describe("arpClaim", () => {
  const cases: { description: string; frame: Buffer; ifname?: string; expected: string | undefined }[] = [
    {
      description: "another host's gratuitous ARP request for our address is a claim",
      frame: arpFrame({ operation: "request", senderMac: OTHER, senderIp: VIP4, targetIp: VIP4 }),
      expected: "192.0.2.200",
    },
    {
      description: "another host's gratuitous ARP reply for our address is a claim",
      frame: arpFrame({ operation: "reply", senderMac: OTHER, senderIp: VIP4, targetIp: VIP4 }),
      expected: "192.0.2.200",
    },
    {
      description: "an ARP request sent from our address by another host is a claim",
      frame: arpFrame({ operation: "request", senderMac: OTHER, senderIp: VIP4, targetIp: HOST4 }),
      expected: "192.0.2.200",
    },
    {
      description: "our own gratuitous ARP (seen on the way out) is not",
      frame: arpFrame({ operation: "request", senderMac: OURS, senderIp: VIP4, targetIp: VIP4 }),
      expected: undefined,
    },
    {
      description: "a frame from our MAC with another sender MAC inside is not",
      frame: arpFrame({ operation: "reply", senderMac: OTHER, senderIp: VIP4, targetIp: VIP4, source: OURS }),
      expected: undefined,
    },
    {
      description: "a claim for an address we do not announce is not ours to defend",
      frame: arpFrame({ operation: "request", senderMac: OTHER, senderIp: ELSEWHERE4, targetIp: ELSEWHERE4 }),
      expected: undefined,
    },
    {
      description: "a claim arriving on an interface the address is not announced on is ignored",
      frame: arpFrame({ operation: "request", senderMac: OTHER, senderIp: VIP4, targetIp: VIP4 }),
      ifname: "eth1",
      expected: undefined,
    },
    {
      description: "a client asking for our address claims nothing",
      frame: arpFrame({ operation: "request", senderMac: OTHER, senderIp: HOST4, targetIp: VIP4 }),
      expected: undefined,
    },
    {
      description: "a probe (sender 0.0.0.0) claims nothing",
      frame: arpFrame({
        operation: "request",
        senderMac: OTHER,
        senderIp: parseIP("0.0.0.0"),
        targetIp: VIP4,
      }),
      expected: undefined,
    },
    {
      description: "a frame that is not ARP claims nothing",
      frame: arpFrame({
        operation: "request",
        senderMac: OTHER,
        senderIp: VIP4,
        targetIp: VIP4,
        etherType: ETHERTYPE_IPV6,
      }),
      expected: undefined,
    },
    { description: "a truncated frame claims nothing", frame: Buffer.alloc(20), expected: undefined },
  ];
  for (const c of cases) {
    it(c.description, () => {
      const claimed = arpClaim(c.frame, { ...eth0, name: c.ifname ?? "eth0" }, announced);
      expect(claimed === undefined ? undefined : formatIP(claimed)).toBe(c.expected);
    });
  }
});

describe("ndpClaim", () => {
  const LINK_LOCAL = parseIP("fe80::9");
  const na = (target: IPAddr, mac: MacAddress | undefined) => {
    const addressing = { source: LINK_LOCAL, destination: ALL_NODES_IPV6, hopLimit: 255 };
    return {
      data: encodeNeighborAdvertisement(
        { target, solicited: false, override: true, ...(mac === undefined ? {} : { targetLinkLayer: mac }) },
        addressing,
      ),
      ...addressing,
    };
  };
  const ns = () => {
    const addressing = { source: LINK_LOCAL, destination: solicitedNodeAddress(VIP6), hopLimit: 255 };
    return {
      data: encodeNeighborSolicitation({ target: VIP6, sourceLinkLayer: OTHER }, addressing),
      ...addressing,
    };
  };
  const cases: { description: string; message: ReturnType<typeof ns>; expected: string }[] = [
    {
      description: "another host's advertisement for our address is a claim",
      message: na(VIP6, OTHER),
      expected: "claim 2001:db8:1::200",
    },
    {
      description: "our own advertisement is only an advertisement",
      message: na(VIP6, OURS),
      expected: "advertisement",
    },
    {
      description: "an advertisement without a link-layer address claims nothing",
      message: na(VIP6, undefined),
      expected: "advertisement",
    },
    {
      description: "an advertisement for an address we do not announce claims nothing",
      message: na(parseIP("2001:db8:1::222"), OTHER),
      expected: "advertisement",
    },
    { description: "a solicitation is left to the responder", message: ns(), expected: "not-advertisement" },
    {
      description: "a message with a wrong hop limit is left to the responder (which drops it)",
      message: { ...na(VIP6, OTHER), hopLimit: 64 },
      expected: "not-advertisement",
    },
  ];
  for (const c of cases) {
    it(c.description, () => {
      const claim = ndpClaim(c.message, eth0, announced);
      expect(claim.kind === "claim" ? `claim ${formatIP(claim.ip)}` : claim.kind).toBe(c.expected);
    });
  }
});

describe("ClaimDefence", () => {
  it("defends at once, then at most once per hold-off, answering a claim made during it when it ends", () => {
    const defence = new ClaimDefence(1000);
    defence.claimed("eth0|a", 100);
    expect(defence.due(100)).toEqual(["eth0|a"]);
    defence.claimed("eth0|a", 300);
    defence.claimed("eth0|a", 400); // coalesced with the pending one
    expect(defence.nextDueAt()).toBe(1100);
    expect(defence.due(1099)).toEqual([]);
    expect(defence.due(1100)).toEqual(["eth0|a"]);
    expect(defence.due(5000)).toEqual([]);
    expect(defence.nextDueAt()).toBeUndefined();
  });

  it("defends at once again once the hold-off is long over", () => {
    const defence = new ClaimDefence(1000);
    defence.claimed("k", 0);
    defence.due(0);
    defence.due(2000);
    defence.claimed("k", 2500);
    expect(defence.due(2500)).toEqual(["k"]);
  });

  it("sends nothing for an address that stopped being ours", () => {
    const defence = new ClaimDefence(1000);
    defence.claimed("k", 0);
    expect(defence.isPending("k")).toBe(true);
    defence.stop("k");
    expect(defence.isPending("k")).toBe(false);
    expect(defence.due(10_000)).toEqual([]);
    expect(defence.nextDueAt()).toBeUndefined();
  });

  it("keeps keys independent", () => {
    const defence = new ClaimDefence(1000);
    defence.claimed("a", 0);
    defence.due(0);
    defence.claimed("a", 10);
    defence.claimed("b", 10);
    expect(defence.due(10)).toEqual(["b"]);
    expect(defence.due(1000)).toEqual(["a"]);
  });
});
