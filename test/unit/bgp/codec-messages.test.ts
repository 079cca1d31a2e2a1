import { describe, expect, it } from "vitest";
import {
  buildOpen,
  decodeMessage,
  encodeKeepalive,
  encodeMessage,
  encodeShutdownCommunication,
  endOfRib,
  endOfRibFamily,
  IPV4_UNICAST,
  IPV6_UNICAST,
  peerAsOf,
  shutdownCommunicationOf,
  type BgpMessage,
} from "../../../src/bgp/codec/index.js";
import { cidr, hex, ip, MARKER } from "./helpers.js";

/** Known messages written byte by byte from the RFCs' field layouts. */
const vectors: { description: string; message: BgpMessage; bytes: string }[] = [
  {
    description: "KEEPALIVE is a bare 19-byte header (RFC 4271 4.4)",
    message: { type: "keepalive" },
    bytes: `${MARKER} 0013 04`,
  },
  {
    description: "OPEN, AS 65001, hold 90, id 192.0.2.1, IPv4+IPv6 unicast, route refresh, 4-octet AS",
    message: buildOpen({
      asn: 65001,
      holdTime: 90,
      bgpId: 0xc0000201,
      capabilities: [
        { kind: "multiprotocol", afi: 1, safi: 1 },
        { kind: "multiprotocol", afi: 2, safi: 1 },
        { kind: "routeRefresh" },
        { kind: "fourOctetAs", asn: 65001 },
      ],
    }),
    // 10 fixed bytes, opt len 28 = one parameter per capability: 8 + 8 + 4 + 8 bytes
    bytes: `${MARKER} 0039 01  04 fde9 005a c0000201 1c
      02 06 01 04 0001 00 01   02 06 01 04 0002 00 01   02 02 02 00   02 06 41 04 0000fde9`,
  },
  {
    description: "OPEN for a 4-octet AS puts AS_TRANS (23456) in My AS (RFC 6793)",
    message: buildOpen({
      asn: 4200000001,
      holdTime: 3,
      bgpId: 1,
      capabilities: [{ kind: "fourOctetAs", asn: 4200000001 }],
    }),
    bytes: `${MARKER} 0025 01  04 5ba0 0003 00000001 08  02 06 41 04 fa56ea01`,
  },
  {
    description: "OPEN with graceful restart: R bit, 120 s, IPv4 unicast with forwarding state",
    message: buildOpen({
      asn: 64512,
      holdTime: 0,
      bgpId: 2,
      capabilities: [
        {
          kind: "gracefulRestart",
          restartState: true,
          notification: false,
          restartTimeSeconds: 120,
          families: [{ afi: 1, safi: 1, forwardingState: true }],
        },
      ],
    }),
    bytes: `${MARKER} 0027 01  04 fc00 0000 00000002 0a  02 08 40 06 8078 0001 01 80`,
  },
  {
    description:
      "UPDATE announcing 198.51.100.7/32: ORIGIN IGP, AS_PATH [65001], NEXT_HOP, community 65001:100",
    message: {
      type: "update",
      withdrawn: [],
      attributes: {
        origin: 0,
        asPath: [{ kind: "sequence", asns: [65001] }],
        nextHop: ip("192.0.2.10"),
        communities: [65001 * 65536 + 100],
      },
      nlri: [cidr("198.51.100.7/32")],
    },
    bytes: `${MARKER} 0037 02  0000 001b
      40 01 01 00
      40 02 06 02 01 0000fde9
      40 03 04 c000020a
      c0 08 04 fde90064
      20 c6336407`,
  },
  {
    description: "UPDATE withdrawing 198.51.100.0/24 and 203.0.113.128/25",
    message: {
      type: "update",
      withdrawn: [cidr("198.51.100.0/24"), cidr("203.0.113.128/25")],
      attributes: {},
      nlri: [],
    },
    bytes: `${MARKER} 0020 02  0009 18 c63364 19 cb007180  0000`,
  },
  {
    description:
      "UPDATE announcing 2001:db8:100::7/128 in MP_REACH_NLRI, iBGP LOCAL_PREF 200, large community",
    message: {
      type: "update",
      withdrawn: [],
      attributes: {
        mpReach: { afi: 2, safi: 1, nextHops: [ip("2001:db8:1::10")], nlri: [cidr("2001:db8:100::7/128")] },
        origin: 0,
        asPath: [],
        localPref: 200,
        largeCommunities: [{ globalAdmin: 64512, localData1: 1, localData2: 2 }],
      },
      nlri: [],
    },
    bytes: `${MARKER} 005d 02  0000 0046
      80 0e 26 0002 01 10 20010db8000100000000000000000010 00 80 20010db8010000000000000000000007
      40 01 01 00
      40 02 00
      40 05 04 000000c8
      c0 20 0c 0000fc00 00000001 00000002`,
  },
  {
    description: "MP_REACH_NLRI with a 32-byte next hop (global + link-local, RFC 2545)",
    message: {
      type: "update",
      withdrawn: [],
      attributes: {
        mpReach: {
          afi: 2,
          safi: 1,
          nextHops: [ip("2001:db8:1::10"), ip("fe80::1")],
          nlri: [cidr("2001:db8:100::/120")],
        },
        origin: 0,
        asPath: [],
      },
      nlri: [],
    },
    bytes: `${MARKER} 0056 02  0000 003f
      80 0e 35 0002 01 20 20010db8000100000000000000000010 fe800000000000000000000000000001 00
        78 20010db8 01000000 00000000 000000
      40 01 01 00
      40 02 00`,
  },
  {
    description: "End-of-RIB for IPv4 unicast is an empty UPDATE (RFC 4724 2)",
    message: endOfRib(IPV4_UNICAST),
    bytes: `${MARKER} 0017 02 0000 0000`,
  },
  {
    description: "End-of-RIB for IPv6 unicast is an UPDATE with an empty MP_UNREACH_NLRI",
    message: endOfRib(IPV6_UNICAST),
    bytes: `${MARKER} 001d 02 0000 0006 80 0f 03 0002 01`,
  },
  {
    description: 'NOTIFICATION Cease / Administrative Shutdown with shutdown communication "bye" (RFC 9003)',
    message: { type: "notification", code: 6, subcode: 2, data: encodeShutdownCommunication("bye") },
    bytes: `${MARKER} 0019 03 06 02 03 627965`,
  },
  {
    description: "NOTIFICATION Hold Timer Expired has no data",
    message: { type: "notification", code: 4, subcode: 0, data: Buffer.alloc(0) },
    bytes: `${MARKER} 0015 03 04 00`,
  },
  {
    description: "ROUTE-REFRESH for IPv6 unicast (RFC 2918)",
    message: { type: "routeRefresh", afi: 2, safi: 1, subtype: 0 },
    bytes: `${MARKER} 0017 05 0002 00 01`,
  },
];

