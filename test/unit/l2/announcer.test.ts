import { describe, expect, it } from "vitest";
import { decodeArp, encodeArp } from "../../../src/l2/codec/arp.js";
import { decodeEthernet, encodeEthernet, ETHERTYPE_ARP } from "../../../src/l2/codec/ethernet.js";
import { solicitedNodeAddress } from "../../../src/l2/codec/ipv6.js";
import { BROADCAST_MAC, ZERO_MAC } from "../../../src/l2/codec/mac.js";
import {
  decodeNdp,
  encodeNeighborAdvertisement,
  encodeNeighborSolicitation,
} from "../../../src/l2/codec/ndp.js";
import { ALL_NODES_IPV6 } from "../../../src/l2/codec/ipv6.js";
import {
  Announcer,
  AnnouncerClosedError,
  type AnnouncerFrame,
  type AnnouncerIcmp6,
  type AnnouncerIO,
  type AnnouncerMetrics,
  type PortCallbacks,
} from "../../../src/l2/announcer.js";
import {
  planAnnouncer,
  type ActiveInterface,
  type AnnouncerLink,
  type InterfaceAnnouncements,
} from "../../../src/l2/announcerPlan.js";
import { formatIP, parseIP, type IPAddr } from "../../../src/net/ip.js";
import { ManualClock } from "../../../src/runtime/clock.js";

const ip = parseIP;
const VIP4 = ip("192.0.2.200");
const VIP4B = ip("192.0.2.201");
const VIP6 = ip("2001:db8:1::200");
const CLIENT4 = ip("192.0.2.10");
const CLIENT6 = ip("2001:db8:1::10");
const CLIENT_MAC = "02:00:5e:00:53:0a";

const eth0: AnnouncerLink = {
  name: "eth0",
  ifindex: 2,
  mac: "02:00:5e:00:53:02",
  linkLocal: ip("fe80::2"),
};
const eth1: AnnouncerLink = {
  name: "eth1",
  ifindex: 3,
  mac: "02:00:5e:00:53:03",
  linkLocal: ip("fe80::3"),
};
const noLinkLocal: AnnouncerLink = { name: "eth2", ifindex: 4, mac: "02:00:5e:00:53:04" };

const on = (link: AnnouncerLink, ...ips: IPAddr[]): InterfaceAnnouncements => ({ link, ips });
const placed = (list: readonly { ifname: string; ip: IPAddr }[]): string[] =>
  list.map((p) => `${p.ifname} ${formatIP(p.ip)}`);

// ---------------------------------------------------------------------------------------------
// The plan

