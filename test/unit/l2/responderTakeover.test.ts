import { describe, expect, it } from "vitest";
import { parseIP } from "../../../src/net/ip.js";
import { decodeArp } from "../../../src/l2/codec/arp.js";
import { decodeEthernet, ETHERTYPE_ARP } from "../../../src/l2/codec/ethernet.js";
import { pseudoHeaderChecksum, NEXT_HEADER_ICMPV6 } from "../../../src/l2/codec/ipv6.js";
import { decodeNdp } from "../../../src/l2/codec/ndp.js";
import {
  DEFAULT_TAKEOVER_OFFSETS_MS,
  gratuitousArp,
  TakeoverSchedule,
  TakeoverScheduleError,
  unsolicitedAdvertisement,
} from "../../../src/l2/responderTakeover.js";

const MAC = "02:00:5e:00:53:01";
const VIP4 = parseIP("192.0.2.200");
const VIP6 = parseIP("2001:db8:1::200");
const LINK_LOCAL = parseIP("fe80::5eff:fe00:5301");

describe("gratuitous ARP", () => {
  const cases: [string, "request" | "reply", string][] = [
    ["request form: an RFC 5227 announcement (target MAC zero)", "request", "00:00:00:00:00:00"],
    ["reply form: target MAC repeats ours", "reply", MAC],
  ];
  for (const [description, form, targetMac] of cases) {
    it(`builds the ${description}`, () => {
      const ethernet = decodeEthernet(gratuitousArp(MAC, VIP4, form));
      if (!ethernet.ok) throw new Error(ethernet.detail);
      expect(ethernet.value).toMatchObject({
        destination: "ff:ff:ff:ff:ff:ff",
        source: MAC,
        etherType: ETHERTYPE_ARP,
      });
      expect(decodeArp(ethernet.value.payload)).toEqual({
        ok: true,
        value: { operation: form, senderMac: MAC, senderIp: VIP4, targetMac, targetIp: VIP4 },
      });
    });
  }
});

describe("unsolicited Neighbor Advertisement", () => {
  it("goes to all-nodes with Override set, Solicited clear and our MAC", () => {
    const na = unsolicitedAdvertisement(MAC, VIP6, LINK_LOCAL);
    expect(na).toMatchObject({ source: LINK_LOCAL, destination: parseIP("ff02::1"), hopLimit: 255 });
    expect(decodeNdp(na.message, na)).toEqual({
      ok: true,
      value: {
        kind: "neighbor-advertisement",
        target: VIP6,
        router: false,
        solicited: false,
        override: true,
        targetLinkLayer: MAC,
        source: LINK_LOCAL,
        destination: parseIP("ff02::1"),
        hopLimit: 255,
      },
    });
    expect(pseudoHeaderChecksum(na.source, na.destination, NEXT_HEADER_ICMPV6, na.message)).toBe(0);
  });
});

describe("TakeoverSchedule", () => {
  /** Wakes at every ms in [0, until] and records when `key` was due. */
  function sendTimes(schedule: TakeoverSchedule, key: string, until: number, step = 1): number[] {
    const times: number[] = [];
    for (let now = 0; now <= until; now += step) if (schedule.due(now).includes(key)) times.push(now);
    return times;
  }

  it("sends at once and then at 0.5, 1, 2 and 4 seconds by default", () => {
    const schedule = new TakeoverSchedule();
    schedule.start("eth0|192.0.2.200", 0);
    expect(sendTimes(schedule, "eth0|192.0.2.200", 10_000)).toEqual([0, 500, 1000, 2000, 4000]);
    expect(DEFAULT_TAKEOVER_OFFSETS_MS).toEqual([0, 500, 1000, 2000, 4000]);
    expect(schedule.isActive("eth0|192.0.2.200")).toBe(false);
    expect(schedule.nextDueAt()).toBeUndefined();
  });

  it("tells when to wake up next", () => {
    const schedule = new TakeoverSchedule([0, 300]);
    schedule.start("a", 1000);
    expect(schedule.nextDueAt()).toBe(1000);
    expect(schedule.due(1000)).toEqual(["a"]);
    expect(schedule.nextDueAt()).toBe(1300);
    expect(schedule.due(1299)).toEqual([]);
    expect(schedule.due(1300)).toEqual(["a"]);
    expect(schedule.nextDueAt()).toBeUndefined();
  });

  it("stops sending as soon as the address is no longer ours", () => {
    const schedule = new TakeoverSchedule();
    schedule.start("a", 0);
    expect(schedule.due(0)).toEqual(["a"]);
    schedule.stop("a");
    expect(sendTimes(schedule, "a", 10_000, 50)).toEqual([]);
  });

  it("merges sends missed by a late wake-up into one, never a burst", () => {
    const schedule = new TakeoverSchedule();
    schedule.start("a", 0);
    expect(schedule.due(2500)).toEqual(["a"]); // 0, 500, 1000 and 2000 were all due
    expect(schedule.due(2600)).toEqual([]);
    expect(schedule.nextDueAt()).toBe(4000);
  });

  it("restarts from the beginning when the address becomes ours again", () => {
    const schedule = new TakeoverSchedule([0, 1000]);
    schedule.start("a", 0);
    schedule.due(0);
    schedule.start("a", 600);
    expect(schedule.due(600)).toEqual(["a"]); // at once again
    expect(schedule.due(1000)).toEqual([]); // the old schedule's second send is gone
    expect(schedule.nextDueAt()).toBe(1600);
  });

  it("keeps keys independent", () => {
    const schedule = new TakeoverSchedule([0, 100]);
    schedule.start("a", 0);
    schedule.start("b", 50);
    expect(schedule.due(50).sort()).toEqual(["a", "b"]);
    expect(schedule.due(100)).toEqual(["a"]);
    expect(schedule.due(150)).toEqual(["b"]);
  });

  const invalid: [string, number[]][] = [
    ["no sends", []],
    ["a negative offset", [-1, 100]],
    ["offsets out of order", [0, 500, 400]],
    ["a repeated offset", [0, 500, 500]],
    ["NaN", [0, Number.NaN]],
  ];
  for (const [description, offsets] of invalid) {
    it(`rejects ${description}`, () => {
      expect(() => new TakeoverSchedule(offsets)).toThrow(TakeoverScheduleError);
    });
  }
});
