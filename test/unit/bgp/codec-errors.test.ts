import { describe, expect, it } from "vitest";
import { decodeMessage, prefixesOf, type MessageDecodeResult } from "../../../src/bgp/codec/index.js";
import { attr, hex, MARKER, message, rawUpdate } from "./helpers.js";

function expectError(r: MessageDecodeResult, code: number, subcode: number, data?: string): void {
  if (r.ok) throw new Error(`expected an error, decoded ${JSON.stringify(r.message.type)}`);
  expect([r.error.errorCode, r.error.subcode]).toEqual([code, subcode]);
  if (data !== undefined) expect(r.error.data.toString("hex")).toBe(hex(data).toString("hex"));
}

describe("message header errors (RFC 4271 6.1)", () => {
  const cases: { description: string; bytes: Buffer; code: number; subcode: number; data?: string }[] = [
    {
      description: "marker not all ones → Connection Not Synchronized",
      bytes: hex(`${"ff".repeat(15)}fe 0013 04`),
      code: 1,
      subcode: 1,
    },
    {
      description: "length 18 → Bad Message Length with the length",
      bytes: hex(`${MARKER} 0012 04`),
      code: 1,
      subcode: 2,
      data: "0012",
    },
    {
      description: "length 4097 → Bad Message Length",
      bytes: Buffer.concat([hex(`${MARKER} 1001 02`), Buffer.alloc(4097 - 19)]),
      code: 1,
      subcode: 2,
      data: "1001",
    },
    {
      description: "type 9 → Bad Message Type with the type",
      bytes: hex(`${MARKER} 0013 09`),
      code: 1,
      subcode: 3,
      data: "09",
    },
    {
      description: "KEEPALIVE of 20 bytes → Bad Message Length",
      bytes: hex(`${MARKER} 0014 04 00`),
      code: 1,
      subcode: 2,
      data: "0014",
    },
    {
      description: "OPEN under 29 bytes → Bad Message Length",
      bytes: message(1, "04 fde9 005a 00000001"),
      code: 1,
      subcode: 2,
      data: "001c",
    },
    {
      description: "UPDATE under 23 bytes → Bad Message Length",
      bytes: message(2, "0000 00"),
      code: 1,
      subcode: 2,
      data: "0016",
    },
    {
      description: "NOTIFICATION under 21 bytes → Bad Message Length",
      bytes: message(3, "06"),
      code: 1,
      subcode: 2,
      data: "0014",
    },
    {
      description: "length field disagreeing with the frame → Bad Message Length",
      bytes: hex(`${MARKER} 0013 04 00`),
      code: 1,
      subcode: 2,
      data: "0013",
    },
    {
      description: "fewer bytes than a header → Bad Message Length",
      bytes: hex("ffff"),
      code: 1,
      subcode: 2,
    },
    {
      description:
        "ROUTE-REFRESH of the wrong length → ROUTE-REFRESH Message Error / Invalid Message Length (RFC 7313)",
      bytes: message(5, "0001 00 01 00"),
      code: 7,
      subcode: 1,
      data: `${MARKER} 0018 05 0001 00 01 00`,
    },
  ];
  for (const c of cases) {
    it(c.description, () => {
      expectError(decodeMessage(c.bytes), c.code, c.subcode, c.data);
    });
  }
});

