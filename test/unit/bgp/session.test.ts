import { afterEach, describe, expect, it } from "vitest";
import { BgpSession, type SessionObserver } from "../../../src/bgp/session.js";
import type { FsmConfig, SessionState, DownReason } from "../../../src/bgp/fsm.js";
import type { Advertisement } from "../../../src/bgp/adjRibOut.js";
import {
  buildOpen,
  encodeMessage,
  endOfRibFamily,
  formatAfiSafi,
  IPV4_UNICAST,
  IPV6_UNICAST,
  shutdownCommunicationOf,
  type BgpMessage,
  type Capability,
  type UpdateMessage,
} from "../../../src/bgp/codec/index.js";
import type { Negotiated } from "../../../src/bgp/negotiation.js";
import { createPipe, FakeClock, MemoryNetwork, ScriptedPeer } from "./fakes.js";
import { attr, cidr, ip, rawUpdate } from "./helpers.js";

const A_ADDR = "192.0.2.10";
const B_ADDR = "192.0.2.1";
const ID_A = 0xc000020a;
const ID_B = 0xc0000201;

function baseConfig(over: Partial<FsmConfig>): FsmConfig {
  return {
    localAs: 64512,
    peerAs: 64513,
    routerId: ID_A,
    holdTimeSeconds: 90,
    families: [IPV4_UNICAST, IPV6_UNICAST],
    passive: false,
    connectBackoff: { initialMs: 2000, maxMs: 16_000, multiplier: 2, jitter: 0 },
    ...over,
  };
}

/** What a session reported through its observer. */
interface Recorder {
  states: SessionState[];
  established: Negotiated[];
  downs: DownReason[];
  sent: BgpMessage[];
  received: BgpMessage[];
  problems: string[][];
}

function recordingObserver(r: Recorder): SessionObserver {
  return {
    stateChanged: (_from, to) => r.states.push(to),
    established: (n) => r.established.push(n),
    down: (reason) => r.downs.push(reason),
    messageSent: (m) => r.sent.push(m),
    messageReceived: (m) => r.received.push(m),
    updateProblems: (p) => r.problems.push(p.map((x) => x.action)),
  };
}

interface Speaker {
  session: BgpSession;
  obs: Recorder;
  clock: ReturnType<FakeClock["scope"]>;
}

const sessions: BgpSession[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.stop();
});

function speaker(
  clock: FakeClock,
  net: MemoryNetwork,
  local: string,
  remote: string,
  config: Partial<FsmConfig>,
  extra: { restarting?: boolean; nextHopV6?: string; listen?: boolean } = {},
): Speaker {
  const obs: Recorder = { states: [], established: [], downs: [], sent: [], received: [], problems: [] };
  const scoped = clock.scope();
  const full = baseConfig(config);
  const session = new BgpSession({
    config: full,
    clock: scoped,
    ...(full.passive ? {} : { dialer: net.dialer(local, remote) }),
    random: () => 0,
    ...(extra.restarting === undefined ? {} : { restarting: extra.restarting }),
    ...(extra.nextHopV6 === undefined ? {} : { nextHops: { ipv6: ip(extra.nextHopV6) } }),
    observer: recordingObserver(obs),
  });
  if (extra.listen !== false) net.listen(local, session);
  sessions.push(session);
  return { session, obs, clock: scoped };
}

function pair(over: { a?: Partial<FsmConfig>; b?: Partial<FsmConfig>; acceptDelayMs?: number } = {}) {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock, over.acceptDelayMs);
  const a = speaker(clock, net, A_ADDR, B_ADDR, { ...over.a }, { nextHopV6: "2001:db8:1::10" });
  const b = speaker(clock, net, B_ADDR, A_ADDR, { localAs: 64513, peerAs: 64512, routerId: ID_B, ...over.b });
  return { clock, net, a, b };
}

const updates = (msgs: BgpMessage[]): UpdateMessage[] =>
  msgs.filter((m): m is UpdateMessage => m.type === "update");
const eors = (msgs: BgpMessage[]): string[] =>
  updates(msgs).flatMap((u) => {
    const f = endOfRibFamily(u);
    return f === undefined ? [] : [formatAfiSafi(f)];
  });