describe("codec known byte vectors", () => {
  for (const v of vectors) {
    it(`encodes: ${v.description}`, () => {
      expect(encodeMessage(v.message).toString("hex")).toBe(hex(v.bytes).toString("hex"));
    });
    it(`decodes: ${v.description}`, () => {
      const r = decodeMessage(hex(v.bytes));
      expect(r.ok && r.message).toEqual(v.message);
      expect(r.ok && r.problems).toEqual([]);
    });
  }
});

describe("OPEN details", () => {
  it("peerAsOf prefers the 4-octet AS capability over My AS", () => {
    const r = decodeMessage(
      encodeMessage(
        buildOpen({
          asn: 4200000001,
          holdTime: 90,
          bgpId: 1,
          capabilities: [{ kind: "fourOctetAs", asn: 4200000001 }],
        }),
      ),
    );
    expect(r.ok && r.message.type === "open" && peerAsOf(r.message)).toBe(4200000001);
  });

  it("peerAsOf falls back to My AS when the peer has no 4-octet capability", () => {
    const r = decodeMessage(
      encodeMessage(buildOpen({ asn: 65010, holdTime: 90, bgpId: 1, capabilities: [] })),
    );
    expect(r.ok && r.message.type === "open" && peerAsOf(r.message)).toBe(65010);
  });

  it("uses the RFC 9072 extended parameters encoding only when parameters exceed 255 bytes, and decodes it", () => {
    const many = Array.from({ length: 70 }, (_, i) => ({
      kind: "unknown" as const,
      code: 200,
      value: Buffer.from([i, i]),
    }));
    const open = buildOpen({ asn: 65001, holdTime: 90, bgpId: 7, capabilities: many });
    const bytes = encodeMessage(open);
    // Non-Ext OP Len 255, Non-Ext OP Type 255, then a 2-byte length: 70 x (3-byte header + 4-byte capability).
    expect(bytes.subarray(28, 32).toString("hex")).toBe("ffff" + (70 * 7).toString(16).padStart(4, "0"));
    const r = decodeMessage(bytes);
    expect(r.ok && r.message).toEqual(open);
  });

  it("decodes a hand-built RFC 9072 OPEN with one capability", () => {
    const r = decodeMessage(hex(`${MARKER} 0025 01 04 fde9 005a 00000001 ff ff 0005 02 0002 02 00`));
    expect(r.ok && r.message.type === "open" && r.message.capabilities).toEqual([{ kind: "routeRefresh" }]);
  });

  it("keeps several capabilities packed into one optional parameter", () => {
    const r = decodeMessage(hex(`${MARKER} 0027 01 04 fde9 005a 00000001 0a 02 08 02 00 01 04 0001 00 01`));
    expect(r.ok && r.message.type === "open" && r.message.capabilities).toEqual([
      { kind: "routeRefresh" },
      { kind: "multiprotocol", afi: 1, safi: 1 },
    ]);
  });

  it("keeps unknown capabilities as raw bytes", () => {
    const r = decodeMessage(hex(`${MARKER} 0022 01 04 fde9 005a 00000001 05 02 03 49 01 aa`));
    expect(r.ok && r.message.type === "open" && r.message.capabilities).toEqual([
      { kind: "unknown", code: 0x49, value: hex("aa") },
    ]);
  });

  it("decodes graceful restart with the N bit and several families", () => {
    const r = decodeMessage(
      hex(`${MARKER} 002b 01 04 fde9 005a 00000001 0e 02 0c 40 0a 4fff 0001 01 00 0002 01 80`),
    );
    expect(r.ok && r.message.type === "open" && r.message.capabilities).toEqual([
      {
        kind: "gracefulRestart",
        restartState: false,
        notification: true,
        restartTimeSeconds: 4095,
        families: [
          { afi: 1, safi: 1, forwardingState: false },
          { afi: 2, safi: 1, forwardingState: true },
        ],
      },
    ]);
  });
});