describe("OPEN message errors (RFC 4271 6.2)", () => {
  const cases: { description: string; body: string; subcode: number; data?: string }[] = [
    {
      description: "version 3 → Unsupported Version Number, data = 4",
      body: "03 fde9 005a 00000001 00",
      subcode: 1,
      data: "0004",
    },
    {
      description: "optional parameter type 1 → Unsupported Optional Parameter",
      body: "04 fde9 005a 00000001 03 01 01 00",
      subcode: 4,
    },
    {
      description: "parameters length past the message → Unspecific",
      body: "04 fde9 005a 00000001 09 02 02 02 00",
      subcode: 0,
    },
    {
      description: "parameters length short of the message → Unspecific",
      body: "04 fde9 005a 00000001 02 02 02 02 00",
      subcode: 0,
    },
    {
      description: "capability overrunning its parameter → Unspecific",
      body: "04 fde9 005a 00000001 04 02 02 41 04",
      subcode: 0,
    },
    {
      description: "multiprotocol capability of 3 bytes → Unspecific",
      body: "04 fde9 005a 00000001 07 02 05 01 03 0001 00",
      subcode: 0,
    },
    {
      description: "4-octet AS capability of 2 bytes → Unspecific",
      body: "04 fde9 005a 00000001 06 02 04 41 02 fde9",
      subcode: 0,
    },
    {
      description: "route refresh capability with a value → Unspecific",
      body: "04 fde9 005a 00000001 05 02 03 02 01 00",
      subcode: 0,
    },
    {
      description: "graceful restart of 3 bytes → Unspecific",
      body: "04 fde9 005a 00000001 07 02 05 40 03 0078 00",
      subcode: 0,
    },
    {
      description: "RFC 9072 header cut short → Unspecific",
      body: "04 fde9 005a 00000001 ff ff 00",
      subcode: 0,
    },
    {
      description: "RFC 9072 parameter header cut short → Unspecific",
      body: "04 fde9 005a 00000001 ff ff 0002 02 00",
      subcode: 0,
    },
  ];
  for (const c of cases) {
    it(c.description, () => {
      expectError(decodeMessage(message(1, c.body)), 2, c.subcode, c.data);
    });
  }
});

// Attribute bytes reused below.
const ORIGIN = attr(0x40, 1, "00");
const AS_PATH = attr(0x40, 2, "02 01 0000fde9");
const NEXT_HOP = attr(0x40, 3, "c000020a");
const NLRI = "20 c6336407"; // 198.51.100.7/32
const MANDATORY = [ORIGIN, AS_PATH, NEXT_HOP];
const V6_NLRI_MP_REACH = attr(
  0x80,
  14,
  "0002 01 10 20010db8000100000000000000000010 00 80 20010db8010000000000000000000007",
);

interface RecoveryCase {
  description: string;
  bytes: Buffer;
  external?: boolean;
  fourOctetAs?: boolean;
  /** Expected outcome: a session reset (NOTIFICATION subcode), or recovery with these problem actions. */
  expect: { reset: number; data?: string } | { actions: string[]; subcodes?: number[] };
  /** Optional check of the surviving attributes. */
  check?: (message: Extract<MessageDecodeResult, { ok: true }>) => void;
}