describe("two IronLB sessions over an in-memory pipe", () => {
  it("reach Established with the negotiated timers and families", async () => {
    const { clock, a, b } = pair({ b: { holdTimeSeconds: 30 } });
    a.session.start();
    b.session.start();
    await clock.advance(0);
    expect([a.session.state, b.session.state]).toEqual(["Established", "Established"]);
    expect(a.obs.states).toContain("OpenConfirm");
    for (const s of [a, b]) {
      expect(s.session.negotiated).toMatchObject({
        holdTimeMs: 30_000,
        keepaliveMs: 10_000,
        fourOctetAs: true,
        routeRefresh: true,
        external: true,
      });
      expect(s.session.negotiated?.families).toEqual([IPV4_UNICAST, IPV6_UNICAST]);
    }
    expect(a.obs.established).toHaveLength(1);
  });

  it("a passive side waits for the active one and never dials", async () => {
    const { clock, net, a, b } = pair({ b: { passive: true } });
    b.session.start();
    await clock.advance(10_000);
    expect(b.session.state).toBe("Active");
    a.session.start();
    await clock.advance(0);
    expect([a.session.state, b.session.state]).toEqual(["Established", "Established"]);
    expect(net.dials.map((d) => d.from)).toEqual([A_ADDR]);
  });

  for (const c of [
    { description: "our identifier is higher", routerId: ID_A },
    { description: "the peer's identifier is higher", routerId: 0x01000001 },
  ]) {
    it(`simultaneous dials converge on one connection both sides agree on (${c.description})`, async () => {
      const { clock, net, a, b } = pair({ acceptDelayMs: 5, a: { routerId: c.routerId } });
      a.session.start();
      b.session.start();
      await clock.advance(100);
      expect(net.dials.filter((d) => d.at === 0)).toHaveLength(2); // both dialled: the connections cross
      expect([a.session.state, b.session.state]).toEqual(["Established", "Established"]);
      const origins = [a.session.connectionOrigin, b.session.connectionOrigin];
      expect(new Set(origins)).toEqual(new Set(["local", "remote"]));
      const cease7 = (m: BgpMessage): boolean => m.type === "notification" && m.code === 6 && m.subcode === 7;
      expect([...a.obs.sent, ...b.obs.sent].filter(cease7).length).toBeGreaterThan(0);
      expect([...a.obs.downs, ...b.obs.downs]).toEqual([]);
      await clock.advance(300_000);
      expect([a.session.state, b.session.state]).toEqual(["Established", "Established"]);
    });
  }

  it("exchange UPDATEs: initial table and End-of-RIB, then only the differences", async () => {
    const { clock, a, b } = pair();
    const ads: Advertisement[] = [
      {
        prefix: cidr("198.51.100.7/32"),
        communities: [0xfde90064],
        largeCommunities: [{ globalAdmin: 64512, localData1: 1, localData2: 2 }],
      },
      {
        prefix: cidr("198.51.100.8/32"),
        communities: [0xfde90064],
        largeCommunities: [{ globalAdmin: 64512, localData1: 1, localData2: 2 }],
      },
      { prefix: cidr("2001:db8:100::7/128") },
    ];
    a.session.setAdvertisements(ads);
    a.session.start();
    b.session.start();
    await clock.advance(0);
    const initial = updates(b.obs.received);
    const v4 = initial.find((u) => u.nlri.length > 0);
    expect(v4?.nlri).toEqual([cidr("198.51.100.7/32"), cidr("198.51.100.8/32")]);
    expect(v4?.attributes).toMatchObject({
      origin: 0,
      asPath: [{ kind: "sequence", asns: [64512] }],
      nextHop: ip(A_ADDR),
      communities: [0xfde90064],
      largeCommunities: [{ globalAdmin: 64512, localData1: 1, localData2: 2 }],
    });
    expect(v4?.attributes.localPref).toBeUndefined();
    const v6 = initial.find((u) => u.attributes.mpReach !== undefined);
    expect(v6?.attributes.mpReach).toEqual({
      afi: 2,
      safi: 1,
      nextHops: [ip("2001:db8:1::10")],
      nlri: [cidr("2001:db8:100::7/128")],
    });
    expect(eors(b.obs.received)).toEqual(["ipv4-unicast", "ipv6-unicast"]);
    // B advertised nothing but still closes its table with End-of-RIB.
    expect(eors(a.obs.received)).toEqual(["ipv4-unicast", "ipv6-unicast"]);
    expect([...a.session.advertised.keys()].sort()).toEqual([
      "198.51.100.7/32",
      "198.51.100.8/32",
      "2001:db8:100::7/128",
    ]);

    b.obs.received.length = 0;
    const first = ads[0];
    if (first === undefined) throw new Error("unreachable");
    a.session.setAdvertisements([
      first,
      { prefix: cidr("198.51.100.9/32") },
      { prefix: cidr("2001:db8:100::7/128") },
    ]);
    await clock.advance(0);
    const delta = updates(b.obs.received);
    expect(delta.flatMap((u) => u.withdrawn)).toEqual([cidr("198.51.100.8/32")]);
    expect(delta.flatMap((u) => u.nlri)).toEqual([cidr("198.51.100.9/32")]);
    expect(delta.some((u) => u.attributes.mpReach !== undefined)).toBe(false);
  });

  it("iBGP sessions send LOCAL_PREF and an empty AS_PATH", async () => {
    const { clock, a, b } = pair({ a: { peerAs: 64512 }, b: { localAs: 64512, peerAs: "internal" } });
    a.session.setAdvertisements([{ prefix: cidr("198.51.100.7/32"), localPref: 150 }]);
    a.session.start();
    b.session.start();
    await clock.advance(0);
    const u = updates(b.obs.received).find((x) => x.nlri.length > 0);
    expect(u?.attributes).toMatchObject({ asPath: [], localPref: 150 });
    expect(b.session.negotiated?.external).toBe(false);
  });

  it("ManualStop sends Cease / Administrative Shutdown with the shutdown communication and tears down cleanly", async () => {
    const { clock, a, b } = pair();
    a.session.setAdvertisements([{ prefix: cidr("198.51.100.7/32") }]);
    a.session.start();
    b.session.start();
    await clock.advance(0);
    a.session.stop("maintenance window");
    await clock.advance(0);
    expect(a.session.state).toBe("Idle");
    expect(a.obs.downs.map((d) => d.kind)).toEqual(["manualStop"]);
    const down = b.obs.downs[0];
    expect(down?.kind).toBe("notificationReceived");
    expect(down?.notification && [down.notification.code, down.notification.subcode]).toEqual([6, 2]);
    expect(down?.notification && shutdownCommunicationOf(down.notification)).toBe("maintenance window");
    expect(a.session.advertised.size).toBe(0);
    expect(a.clock.pending).toBe(0);
    // B keeps trying with backoff; A (stopped) refuses: B ends in Active/Connect, never Established.
    await clock.advance(60_000);
    expect(b.session.state).not.toBe("Established");
    b.session.stop();
    await clock.advance(0);
    expect(b.clock.pending).toBe(0);
  });

  it("keepalives keep an idle session up for ten minutes", async () => {
    const { clock, a, b } = pair();
    a.session.start();
    b.session.start();
    await clock.advance(0);
    await clock.advance(600_000);
    expect([a.session.state, b.session.state]).toEqual(["Established", "Established"]);
    // One KEEPALIVE on OpenSent→OpenConfirm, then one per 30 s.
    expect(a.obs.sent.filter((m) => m.type === "keepalive").length).toBe(1 + 600_000 / 30_000);
  });

  it("a peer that goes silent is dropped when the hold timer expires", async () => {
    const { clock, net, a, b } = pair();
    a.session.start();
    b.session.start();
    await clock.advance(0);
    // Silence B's side of every connection (a dead host: no FIN, no data).
    for (const end of net.pipes.flat()) if (end.localAddress === B_ADDR) end.blackholed = true;
    await clock.advance(89_999);
    expect(a.session.state).toBe("Established");
    await clock.advance(1);
    expect(a.session.state).toBe("Idle");
    expect(a.obs.downs.map((d) => d.kind)).toEqual(["holdTimerExpired"]);
    expect(a.obs.sent.some((m) => m.type === "notification" && m.code === 4)).toBe(true);
  });

  it("connect retries back off exponentially up to the cap while the peer refuses", async () => {
    const clock = new FakeClock();
    const net = new MemoryNetwork(clock);
    const a = speaker(clock, net, A_ADDR, B_ADDR, {});
    a.session.start();
    await clock.advance(50_000);
    expect(net.dials.map((d) => d.at)).toEqual([0, 4000, 12_000, 28_000, 44_000]);
    expect(a.session.state).toBe("Active");
  });

  it("recovers after the peer comes back, with a restart after the failure", async () => {
    const { clock, net, a, b } = pair();
    net.unlisten(B_ADDR);
    a.session.start();
    await clock.advance(5_000);
    expect(a.session.state).toBe("Active");
    net.listen(B_ADDR, b.session);
    b.session.start();
    await clock.advance(20_000);
    expect([a.session.state, b.session.state]).toEqual(["Established", "Established"]);
  });
});