describe("planAnnouncer", () => {
  const active = (
    link: AnnouncerLink,
    ports: ("arp" | "ndp")[],
    ...ips: IPAddr[]
  ): [string, ActiveInterface] => [
    link.name,
    { link, ports: new Set(ports), ips: new Map(ips.map((a) => [formatIP(a), a])) },
  ];

  const cases: {
    description: string;
    active: [string, ActiveInterface][];
    desired: InterfaceAnnouncements[];
    expected: { remove: string[]; close: string[]; open: string[]; add: string[]; unservable?: string[] };
  }[] = [
    {
      description: "from nothing: opens the families needed and adds every address",
      active: [],
      desired: [on(eth0, VIP4, VIP6), on(eth1, VIP4)],
      expected: {
        remove: [],
        close: [],
        open: ["eth0/arp", "eth0/ndp", "eth1/arp"],
        add: ["eth0 192.0.2.200", "eth0 2001:db8:1::200", "eth1 192.0.2.200"],
      },
    },
    {
      description: "unchanged: nothing to do",
      active: [active(eth0, ["arp"], VIP4)],
      desired: [on(eth0, VIP4)],
      expected: { remove: [], close: [], open: [], add: [] },
    },
    {
      description: "an address added to an open family needs no new socket",
      active: [active(eth0, ["arp"], VIP4)],
      desired: [on(eth0, VIP4, VIP4B)],
      expected: { remove: [], close: [], open: [], add: ["eth0 192.0.2.201"] },
    },
    {
      description: "the last IPv6 address gone closes the NDP socket only",
      active: [active(eth0, ["arp", "ndp"], VIP4, VIP6)],
      desired: [on(eth0, VIP4)],
      expected: { remove: ["eth0 2001:db8:1::200"], close: ["eth0/ndp"], open: [], add: [] },
    },
    {
      description: "an interface no longer wanted is closed with its addresses removed",
      active: [active(eth0, ["arp"], VIP4), active(eth1, ["arp"], VIP4)],
      desired: [on(eth0, VIP4)],
      expected: { remove: ["eth1 192.0.2.200"], close: ["eth1/arp"], open: [], add: [] },
    },
    {
      description: "a replaced link (new ifindex) is reopened and every address announced again",
      active: [active(eth0, ["arp"], VIP4)],
      desired: [on({ ...eth0, ifindex: 9 }, VIP4)],
      expected: {
        remove: ["eth0 192.0.2.200"],
        close: ["eth0/arp"],
        open: ["eth0/arp"],
        add: ["eth0 192.0.2.200"],
      },
    },
    {
      description: "a changed MAC also rebinds",
      active: [active(eth0, ["arp"], VIP4)],
      desired: [on({ ...eth0, mac: "02:00:5e:00:53:99" }, VIP4)],
      expected: {
        remove: ["eth0 192.0.2.200"],
        close: ["eth0/arp"],
        open: ["eth0/arp"],
        add: ["eth0 192.0.2.200"],
      },
    },
    {
      description: "IPv6 without a link-local address cannot be served there",
      active: [],
      desired: [on(noLinkLocal, VIP4, VIP6)],
      expected: {
        remove: [],
        close: [],
        open: ["eth2/arp"],
        add: ["eth2 192.0.2.200"],
        unservable: ["eth2 2001:db8:1::200"],
      },
    },
    {
      description: "a socket that failed to open is opened again with its addresses",
      active: [active(eth0, [])],
      desired: [on(eth0, VIP4)],
      expected: { remove: [], close: [], open: ["eth0/arp"], add: ["eth0 192.0.2.200"] },
    },
    {
      description: "the same interface listed twice merges its addresses",
      active: [],
      desired: [on(eth0, VIP4), on(eth0, VIP4B, VIP4)],
      expected: { remove: [], close: [], open: ["eth0/arp"], add: ["eth0 192.0.2.200", "eth0 192.0.2.201"] },
    },
  ];
  for (const c of cases) {
    it(c.description, () => {
      const plan = planAnnouncer(new Map(c.active), c.desired);
      expect({
        remove: placed(plan.remove),
        close: plan.close.map((p) => `${p.ifname}/${p.family}`),
        open: plan.open.map((p) => `${p.link.name}/${p.family}`),
        add: placed(plan.add),
      }).toEqual({
        remove: c.expected.remove,
        close: c.expected.close,
        open: c.expected.open,
        add: c.expected.add,
      });
      expect(placed(plan.unservable)).toEqual(c.expected.unservable ?? []);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Fakes

interface FakeArpPort {
  readonly link: AnnouncerLink;
  readonly sent: Buffer[];
  closed: boolean;
  callbacks: PortCallbacks<AnnouncerFrame>;
  failSends: boolean;
}

interface FakeNdpPort {
  readonly link: AnnouncerLink;
  readonly sent: { message: Buffer; destination: IPAddr; source: IPAddr }[];
  readonly groups: Map<string, number>;
  closed: boolean;
  callbacks: PortCallbacks<AnnouncerIcmp6>;
}

class FakeIO implements AnnouncerIO {
  readonly arp: FakeArpPort[] = [];
  readonly ndp: FakeNdpPort[] = [];
  failOpen = new Set<string>();

  openArp(link: AnnouncerLink, callbacks: PortCallbacks<AnnouncerFrame>) {
    if (this.failOpen.has(`${link.name}/arp`)) throw new Error("ENODEV");
    const port: FakeArpPort = { link, sent: [], closed: false, callbacks, failSends: false };
    this.arp.push(port);
    return {
      send: (frame: Uint8Array) => {
        if (port.failSends) throw new Error("ENETDOWN");
        port.sent.push(Buffer.from(frame));
      },
      close: () => {
        port.closed = true;
      },
    };
  }

  openNdp(link: AnnouncerLink, callbacks: PortCallbacks<AnnouncerIcmp6>) {
    if (this.failOpen.has(`${link.name}/ndp`)) throw new Error("ENODEV");
    const port: FakeNdpPort = { link, sent: [], groups: new Map(), closed: false, callbacks };
    this.ndp.push(port);
    return {
      send: (message: Uint8Array, destination: IPAddr, source: IPAddr) => {
        port.sent.push({ message: Buffer.from(message), destination, source });
      },
      joinGroup: (group: IPAddr) => {
        const key = formatIP(group);
        port.groups.set(key, (port.groups.get(key) ?? 0) + 1);
      },
      leaveGroup: (group: IPAddr) => {
        const key = formatIP(group);
        const n = (port.groups.get(key) ?? 0) - 1;
        if (n <= 0) port.groups.delete(key);
        else port.groups.set(key, n);
      },
      close: () => {
        port.closed = true;
      },
    };
  }

  openArpPort(ifname: string): FakeArpPort {
    const port = this.arp.find((p) => p.link.name === ifname && !p.closed);
    if (port === undefined) throw new Error(`no open ARP port on ${ifname}`);
    return port;
  }

  openNdpPort(ifname: string): FakeNdpPort {
    const port = this.ndp.find((p) => p.link.name === ifname && !p.closed);
    if (port === undefined) throw new Error(`no open NDP port on ${ifname}`);
    return port;
  }
}

class RecordingMetrics implements AnnouncerMetrics {
  readonly events: string[] = [];
  requestReceived(ip: string, ifname: string): void {
    this.events.push(`request ${ip} ${ifname}`);
  }
  responseSent(ip: string, ifname: string): void {
    this.events.push(`response ${ip} ${ifname}`);
  }
  gratuitousSent(ip: string): void {
    this.events.push(`gratuitous ${ip}`);
  }
  claimSeen(ip: string, ifname: string): void {
    this.events.push(`claim ${ip} ${ifname}`);
  }
  dropped(protocol: string, reason: string): void {
    this.events.push(`dropped ${protocol} ${reason}`);
  }
  sendFailed(ifname: string, kind: string): void {
    this.events.push(`send-failed ${ifname} ${kind}`);
  }
  count(prefix: string): number {
    return this.events.filter((e) => e.startsWith(prefix)).length;
  }
}

function setup(offsets: number[] = [0, 500, 1000]) {
  const clock = new ManualClock(1000);
  const io = new FakeIO();
  const metrics = new RecordingMetrics();
  const portErrors: string[] = [];
  const announcer = new Announcer({
    io,
    clock,
    metrics,
    takeoverOffsetsMs: offsets,
    onPortError: (ifname, family, error) => portErrors.push(`${ifname}/${family}: ${error.message}`),
  });
  return { clock, io, metrics, announcer, portErrors };
}

function arpRequest(target: IPAddr, destination = BROADCAST_MAC): Buffer {
  return encodeEthernet({
    destination,
    source: CLIENT_MAC,
    etherType: ETHERTYPE_ARP,
    payload: encodeArp({
      operation: "request",
      senderMac: CLIENT_MAC,
      senderIp: CLIENT4,
      targetMac: ZERO_MAC,
      targetIp: target,
    }),
  });
}

function neighborSolicitation(target: IPAddr): AnnouncerIcmp6 {
  const destination = solicitedNodeAddress(target);
  return {
    data: encodeNeighborSolicitation(
      { target, sourceLinkLayer: CLIENT_MAC },
      { source: CLIENT6, destination },
    ),
    source: CLIENT6,
    destination,
    hopLimit: 255,
  };
}

function arpOf(frame: Buffer) {
  const ethernet = decodeEthernet(frame);
  if (!ethernet.ok) throw new Error(ethernet.detail);
  const arp = decodeArp(ethernet.value.payload);
  if (!arp.ok) throw new Error(arp.detail);
  return { destination: ethernet.value.destination, ...arp.value };
}

// ---------------------------------------------------------------------------------------------
// The announcer

describe("Announcer", () => {
  it("answers an ARP request for an announced address on its interface and counts it", async () => {
    const { io, metrics, announcer, clock } = setup();
    announcer.apply([on(eth0, VIP4)]);
    await clock.advance(2000);
    const port = io.openArpPort("eth0");
    port.sent.length = 0;
    port.callbacks.onReceive([{ data: arpRequest(VIP4) }]);
    expect(port.sent).toHaveLength(1);
    expect(arpOf(port.sent[0] ?? Buffer.alloc(0))).toMatchObject({
      operation: "reply",
      senderMac: eth0.mac,
      senderIp: VIP4,
      targetMac: CLIENT_MAC,
      targetIp: CLIENT4,
      destination: CLIENT_MAC,
    });
    expect(metrics.events).toContain("request 192.0.2.200 eth0");
    expect(metrics.events).toContain("response 192.0.2.200 eth0");
  });

  it("does not answer for an address announced only on another interface", () => {
    const { io, metrics, announcer } = setup();
    announcer.apply([on(eth0, VIP4), on(eth1, VIP4B)]);
    const port = io.openArpPort("eth0");
    const before = port.sent.length;
    port.callbacks.onReceive([{ data: arpRequest(VIP4B) }]);
    expect(port.sent.length).toBe(before);
    expect(metrics.events).toContain("dropped arp not-announced");
  });

  it("drops malformed frames with a reason and keeps answering the rest of the batch", () => {
    const { io, metrics, announcer } = setup();
    announcer.apply([on(eth0, VIP4)]);
    const port = io.openArpPort("eth0");
    port.sent.length = 0;
    port.callbacks.onReceive([
      { data: Buffer.alloc(5) },
      { data: arpRequest(VIP4).subarray(0, 30) },
      { data: arpRequest(VIP4) },
    ]);
    expect(port.sent).toHaveLength(1);
    expect(metrics.events.filter((e) => e.startsWith("dropped"))).toEqual([
      "dropped arp truncated",
      "dropped arp truncated",
    ]);
  });

  it("counts a failed reply send and does not throw out of the receive callback", () => {
    const { io, metrics, announcer } = setup();
    announcer.apply([on(eth0, VIP4)]);
    const port = io.openArpPort("eth0");
    port.failSends = true;
    expect(() => {
      port.callbacks.onReceive([{ data: arpRequest(VIP4) }]);
    }).not.toThrow();
    expect(metrics.events).toContain("send-failed eth0 response");
    expect(metrics.count("response")).toBe(0);
  });

  it("answers a Neighbor Solicitation from the link-local address and joins the solicited-node group", () => {
    const { io, metrics, announcer } = setup();
    announcer.apply([on(eth0, VIP6)]);
    const port = io.openNdpPort("eth0");
    expect([...port.groups.keys()]).toEqual([formatIP(solicitedNodeAddress(VIP6))]);
    port.sent.length = 0;
    port.callbacks.onReceive([neighborSolicitation(VIP6)]);
    expect(port.sent).toHaveLength(1);
    const sent = port.sent[0];
    if (sent === undefined) throw new Error("nothing sent");
    expect(sent.source).toEqual(eth0.linkLocal);
    expect(sent.destination).toEqual(CLIENT6);
    expect(decodeNdp(sent.message, { ...sent, hopLimit: 255 })).toMatchObject({
      ok: true,
      value: {
        kind: "neighbor-advertisement",
        target: VIP6,
        solicited: true,
        override: true,
        targetLinkLayer: eth0.mac,
      },
    });
    expect(metrics.events).toContain("response 2001:db8:1::200 eth0");
    expect(io.arp).toHaveLength(0);
  });

  it("takes over at once with both gratuitous ARP forms and repeats them on the schedule", async () => {
    const { io, metrics, announcer, clock } = setup([0, 500, 1000]);
    announcer.apply([on(eth0, VIP4)]);
    const port = io.openArpPort("eth0");
    await clock.advance(0);
    expect(port.sent.map((f) => arpOf(f))).toMatchObject([
      {
        operation: "request",
        senderIp: VIP4,
        targetIp: VIP4,
        targetMac: ZERO_MAC,
        destination: BROADCAST_MAC,
      },
      { operation: "reply", senderIp: VIP4, targetIp: VIP4, targetMac: eth0.mac, destination: BROADCAST_MAC },
    ]);
    await clock.advance(499);
    expect(port.sent).toHaveLength(2);
    await clock.advance(1);
    expect(port.sent).toHaveLength(4);
    await clock.advance(500);
    expect(port.sent).toHaveLength(6);
    expect(announcer.takeoverPending("eth0", VIP4)).toBe(false);
    await clock.advance(10_000);
    expect(port.sent).toHaveLength(6);
    expect(metrics.count("gratuitous 192.0.2.200")).toBe(6);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("sends unsolicited NAs with Override to all-nodes on takeover of an IPv6 address", async () => {
    const { io, announcer, clock } = setup([0, 500]);
    announcer.apply([on(eth0, VIP6)]);
    await clock.advance(1000);
    const port = io.openNdpPort("eth0");
    expect(port.sent).toHaveLength(2);
    for (const sent of port.sent) {
      expect(formatIP(sent.destination)).toBe("ff02::1");
      expect(decodeNdp(sent.message, { ...sent, hopLimit: 255 })).toMatchObject({
        ok: true,
        value: { target: VIP6, solicited: false, override: true, targetLinkLayer: eth0.mac },
      });
    }
  });

  it("stops the takeover announcements when the address is no longer ours", async () => {
    const { io, announcer, clock } = setup([0, 500, 1000]);
    announcer.apply([on(eth0, VIP4, VIP4B)]);
    await clock.advance(0);
    const port = io.openArpPort("eth0");
    expect(port.sent).toHaveLength(4);
    announcer.apply([on(eth0, VIP4B)]);
    expect(announcer.takeoverPending("eth0", VIP4)).toBe(false);
    await clock.advance(2000);
    const targets = port.sent.slice(4).map((f) => formatIP(arpOf(f).senderIp));
    expect(targets).toEqual(Array(4).fill("192.0.2.201"));
    // and no longer answers for it
    const before = port.sent.length;
    port.callbacks.onReceive([{ data: arpRequest(VIP4) }]);
    expect(port.sent.length).toBe(before);
  });

  it("announces again when a link is replaced, on the new socket", async () => {
    const { io, announcer, clock } = setup([0]);
    announcer.apply([on(eth0, VIP4)]);
    await clock.advance(0);
    const replaced = { ...eth0, ifindex: 12 };
    announcer.apply([on(replaced, VIP4)]);
    await clock.advance(0);
    expect(io.arp.map((p) => [p.link.ifindex, p.closed, p.sent.length])).toEqual([
      [2, true, 2],
      [12, false, 2],
    ]);
  });

  it("leaves the solicited-node group when the IPv6 address goes and closes idle sockets", () => {
    const { io, announcer } = setup();
    const VIP6B = ip("2001:db8:1::201");
    announcer.apply([on(eth0, VIP6, VIP6B, VIP4)]);
    const port = io.openNdpPort("eth0");
    expect(port.groups.size).toBe(2);
    announcer.apply([on(eth0, VIP6B, VIP4)]);
    expect([...port.groups.keys()]).toEqual([formatIP(solicitedNodeAddress(VIP6B))]);
    announcer.apply([on(eth0, VIP4)]);
    expect(port.closed).toBe(true);
    announcer.apply([]);
    expect(io.arp.every((p) => p.closed)).toBe(true);
    expect(announcer.snapshot().size).toBe(0);
  });

  it("reports where each address is answered", () => {
    const { announcer } = setup();
    announcer.apply([on(eth1, VIP4, VIP6), on(eth0, VIP4), on(noLinkLocal, VIP6)]);
    expect(announcer.interfacesFor(VIP4)).toEqual(["eth0", "eth1"]);
    expect(announcer.interfacesFor(VIP6)).toEqual(["eth1"]);
    expect(Object.fromEntries(announcer.snapshot())).toEqual({
      "192.0.2.200": ["eth0", "eth1"],
      "2001:db8:1::200": ["eth1"],
    });
  });

  it("retries a socket that failed to open, with backoff, and then announces", async () => {
    const { io, announcer, clock } = setup([0]);
    io.failOpen.add("eth0/arp");
    announcer.apply([on(eth0, VIP4)]);
    expect(announcer.interfacesFor(VIP4)).toEqual([]);
    await clock.advance(400);
    io.failOpen.clear();
    await clock.advance(2000);
    expect(announcer.interfacesFor(VIP4)).toEqual(["eth0"]);
    expect(io.openArpPort("eth0").sent).toHaveLength(2);
  });

  it("passes socket errors to the caller's hook", () => {
    const { io, announcer, portErrors } = setup();
    announcer.apply([on(eth0, VIP4)]);
    io.openArpPort("eth0").callbacks.onError(new Error("ENETDOWN"));
    expect(portErrors).toEqual(["eth0/arp: ENETDOWN"]);
  });

  it("close() stops everything and refuses further use", async () => {
    const { io, announcer, clock } = setup();
    announcer.apply([on(eth0, VIP4, VIP6)]);
    announcer.close();
    expect([...io.arp, ...io.ndp].every((p) => p.closed)).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(5000);
    expect(io.openArpPort.bind(io, "eth0")).toThrow();
    expect(() => announcer.apply([])).toThrow(AnnouncerClosedError);
    announcer.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Failback: nothing is said about an address once it is not ours; claims by others are answered

const OTHER_MAC = "02:00:5e:00:53:09";

function foreignGratuitousArp(target: IPAddr): Buffer {
  return encodeEthernet({
    destination: BROADCAST_MAC,
    source: OTHER_MAC,
    etherType: ETHERTYPE_ARP,
    payload: encodeArp({
      operation: "request",
      senderMac: OTHER_MAC,
      senderIp: target,
      targetMac: ZERO_MAC,
      targetIp: target,
    }),
  });
}

function foreignAdvertisement(target: IPAddr): AnnouncerIcmp6 {
  const addressing = { source: ip("fe80::9"), destination: ALL_NODES_IPV6, hopLimit: 255 };
  return {
    data: encodeNeighborAdvertisement(
      { target, solicited: false, override: true, targetLinkLayer: OTHER_MAC },
      addressing,
    ),
    ...addressing,
  };
}

/** Takeover packets sent for `target`, as times (ms after the start) of each send. */
function sendTimes(log: { at: number; ip: string }[], target: IPAddr): number[] {
  return log.filter((e) => e.ip === formatIP(target)).map((e) => e.at);
}

describe("Announcer: takeover repeats end the moment the address stops being ours", () => {
  // Offsets 0, 500, 1000, 2000, 4000 (the defaults); the address goes at `removeAt` ms.
  const cases: { description: string; removeAt: number; how: "apply" | "link-gone"; expected: number[] }[] = [
    {
      description: "removed before the first repeat: only the initial send",
      removeAt: 100,
      how: "apply",
      expected: [0],
    },
    {
      description: "removed at the very instant a repeat is due: that repeat is not sent",
      removeAt: 2000,
      how: "apply",
      expected: [0, 500, 1000],
    },
    { description: "removed between repeats", removeAt: 3000, how: "apply", expected: [0, 500, 1000, 2000] },
    {
      description: "the interface leaves the plan (link down): no repeat on it",
      removeAt: 700,
      how: "link-gone",
      expected: [0, 500],
    },
  ];
  for (const c of cases) {
    it(c.description, async () => {
      const { io, announcer, clock, metrics } = setup([0, 500, 1000, 2000, 4000]);
      const start = clock.now();
      const log: { at: number; ip: string }[] = [];
      const original = metrics.gratuitousSent.bind(metrics);
      metrics.gratuitousSent = (sent: string) => {
        log.push({ at: clock.now() - start, ip: sent });
        original(sent);
      };
      announcer.apply([on(eth0, VIP4, VIP4B)]);
      // A removal scheduled before the takeover timer for the same instant runs first.
      clock.setTimeout(() => {
        announcer.apply(c.how === "apply" ? [on(eth0, VIP4B)] : []);
      }, c.removeAt);
      await clock.advance(10_000);
      // Each send is one request and one reply form.
      expect(sendTimes(log, VIP4).filter((_, i) => i % 2 === 0)).toEqual(c.expected);
      expect(announcer.takeoverPending("eth0", VIP4)).toBe(false);
      expect(io.arp.length).toBeGreaterThan(0);
    });
  }

  it("a late timer checks what is ours at send time, not what was scheduled", async () => {
    const { io, announcer, clock } = setup([0, 500]);
    announcer.apply([on(eth0, VIP4)]);
    await clock.advance(0);
    const port = io.openArpPort("eth0");
    expect(port.sent).toHaveLength(2);
    // Gone and back on another interface before the repeat is due: nothing more on eth0.
    announcer.apply([on(eth1, VIP4)]);
    await clock.advance(2000);
    expect(port.sent).toHaveLength(2);
    expect(io.openArpPort("eth1").sent).toHaveLength(4);
  });
});

describe("Announcer: another host claiming one of our addresses", () => {
  /** An announcer (one send per takeover) that announces `vip` on eth0 and has finished its takeover. */
  async function announcingAfterTakeover(vip: IPAddr) {
    const parts = setup([0]);
    parts.announcer.apply([on(eth0, vip)]);
    await parts.clock.advance(5000);
    return parts;
  }

  it("re-announces at once, and after the hold-off for a claim during it (IPv4)", async () => {
    const { io, clock, metrics } = await announcingAfterTakeover(VIP4);
    const port = io.openArpPort("eth0");
    port.sent.length = 0;
    port.callbacks.onReceive([{ data: foreignGratuitousArp(VIP4) }]);
    await clock.advance(0);
    expect(
      port.sent.map((f) => arpOf(f)).map((a) => `${a.operation} ${formatIP(a.senderIp)} ${a.senderMac}`),
    ).toEqual([`request 192.0.2.200 ${eth0.mac}`, `reply 192.0.2.200 ${eth0.mac}`]);
    expect(metrics.count("claim 192.0.2.200 eth0")).toBe(1);
    // A second claim 300 ms later is answered when the hold-off ends, not before.
    await clock.advance(300);
    port.callbacks.onReceive([{ data: foreignGratuitousArp(VIP4) }]);
    await clock.advance(699);
    expect(port.sent).toHaveLength(2);
    await clock.advance(1);
    expect(port.sent).toHaveLength(4);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("re-announces an IPv6 address claimed by another host's advertisement, which is never answered", async () => {
    const { io, clock, metrics } = await announcingAfterTakeover(VIP6);
    const port = io.openNdpPort("eth0");
    port.sent.length = 0;
    port.callbacks.onReceive([foreignAdvertisement(VIP6)]);
    await clock.advance(0);
    expect(port.sent).toHaveLength(1);
    const [sent] = port.sent;
    if (sent === undefined) throw new Error("nothing sent");
    expect(decodeNdp(sent.message, { ...sent, hopLimit: 255 })).toMatchObject({
      ok: true,
      value: { kind: "neighbor-advertisement", target: VIP6, override: true, targetLinkLayer: eth0.mac },
    });
    expect(metrics.count("dropped")).toBe(0);
  });

  it("does not defend an address that stopped being ours before the defence was due", async () => {
    const { io, announcer, clock } = await announcingAfterTakeover(VIP4);
    const port = io.openArpPort("eth0");
    port.callbacks.onReceive([{ data: foreignGratuitousArp(VIP4) }]);
    await clock.advance(0);
    port.callbacks.onReceive([{ data: foreignGratuitousArp(VIP4) }]); // defence due in 1 s
    const sent = port.sent.length;
    announcer.apply([]);
    expect(announcer.takeoverPending("eth0", VIP4)).toBe(false);
    await clock.advance(5000);
    expect(port.sent).toHaveLength(sent);
  });

  it("ignores claims for addresses it does not announce", async () => {
    const { io, clock, metrics } = await announcingAfterTakeover(VIP4);
    const port = io.openArpPort("eth0");
    port.sent.length = 0;
    port.callbacks.onReceive([{ data: foreignGratuitousArp(VIP4B) }]);
    await clock.advance(5000);
    expect(port.sent).toHaveLength(0);
    expect(metrics.count("claim")).toBe(0);
  });

  it("reassertAll announces every address it holds again at once, then keeps the hold-off", async () => {
    const { io, announcer, clock } = await announcingAfterTakeover(VIP4);
    const port = io.openArpPort("eth0");
    port.sent.length = 0;
    announcer.reassertAll();
    await clock.advance(0);
    expect(
      port.sent.map((f) => arpOf(f)).map((a) => `${a.operation} ${formatIP(a.senderIp)} ${a.senderMac}`),
    ).toEqual([`request 192.0.2.200 ${eth0.mac}`, `reply 192.0.2.200 ${eth0.mac}`]);
    // A claim right after is answered when the hold-off ends, so we still have the last word.
    port.callbacks.onReceive([{ data: foreignGratuitousArp(VIP4) }]);
    await clock.advance(999);
    expect(port.sent).toHaveLength(2);
    await clock.advance(1);
    expect(port.sent).toHaveLength(4);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("reassertAll says nothing about addresses that are no longer ours", async () => {
    const { io, announcer, clock } = await announcingAfterTakeover(VIP4);
    const port = io.openArpPort("eth0");
    announcer.apply([]);
    port.sent.length = 0;
    announcer.reassertAll();
    await clock.advance(5000);
    expect(port.sent).toHaveLength(0);
  });
});