const recoveryCases: RecoveryCase[] = [
  // RFC 7606 7.1 ORIGIN
  {
    description: "ORIGIN of length 2 → treat-as-withdraw",
    bytes: rawUpdate([attr(0x40, 1, "0000"), AS_PATH, NEXT_HOP], NLRI),
    expect: { actions: ["treat-as-withdraw"], subcodes: [5] },
  },
  {
    description: "ORIGIN value 3 → treat-as-withdraw (Invalid ORIGIN)",
    bytes: rawUpdate([attr(0x40, 1, "03"), AS_PATH, NEXT_HOP], NLRI),
    expect: { actions: ["treat-as-withdraw"], subcodes: [6] },
  },
  // 7.2 AS_PATH
  {
    description: "AS_PATH segment of length zero → treat-as-withdraw",
    bytes: rawUpdate([ORIGIN, attr(0x40, 2, "02 00"), NEXT_HOP], NLRI),
    expect: { actions: ["treat-as-withdraw"], subcodes: [11] },
  },
  {
    description: "AS_PATH unknown segment type → treat-as-withdraw",
    bytes: rawUpdate([ORIGIN, attr(0x40, 2, "09 01 0000fde9"), NEXT_HOP], NLRI),
    expect: { actions: ["treat-as-withdraw"], subcodes: [11] },
  },
  {
    description: "AS_PATH segment overrun → treat-as-withdraw",
    bytes: rawUpdate([ORIGIN, attr(0x40, 2, "02 02 0000fde9"), NEXT_HOP], NLRI),
    expect: { actions: ["treat-as-withdraw"], subcodes: [11] },
  },
  {
    description: "AS_PATH with one trailing octet → treat-as-withdraw",
    bytes: rawUpdate([ORIGIN, attr(0x40, 2, "02 01 0000fde9 02"), NEXT_HOP], NLRI),
    expect: { actions: ["treat-as-withdraw"], subcodes: [11] },
  },
  {
    description: "empty AS_PATH is valid (iBGP)",
    bytes: rawUpdate([ORIGIN, attr(0x40, 2, ""), NEXT_HOP], NLRI),
    expect: { actions: [] },
    check: (r) => {
      expect(r.message.type === "update" && r.message.attributes.asPath).toEqual([]);
    },
  },
  // 7.3 NEXT_HOP
  {
    description: "NEXT_HOP of length 5 → treat-as-withdraw",
    bytes: rawUpdate([ORIGIN, AS_PATH, attr(0x40, 3, "c000020a00")], NLRI),
    expect: { actions: ["treat-as-withdraw"], subcodes: [5] },
  },
  {
    description: "NEXT_HOP 0.0.0.0 → treat-as-withdraw (Invalid NEXT_HOP)",
    bytes: rawUpdate([ORIGIN, AS_PATH, attr(0x40, 3, "00000000")], NLRI),
    expect: { actions: ["treat-as-withdraw"], subcodes: [8] },
  },
  {
    description: "NEXT_HOP multicast 224.0.0.5 → treat-as-withdraw",
    bytes: rawUpdate([ORIGIN, AS_PATH, attr(0x40, 3, "e0000005")], NLRI),
    expect: { actions: ["treat-as-withdraw"], subcodes: [8] },
  },
  // 7.4 MED, 7.5 LOCAL_PREF
  {
    description: "MULTI_EXIT_DISC of length 3 → treat-as-withdraw",
    bytes: rawUpdate([...MANDATORY, attr(0x80, 4, "000001")], NLRI),
    expect: { actions: ["treat-as-withdraw"], subcodes: [5] },
  },
  {
    description: "LOCAL_PREF of length 2 → treat-as-withdraw",
    bytes: rawUpdate([...MANDATORY, attr(0x40, 5, "0064")], NLRI),
    expect: { actions: ["treat-as-withdraw"], subcodes: [5] },
  },
  {
    description: "LOCAL_PREF from an external peer → attribute-discard",
    bytes: rawUpdate([...MANDATORY, attr(0x40, 5, "00000064")], NLRI),
    external: true,
    expect: { actions: ["attribute-discard"] },
    check: (r) => {
      expect(r.message.type === "update" && r.message.attributes.localPref).toBeUndefined();
    },
  },
  // 7.6 ATOMIC_AGGREGATE, 7.7 AGGREGATOR
  {
    description: "ATOMIC_AGGREGATE of length 1 → attribute-discard",
    bytes: rawUpdate([...MANDATORY, attr(0x40, 6, "00")], NLRI),
    expect: { actions: ["attribute-discard"] },
    check: (r) => {
      expect(r.message.type === "update" && r.message.attributes.atomicAggregate).toBeUndefined();
    },
  },
  {
    description: "AGGREGATOR of length 7 with 4-octet AS → attribute-discard",
    bytes: rawUpdate([...MANDATORY, attr(0xc0, 7, "0000fde9 c00002")], NLRI),
    expect: { actions: ["attribute-discard"] },
  },
  {
    description: "AGGREGATOR of length 8 without 4-octet AS → attribute-discard",
    bytes: rawUpdate(
      [ORIGIN, attr(0x40, 2, "02 01 fde9"), NEXT_HOP, attr(0xc0, 7, "0000fde9 c0000201")],
      NLRI,
    ),
    fourOctetAs: false,
    expect: { actions: ["attribute-discard"] },
  },
  // 7.8 COMMUNITIES, RFC 8092 LARGE_COMMUNITIES, 7.14 EXTENDED_COMMUNITIES, 7.9/7.10 route reflection
  {
    description: "COMMUNITIES of length 0 → treat-as-withdraw",
    bytes: rawUpdate([...MANDATORY, attr(0xc0, 8, "")], NLRI),
    expect: { actions: ["treat-as-withdraw"], subcodes: [5] },
  },
  {
    description: "COMMUNITIES of length 5 → treat-as-withdraw",
    bytes: rawUpdate([...MANDATORY, attr(0xc0, 8, "fde9006400")], NLRI),
    expect: { actions: ["treat-as-withdraw"] },
  },
  {
    description: "LARGE_COMMUNITIES of length 11 → treat-as-withdraw",
    bytes: rawUpdate([...MANDATORY, attr(0xc0, 32, "00".repeat(11))], NLRI),
    expect: { actions: ["treat-as-withdraw"] },
  },
  {
    description: "LARGE_COMMUNITIES of length 0 → treat-as-withdraw",
    bytes: rawUpdate([...MANDATORY, attr(0xc0, 32, "")], NLRI),
    expect: { actions: ["treat-as-withdraw"] },
  },
  {
    description: "EXTENDED_COMMUNITIES of length 7 → treat-as-withdraw",
    bytes: rawUpdate([...MANDATORY, attr(0xc0, 16, "00".repeat(7))], NLRI),
    expect: { actions: ["treat-as-withdraw"] },
  },
  {
    description: "ORIGINATOR_ID of length 3 → treat-as-withdraw",
    bytes: rawUpdate([...MANDATORY, attr(0x80, 9, "000001")], NLRI),
    expect: { actions: ["treat-as-withdraw"] },
  },
  {
    description: "CLUSTER_LIST of length 6 → treat-as-withdraw",
    bytes: rawUpdate([...MANDATORY, attr(0x80, 10, "00".repeat(6))], NLRI),
    expect: { actions: ["treat-as-withdraw"] },
  },
  // RFC 6793 6: AS4_PATH, AS4_AGGREGATOR
  {
    description: "malformed AS4_PATH → attribute-discard",
    bytes: rawUpdate([ORIGIN, attr(0x40, 2, "02 01 5ba0"), NEXT_HOP, attr(0xc0, 17, "02 00")], NLRI),
    fourOctetAs: false,
    expect: { actions: ["attribute-discard"] },
  },
  {
    description: "AS4_PATH with a confederation segment → attribute-discard",
    bytes: rawUpdate([ORIGIN, attr(0x40, 2, "02 01 5ba0"), NEXT_HOP, attr(0xc0, 17, "03 01 fa56ea01")], NLRI),
    fourOctetAs: false,
    expect: { actions: ["attribute-discard"] },
  },
  {
    description: "AS4_AGGREGATOR of length 7 → attribute-discard",
    bytes: rawUpdate([...MANDATORY, attr(0xc0, 18, "00".repeat(7))], NLRI),
    expect: { actions: ["attribute-discard"] },
  },
  {
    description: "AS_PATH with AS_TRANS is rebuilt from AS4_PATH on a 2-octet session",
    bytes: rawUpdate(
      [ORIGIN, attr(0x40, 2, "02 02 fde8 5ba0"), NEXT_HOP, attr(0xc0, 17, "02 01 fa56ea01")],
      NLRI,
    ),
    fourOctetAs: false,
    expect: { actions: [] },
    check: (r) => {
      expect(r.message.type === "update" && r.message.attributes.asPath).toEqual([
        { kind: "sequence", asns: [65000, 4200000001] },
      ]);
    },
  },
  {
    description: "a 2-octet AGGREGATOR that is not AS_TRANS makes AS4_PATH ignored (RFC 6793 4.2.3)",
    bytes: rawUpdate(
      [
        ORIGIN,
        attr(0x40, 2, "02 02 fde8 5ba0"),
        NEXT_HOP,
        attr(0xc0, 7, "fde8 c0000201"),
        attr(0xc0, 17, "02 01 fa56ea01"),
      ],
      NLRI,
    ),
    fourOctetAs: false,
    expect: { actions: [] },
    check: (r) => {
      expect(r.message.type === "update" && r.message.attributes.asPath).toEqual([
        { kind: "sequence", asns: [65000, 23456] },
      ]);
    },
  },
  // 3(c) flags
  {
    description: "ORIGIN flagged optional → treat-as-withdraw (Attribute Flags Error)",
    bytes: rawUpdate([attr(0xc0, 1, "00"), AS_PATH, NEXT_HOP], NLRI),
    expect: { actions: ["treat-as-withdraw"], subcodes: [4] },
  },
  {
    description: "COMMUNITIES flagged well-known → treat-as-withdraw",
    bytes: rawUpdate([...MANDATORY, attr(0x40, 8, "fde90064")], NLRI),
    expect: { actions: ["treat-as-withdraw"], subcodes: [4] },
  },
  {
    description: "MP_REACH_NLRI flagged transitive → treat-as-withdraw, its prefixes still known",
    bytes: rawUpdate([attr(0xc0, 14, V6_NLRI_MP_REACH.subarray(3)), ORIGIN, attr(0x40, 2, "")]),
    expect: { actions: ["treat-as-withdraw"], subcodes: [4] },
    check: (r) => {
      expect(r.message.type === "update" && prefixesOf(r.message).map((p) => p.prefixLength)).toEqual([128]);
    },
  },
  {
    description: "extended-length flag on a short attribute is accepted",
    bytes: rawUpdate([attr(0x50, 1, "00"), AS_PATH, NEXT_HOP], NLRI),
    expect: { actions: [] },
    check: (r) => {
      expect(r.message.type === "update" && r.message.attributes.origin).toBe(0);
    },
  },
  // 3(e),(g) repeats
  {
    description: "repeated COMMUNITIES → later copy discarded, first kept",
    bytes: rawUpdate([...MANDATORY, attr(0xc0, 8, "fde90064"), attr(0xc0, 8, "fde900c8")], NLRI),
    expect: { actions: ["attribute-discard"] },
    check: (r) => {
      expect(r.message.type === "update" && r.message.attributes.communities).toEqual([0xfde90064]);
    },
  },
  {
    description: "repeated MP_REACH_NLRI → session reset (Malformed Attribute List)",
    bytes: rawUpdate([V6_NLRI_MP_REACH, V6_NLRI_MP_REACH, ORIGIN, AS_PATH]),
    expect: { reset: 1 },
  },
  {
    description: "repeated MP_UNREACH_NLRI → session reset",
    bytes: rawUpdate([attr(0x80, 15, "0002 01"), attr(0x80, 15, "0002 01")]),
    expect: { reset: 1 },
  },
  // 7.11 MP_REACH / MP_UNREACH
  {
    description: "MP_REACH_NLRI next hop length 5 → session reset",
    bytes: rawUpdate([attr(0x80, 14, "0002 01 05 0000000000 00"), ORIGIN, AS_PATH]),
    expect: { reset: 9 },
  },
  {
    description: "MP_REACH_NLRI IPv6 with a 4-byte next hop → session reset",
    bytes: rawUpdate([attr(0x80, 14, "0002 01 04 c000020a 00"), ORIGIN, AS_PATH]),
    expect: { reset: 9 },
  },
  {
    description: "MP_REACH_NLRI prefix length 129 → session reset",
    bytes: rawUpdate([
      attr(0x80, 14, "0002 01 10 20010db8000100000000000000000010 00 81 00"),
      ORIGIN,
      AS_PATH,
    ]),
    expect: { reset: 9 },
  },
  {
    description: "MP_REACH_NLRI shorter than its fixed part → session reset",
    bytes: rawUpdate([attr(0x80, 14, "0002 01 10"), ORIGIN, AS_PATH]),
    expect: { reset: 9 },
  },
  {
    description: "MP_UNREACH_NLRI of 2 bytes → session reset",
    bytes: rawUpdate([attr(0x80, 15, "0002")]),
    expect: { reset: 9 },
  },
  {
    description: "MP_UNREACH_NLRI prefix overrun → session reset",
    bytes: rawUpdate([attr(0x80, 15, "0002 01 40 20010db8")]),
    expect: { reset: 9 },
  },
  {
    description: "MP_REACH_NLRI of an unknown family is kept raw, no error",
    bytes: rawUpdate([attr(0x80, 14, "0019 46 04 c000020a 00 aa"), ORIGIN, AS_PATH]),
    expect: { actions: [] },
    check: (r) => {
      expect(r.message.type === "update" && r.message.attributes.unknown?.map((u) => u.typeCode)).toEqual([
        14,
      ]);
    },
  },
  {
    description: "MP_REACH_NLRI carrying IPv4 unicast with an IPv4 next hop is accepted",
    bytes: rawUpdate([attr(0x80, 14, "0001 01 04 c000020a 00 18 c63364"), ORIGIN, AS_PATH]),
    expect: { actions: [] },
    check: (r) => {
      expect(r.message.type === "update" && r.message.attributes.mpReach?.nlri.length).toBe(1);
    },
  },
  // Unrecognised attributes (RFC 4271 5, 6.3)
  {
    description: "unrecognised well-known attribute → session reset with the attribute as data",
    bytes: rawUpdate([...MANDATORY, attr(0x40, 99, "01")], NLRI),
    expect: { reset: 2, data: "40 63 01 01" },
  },
  {
    description: "unrecognised optional transitive attribute is kept and marked Partial",
    bytes: rawUpdate([...MANDATORY, attr(0xc0, 99, "01")], NLRI),
    expect: { actions: [] },
    check: (r) => {
      expect(r.message.type === "update" && r.message.attributes.unknown).toEqual([
        { flags: 0xe0, typeCode: 99, value: hex("01") },
      ]);
    },
  },
  {
    description: "unrecognised optional non-transitive attribute is quietly dropped",
    bytes: rawUpdate([...MANDATORY, attr(0x80, 99, "01")], NLRI),
    expect: { actions: [] },
    check: (r) => {
      expect(r.message.type === "update" && r.message.attributes.unknown).toBeUndefined();
    },
  },
  // 3(d) missing mandatory
  {
    description: "missing ORIGIN with NLRI → treat-as-withdraw",
    bytes: rawUpdate([AS_PATH, NEXT_HOP], NLRI),
    expect: { actions: ["treat-as-withdraw"], subcodes: [3] },
  },
  {
    description: "missing NEXT_HOP with IPv4 NLRI → treat-as-withdraw",
    bytes: rawUpdate([ORIGIN, AS_PATH], NLRI),
    expect: { actions: ["treat-as-withdraw"], subcodes: [3] },
  },
  {
    description: "NLRI with no attributes at all → treat-as-withdraw",
    bytes: rawUpdate([], NLRI),
    expect: { actions: ["treat-as-withdraw", "treat-as-withdraw", "treat-as-withdraw"] },
  },
  {
    description: "MP_REACH_NLRI only needs ORIGIN and AS_PATH, not NEXT_HOP",
    bytes: rawUpdate([V6_NLRI_MP_REACH, ORIGIN, AS_PATH]),
    expect: { actions: [] },
  },
  {
    description: "a withdrawal needs no attributes",
    bytes: rawUpdate([], "", "18 c63364"),
    expect: { actions: [] },
  },
  // 4 attribute length framing
  {
    description: "attribute overrunning the attributes field → treat-as-withdraw",
    bytes: rawUpdate([...MANDATORY, hex("c0 08 08 fde90064")], NLRI),
    expect: { actions: ["treat-as-withdraw"], subcodes: [5] },
  },
  {
    description: "two trailing bytes that cannot hold an attribute header → treat-as-withdraw",
    bytes: rawUpdate([...MANDATORY, hex("c0 08")], NLRI),
    expect: { actions: ["treat-as-withdraw"], subcodes: [1] },
  },
  {
    description: "extended-length header cut short → treat-as-withdraw",
    bytes: rawUpdate([...MANDATORY, hex("d0 08 00")], NLRI),
    expect: { actions: ["treat-as-withdraw"] },
  },
  // Field lengths and NLRI syntax (RFC 4271 6.3, RFC 7606 5.3)
  {
    description: "withdrawn routes length past the message → session reset (Malformed Attribute List)",
    bytes: message(2, "0010 0000"),
    expect: { reset: 1 },
  },
  {
    description: "total attribute length past the message → session reset",
    bytes: message(2, "0000 0010 400101"),
    expect: { reset: 1 },
  },
  {
    description: "IPv4 NLRI prefix length 33 → session reset (Invalid Network Field)",
    bytes: rawUpdate(MANDATORY, "21 c6336407 00"),
    expect: { reset: 10 },
  },
  {
    description: "IPv4 NLRI prefix overrun → session reset",
    bytes: rawUpdate(MANDATORY, "20 c63364"),
    expect: { reset: 10 },
  },
  {
    description: "withdrawn prefix overrun → session reset",
    bytes: rawUpdate([], "", "18 c633"),
    expect: { reset: 10 },
  },
];