describe("against a scripted peer", () => {
  const peerCaps: Capability[] = [
    { kind: "multiprotocol", afi: 1, safi: 1 },
    { kind: "multiprotocol", afi: 2, safi: 1 },
    { kind: "routeRefresh" },
    { kind: "fourOctetAs", asn: 64513 },
  ];
  const peerOpen = buildOpen({ asn: 64513, holdTime: 90, bgpId: ID_B, capabilities: peerCaps });

  async function connected(extra: { restarting?: boolean; gracefulRestart?: boolean } = {}) {
    const clock = new FakeClock();
    const net = new MemoryNetwork(clock);
    const peer = new ScriptedPeer();
    net.listen(B_ADDR, peer);
    const a = speaker(
      clock,
      net,
      A_ADDR,
      B_ADDR,
      extra.gracefulRestart === true
        ? { gracefulRestart: { restartTimeSeconds: 120, forwardingPreserved: true } }
        : {},
      {
        nextHopV6: "2001:db8:1::10",
        ...(extra.restarting === undefined ? {} : { restarting: extra.restarting }),
      },
    );
    a.session.setAdvertisements([
      { prefix: cidr("198.51.100.7/32") },
      { prefix: cidr("2001:db8:100::7/128") },
    ]);
    a.session.start();
    await clock.advance(0);
    peer.send(peerOpen);
    peer.send({ type: "keepalive" });
    await clock.advance(0);
    expect(a.session.state).toBe("Established");
    return { clock, net, peer, a };
  }

  it("answers a ROUTE-REFRESH by re-sending the routes of that family", async () => {
    const { clock, peer } = await connected();
    peer.clear();
    peer.send({ type: "routeRefresh", afi: 2, safi: 1, subtype: 0 });
    await clock.advance(0);
    const u = peer.ofType("update");
    expect(u.map((x) => x.attributes.mpReach?.nlri)).toEqual([[cidr("2001:db8:100::7/128")]]);
  });

  it("graceful restart: the first OPEN after a restart has the Restart State bit, End-of-RIB follows the table, later OPENs clear it", async () => {
    const { clock, peer, a } = await connected({ restarting: true, gracefulRestart: true });
    const firstOpen = peer.ofType("open")[0];
    expect(firstOpen?.capabilities.find((c) => c.kind === "gracefulRestart")).toEqual({
      kind: "gracefulRestart",
      restartState: true,
      notification: false,
      restartTimeSeconds: 120,
      families: [
        { afi: 1, safi: 1, forwardingState: true },
        { afi: 2, safi: 1, forwardingState: true },
      ],
    });
    const afterOpen = peer.received.slice(peer.received.indexOf(firstOpen as BgpMessage));
    const kinds = afterOpen.map((m) =>
      m.type === "update" ? (endOfRibFamily(m) === undefined ? "update" : "eor") : m.type,
    );
    expect(kinds).toEqual(["open", "keepalive", "update", "update", "eor", "eor"]);
    // The peer drops the connection; the speaker reconnects without the Restart State bit.
    peer.conn?.close();
    await clock.advance(0);
    expect(a.session.state).toBe("Idle");
    await clock.advance(2_000);
    const reopen = peer.ofType("open")[1];
    expect(reopen?.capabilities.find((c) => c.kind === "gracefulRestart")).toMatchObject({
      restartState: false,
    });
  });

  it("a malformed UPDATE (session-reset class) gets an UPDATE Message Error NOTIFICATION and resets only this session", async () => {
    const { clock, peer, a } = await connected();
    const mp = attr(0x80, 14, "0002 01 05 0000000000 00");
    peer.send(rawUpdate([mp, attr(0x40, 1, "00"), attr(0x40, 2, "")]));
    await clock.advance(0);
    const n = peer.ofType("notification");
    expect(n.map((x) => [x.code, x.subcode])).toEqual([[3, 9]]);
    expect(a.session.state).toBe("Idle");
    expect(a.obs.downs.map((d) => d.kind)).toEqual(["notificationSent"]);
  });

  it("a treat-as-withdraw UPDATE keeps the session up and is reported", async () => {
    const { clock, peer, a } = await connected();
    peer.send(rawUpdate([attr(0x40, 1, "07"), attr(0x40, 2, ""), attr(0x40, 3, "c0000201")], "20 cb007101"));
    await clock.advance(0);
    expect(a.session.state).toBe("Established");
    expect(a.obs.problems).toEqual([["treat-as-withdraw"]]);
    expect(peer.ofType("notification")).toEqual([]);
  });

  it("a broken marker is answered with Connection Not Synchronized", async () => {
    const { clock, peer, a } = await connected();
    const bad = encodeMessage({ type: "keepalive" });
    bad[0] = 0;
    peer.send(bad);
    await clock.advance(0);
    expect(peer.ofType("notification").map((x) => [x.code, x.subcode])).toEqual([[1, 1]]);
    expect(a.session.state).toBe("Idle");
  });

  it("a second connection while Established is rejected with Cease / Connection Rejected", async () => {
    const { clock, a } = await connected();
    const intruder = new ScriptedPeer();
    const [ours, theirs] = createPipe(A_ADDR, B_ADDR);
    intruder.acceptConnection(theirs);
    a.session.acceptConnection(ours);
    await clock.advance(0);
    expect(intruder.ofType("notification").map((x) => [x.code, x.subcode])).toEqual([[6, 5]]);
    expect(ours.closed).toBe(true);
    expect(a.session.state).toBe("Established");
  });

  it("an OPEN with an unacceptable hold time is refused with OPEN Message Error / Unacceptable Hold Time", async () => {
    const clock = new FakeClock();
    const net = new MemoryNetwork(clock);
    const peer = new ScriptedPeer();
    net.listen(B_ADDR, peer);
    const a = speaker(clock, net, A_ADDR, B_ADDR, {});
    a.session.start();
    await clock.advance(0);
    peer.send({ ...peerOpen, holdTime: 2 });
    await clock.advance(0);
    expect(peer.ofType("notification").map((x) => [x.code, x.subcode])).toEqual([[2, 6]]);
    expect(a.session.state).toBe("Idle");
  });

  it("AutomaticStop (e.g. BFD down) sends the given Cease subcode and reconnects later", async () => {
    const { clock, peer, a } = await connected();
    a.session.automaticStop(10);
    await clock.advance(0);
    expect(peer.ofType("notification").map((x) => [x.code, x.subcode])).toEqual([[6, 10]]);
    await clock.advance(2_000);
    expect(peer.connections).toHaveLength(2);
  });

  for (const c of [
    {
      description: "peer identifier lower: our connection survives",
      peerId: 0x01000001,
      survivor: "local" as const,
    },
    {
      description: "peer identifier higher: the peer's connection survives",
      peerId: 0xfe000001,
      survivor: "remote" as const,
    },
  ]) {
    it(`collision resolved by BGP Identifier once both OPENs are in (${c.description})`, async () => {
      const clock = new FakeClock();
      const net = new MemoryNetwork(clock);
      const outbound = new ScriptedPeer();
      net.listen(B_ADDR, outbound);
      const a = speaker(clock, net, A_ADDR, B_ADDR, {});
      a.session.start();
      await clock.advance(0);
      expect(a.session.state).toBe("OpenSent");
      const inbound = new ScriptedPeer();
      const [ours, theirs] = createPipe(A_ADDR, B_ADDR);
      inbound.acceptConnection(theirs);
      a.session.acceptConnection(ours);
      await clock.advance(0);
      expect(inbound.ofType("open")).toHaveLength(1); // the colliding connection runs its own handshake
      const open = buildOpen({ asn: 64513, holdTime: 90, bgpId: c.peerId, capabilities: peerCaps });
      outbound.send(open);
      await clock.advance(0);
      expect(a.session.state).toBe("OpenConfirm"); // one OPEN is not enough to decide
      inbound.send(open);
      await clock.advance(0);
      const [winner, loser] = c.survivor === "local" ? [outbound, inbound] : [inbound, outbound];
      expect(loser.ofType("notification").map((x) => [x.code, x.subcode])).toEqual([[6, 7]]);
      expect(winner.ofType("notification")).toEqual([]);
      winner.send({ type: "keepalive" });
      await clock.advance(0);
      expect(a.session.state).toBe("Established");
      expect(a.session.connectionOrigin).toBe(c.survivor);
      expect(a.obs.downs).toEqual([]);
      // The surviving session still restarts by itself after a failure.
      winner.conn?.close();
      await clock.advance(0);
      expect(a.session.state).toBe("Idle");
      await clock.advance(2_000);
      expect(a.session.state).not.toBe("Idle");
    });
  }

  it("rejects configuration it cannot run", () => {
    const clock = new FakeClock();
    expect(() => new BgpSession({ config: baseConfig({}), clock: clock.scope() })).toThrow(/dialer/);
    expect(
      () =>
        new BgpSession({ config: baseConfig({ holdTimeSeconds: 2, passive: true }), clock: clock.scope() }),
    ).toThrow(/hold time/);
    expect(
      () => new BgpSession({ config: baseConfig({ routerId: 0, passive: true }), clock: clock.scope() }),
    ).toThrow(/router id/);
  });
});