describe("shutdown communication (RFC 9003)", () => {
  const cases: {
    description: string;
    code: number;
    subcode: number;
    data: Buffer;
    expected: string | undefined;
  }[] = [
    {
      description: "plain text",
      code: 6,
      subcode: 2,
      data: encodeShutdownCommunication("maintenance"),
      expected: "maintenance",
    },
    {
      description: "UTF-8 text on Administrative Reset",
      code: 6,
      subcode: 4,
      data: encodeShutdownCommunication("größe ✓"),
      expected: "größe ✓",
    },
    { description: "empty data", code: 6, subcode: 2, data: Buffer.alloc(0), expected: undefined },
    { description: "zero length", code: 6, subcode: 2, data: hex("00"), expected: undefined },
    { description: "length past the data", code: 6, subcode: 2, data: hex("05 6162"), expected: undefined },
    { description: "invalid UTF-8", code: 6, subcode: 2, data: hex("02 c328"), expected: undefined },
    {
      description: "not a Cease shutdown subcode",
      code: 6,
      subcode: 3,
      data: encodeShutdownCommunication("x"),
      expected: undefined,
    },
    {
      description: "not a Cease",
      code: 4,
      subcode: 2,
      data: encodeShutdownCommunication("x"),
      expected: undefined,
    },
  ];
  for (const c of cases) {
    it(c.description, () => {
      expect(shutdownCommunicationOf(c)).toBe(c.expected);
    });
  }

  it("truncates to 255 bytes without splitting a UTF-8 character", () => {
    const data = encodeShutdownCommunication("é".repeat(200)); // 400 bytes of 2-byte characters
    expect(data.readUInt8(0)).toBe(254);
    expect(shutdownCommunicationOf({ code: 6, subcode: 2, data })).toBe("é".repeat(127));
  });
});

describe("End-of-RIB recognition", () => {
  const cases: { description: string; bytes: Buffer; family: unknown }[] = [
    {
      description: "empty UPDATE is IPv4 EoR",
      bytes: encodeMessage(endOfRib(IPV4_UNICAST)),
      family: IPV4_UNICAST,
    },
    {
      description: "empty MP_UNREACH is IPv6 EoR",
      bytes: encodeMessage(endOfRib(IPV6_UNICAST)),
      family: IPV6_UNICAST,
    },
    {
      description: "MP_UNREACH with a prefix is a withdrawal, not EoR",
      bytes: encodeMessage({
        type: "update",
        withdrawn: [],
        nlri: [],
        attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [cidr("2001:db8::/32")] } },
      }),
      family: undefined,
    },
    {
      description: "an IPv4 withdrawal is not EoR",
      bytes: encodeMessage({ type: "update", withdrawn: [cidr("192.0.2.0/24")], nlri: [], attributes: {} }),
      family: undefined,
    },
  ];
  for (const c of cases) {
    it(c.description, () => {
      const r = decodeMessage(c.bytes);
      if (!r.ok || r.message.type !== "update") throw new Error("expected an UPDATE");
      expect(endOfRibFamily(r.message)).toEqual(c.family);
    });
  }
});

it("encodeKeepalive returns a fresh buffer each time", () => {
  const a = encodeKeepalive();
  a[0] = 0;
  expect(encodeKeepalive()[0]).toBe(0xff);
});