describe("UPDATE error handling (RFC 4271 6.3 as revised by RFC 7606)", () => {
  for (const c of recoveryCases) {
    it(c.description, () => {
      const r = decodeMessage(c.bytes, { fourOctetAs: c.fourOctetAs ?? true, external: c.external ?? false });
      if ("reset" in c.expect) {
        expectError(r, 3, c.expect.reset, c.expect.data);
        return;
      }
      if (!r.ok) throw new Error(`unexpected session reset: ${r.error.message}`);
      expect(r.problems.map((p) => p.action)).toEqual(c.expect.actions);
      if (c.expect.subcodes !== undefined)
        expect(r.problems.map((p) => p.subcode)).toEqual(c.expect.subcodes);
      expect(r.treatAsWithdraw).toBe(c.expect.actions.includes("treat-as-withdraw"));
      c.check?.(r);
    });
  }

  it("treat-as-withdraw lists every prefix the UPDATE mentions, of every family", () => {
    const bytes = rawUpdate(
      [
        V6_NLRI_MP_REACH,
        attr(0x80, 15, "0002 01 40 20010db800020000"),
        ORIGIN,
        attr(0x40, 2, "02 00"),
        NEXT_HOP,
      ],
      NLRI,
      "18 cb0071",
    );
    const r = decodeMessage(bytes);
    if (!r.ok || r.message.type !== "update") throw new Error("expected an UPDATE");
    expect(r.treatAsWithdraw).toBe(true);
    expect(prefixesOf(r.message).map((p) => `${p.family}/${p.prefixLength}`)).toEqual([
      "IPv4/24",
      "IPv4/32",
      "IPv6/64",
      "IPv6/128",
    ]);
  });

  it("every BgpProtocolError carries a stable text code", () => {
    const r = decodeMessage(rawUpdate([V6_NLRI_MP_REACH, V6_NLRI_MP_REACH]));
    expect(!r.ok && r.error.code).toBe("UPDATE_MESSAGE_ERROR/MALFORMED_ATTRIBUTE_LIST");
    expect(!r.ok && r.error.name).toBe("BgpProtocolError");
  });
});
