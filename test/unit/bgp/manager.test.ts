import { afterEach, describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { SecretValue } from "../../../src/api/secret.js";
import type { Advertisement } from "../../../src/bgp/adjRibOut.js";
import {
  findCapability,
  IPV4_UNICAST,
  IPV6_UNICAST,
  shutdownCommunicationOf,
  type BgpMessage,
  type NotificationMessage,
  type OpenMessage,
  type UpdateMessage,
} from "../../../src/bgp/codec/index.js";
import type { FsmConfig } from "../../../src/bgp/fsm.js";
import { BgpManager, type DesiredPeer, type PeerSpec } from "../../../src/bgp/manager.js";
import { bgpPromMetrics } from "../../../src/bgp/metrics.js";
import { memoryRestartMarker } from "../../../src/bgp/restartMarker.js";
import { BgpSession } from "../../../src/bgp/session.js";
import { formatCIDR, formatIP } from "../../../src/net/ip.js";
import { FakeClock, MemoryNetwork } from "./fakes.js";
import { cidr, ip } from "./helpers.js";

const NODE = "192.0.2.11";
const ROUTER_ID_NODE = 0xc000020b;

/** A passive BgpSession standing in for a router; records what it receives. */
interface Router {
  readonly address: string;
  readonly session: BgpSession;
  readonly received: BgpMessage[];
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function router(
  clock: FakeClock,
  net: MemoryNetwork,
  address: string,
  asn: number,
  routerId: number,
): Router {
  const received: BgpMessage[] = [];
  const session = new BgpSession({
    config: {
      localAs: asn,
      peerAs: "external",
      routerId,
      holdTimeSeconds: 9,
      families: [IPV4_UNICAST, IPV6_UNICAST],
      passive: true,
      connectBackoff: { initialMs: 1000, maxMs: 1000, multiplier: 1, jitter: 0 },
      gracefulRestart: { restartTimeSeconds: 120, forwardingPreserved: false },
    },
    clock: clock.scope(),
    observer: { messageReceived: (m) => received.push(m) },
  });
  net.listen(address, session);
  session.start();
  cleanups.push(() => {
    session.stop();
  });
  return { address, session, received };
}

function sessionConfig(over: Partial<FsmConfig> = {}): FsmConfig {
  return {
    localAs: 64512,
    peerAs: 64500,
    routerId: ROUTER_ID_NODE,
    holdTimeSeconds: 9,
    families: [IPV4_UNICAST, IPV6_UNICAST],
    passive: false,
    connectBackoff: { initialMs: 1000, maxMs: 4000, multiplier: 2, jitter: 0 },
    ...over,
  };
}

function spec(name: string, address: string, over: Partial<FsmConfig> = {}, password?: string): PeerSpec {
  return {
    name,
    session: sessionConfig(over),
    endpoint: {
      address: ip(address),
      port: 179,
      connectTimeoutMs: 5000,
      ...(password === undefined ? {} : { password: new SecretValue(password) }),
    },
  };
}

function setup(opts: { markerRunning?: boolean } = {}) {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock);
  const marker = memoryRestartMarker(opts.markerRunning ?? false);
  const registry = new Registry();
  const ref: { manager?: BgpManager } = {};
  const observer = bgpPromMetrics(registry, () => ref.manager?.status() ?? []);
  const manager = new BgpManager({
    clock: clock.scope(),
    random: () => 0,
    restartMarker: marker,
    dialerFor: (endpoint) => net.dialer(NODE, formatIP(endpoint.address)),
    observer,
  });
  ref.manager = manager;
  cleanups.push(() => {
    void manager.stop({ mode: "shutdown", flushTimeoutMs: 0 });
  });
  return { clock, net, manager, marker, registry };
}

const ad = (prefix: string, extra: Partial<Advertisement> = {}): Advertisement => ({
  prefix: cidr(prefix),
  ...extra,
});

const updatesOf = (r: Router): UpdateMessage[] =>
  r.received.filter((m): m is UpdateMessage => m.type === "update");
const notificationsOf = (r: Router): NotificationMessage[] =>
  r.received.filter((m): m is NotificationMessage => m.type === "notification");
const opensOf = (r: Router): OpenMessage[] => r.received.filter((m): m is OpenMessage => m.type === "open");
const announced = (r: Router): string[] => updatesOf(r).flatMap((u) => u.nlri.map(formatCIDR));
const withdrawn = (r: Router): string[] => updatesOf(r).flatMap((u) => u.withdrawn.map(formatCIDR));

describe("BgpManager", () => {
  it("opens one session per desired peer and advertises each its own prefixes", async () => {
    const { clock, net, manager } = setup();
    const r1 = router(clock, net, "192.0.2.1", 64500, 0xc0000201);
    const r2 = router(clock, net, "192.0.2.2", 64501, 0xc0000202);
    manager.sync([
      { spec: spec("r1", r1.address), advertisements: [ad("198.51.100.7/32")] },
      {
        spec: spec("r2", r2.address, { peerAs: 64501 }),
        advertisements: [ad("198.51.100.8/32"), ad("198.51.100.9/32")],
      },
    ]);
    await clock.advance(0);
    expect(announced(r1)).toEqual(["198.51.100.7/32"]);
    expect(announced(r2)).toEqual(["198.51.100.8/32", "198.51.100.9/32"]);
    expect(manager.status().map((s) => [s.name, s.state, s.advertisedPrefixes, s.desiredPrefixes])).toEqual([
      ["r1", "Established", 1, 1],
      ["r2", "Established", 2, 2],
    ]);
    expect(manager.status()[0]?.negotiated).toMatchObject({
      peerAs: 64500,
      holdTimeSeconds: 9,
      keepaliveSeconds: 3,
    });
  });

  it("sends only the difference when advertisements change, and nothing when they do not", async () => {
    const { clock, net, manager } = setup();
    const r1 = router(clock, net, "192.0.2.1", 64500, 0xc0000201);
    const peer = spec("r1", r1.address);
    manager.sync([{ spec: peer, advertisements: [ad("198.51.100.7/32"), ad("198.51.100.8/32")] }]);
    await clock.advance(0);
    r1.received.length = 0;
    manager.sync([{ spec: peer, advertisements: [ad("198.51.100.8/32"), ad("198.51.100.9/32")] }]);
    await clock.advance(0);
    expect(announced(r1)).toEqual(["198.51.100.9/32"]);
    expect(withdrawn(r1)).toEqual(["198.51.100.7/32"]);
    r1.received.length = 0;
    manager.sync([{ spec: peer, advertisements: [ad("198.51.100.9/32"), ad("198.51.100.8/32")] }]);
    await clock.advance(0);
    expect(updatesOf(r1)).toEqual([]);
    expect(r1.session.state).toBe("Established");
  });

  it("closes a removed peer with Cease / Peer De-configured and leaves the others alone", async () => {
    const { clock, net, manager } = setup();
    const r1 = router(clock, net, "192.0.2.1", 64500, 0xc0000201);
    const r2 = router(clock, net, "192.0.2.2", 64500, 0xc0000202);
    const both: DesiredPeer[] = [
      { spec: spec("r1", r1.address), advertisements: [ad("198.51.100.7/32")] },
      { spec: spec("r2", r2.address), advertisements: [ad("198.51.100.7/32")] },
    ];
    manager.sync(both);
    await clock.advance(0);
    manager.sync(both.slice(1));
    await clock.advance(30_000);
    expect(notificationsOf(r1).map((n) => [n.code, n.subcode])).toEqual([[6, 3]]);
    expect(net.dials.filter((d) => d.to === r1.address)).toHaveLength(1);
    expect(r2.session.state).toBe("Established");
    expect(manager.status().map((s) => s.name)).toEqual(["r2"]);
  });

  const changes: { description: string; changed: PeerSpec }[] = [
    { description: "hold time", changed: spec("r1", "192.0.2.1", { holdTimeSeconds: 30 }) },
    { description: "password", changed: spec("r1", "192.0.2.1", {}, "other") },
    { description: "local AS", changed: spec("r1", "192.0.2.1", { localAs: 64513 }) },
  ];
  for (const c of changes) {
    it(`reconnects with Cease / Other Configuration Change when the ${c.description} changes`, async () => {
      const { clock, net, manager } = setup();
      const r1 = router(clock, net, "192.0.2.1", 64500, 0xc0000201);
      manager.sync([{ spec: spec("r1", r1.address, {}, "secret"), advertisements: [ad("198.51.100.7/32")] }]);
      await clock.advance(0);
      manager.sync([{ spec: c.changed, advertisements: [ad("198.51.100.7/32")] }]);
      await clock.advance(5_000);
      expect(notificationsOf(r1).map((n) => [n.code, n.subcode])).toEqual([[6, 6]]);
      // The old connection is gone before the new one is up (the router may refuse one attempt
      // while it still sees the old session, then accepts the retry).
      expect(net.dials.length).toBeGreaterThanOrEqual(2);
      expect(manager.status()[0]?.state).toBe("Established");
      expect(r1.session.state).toBe("Established");
    });
  }

  it("a clean shutdown sends Cease / Administrative Shutdown with the message and clears the marker", async () => {
    const { clock, net, manager, marker } = setup();
    const r1 = router(clock, net, "192.0.2.1", 64500, 0xc0000201);
    manager.sync([
      {
        spec: spec("r1", r1.address, {
          gracefulRestart: { restartTimeSeconds: 120, forwardingPreserved: true },
        }),
        advertisements: [ad("198.51.100.7/32")],
      },
    ]);
    await clock.advance(0);
    expect(marker.running).toBe(true);
    const stopping = manager.stop({ mode: "shutdown", message: "node drained" });
    await clock.advance(0);
    await stopping;
    const [cease] = notificationsOf(r1);
    expect([cease?.code, cease?.subcode]).toEqual([6, 2]);
    expect(cease === undefined ? undefined : shutdownCommunicationOf(cease)).toBe("node drained");
    expect(marker.running).toBe(false);
    manager.sync([{ spec: spec("r1", r1.address), advertisements: [] }]);
    await clock.advance(10_000);
    expect(net.dials).toHaveLength(1);
  });

  it("a restart stop drops graceful-restart sessions silently and still ceases the others", async () => {
    const { clock, net, manager, marker } = setup();
    const gr = router(clock, net, "192.0.2.1", 64500, 0xc0000201);
    const plain = router(clock, net, "192.0.2.2", 64500, 0xc0000202);
    manager.sync([
      {
        spec: spec("gr", gr.address, {
          gracefulRestart: { restartTimeSeconds: 120, forwardingPreserved: true },
        }),
        advertisements: [ad("198.51.100.7/32")],
      },
      { spec: spec("plain", plain.address), advertisements: [ad("198.51.100.7/32")] },
    ]);
    await clock.advance(0);
    const stopping = manager.stop({ mode: "restart" });
    await clock.advance(0);
    await stopping;
    expect(notificationsOf(gr)).toEqual([]);
    expect(gr.session.state).not.toBe("Established");
    expect(notificationsOf(plain).map((n) => [n.code, n.subcode])).toEqual([[6, 2]]);
    expect(marker.running).toBe(true);
  });

  for (const c of [
    {
      description: "after a run that left the marker, within the window",
      marker: true,
      delayMs: 0,
      rBit: true,
    },
    {
      description: "after a run that left the marker, past the window",
      marker: true,
      delayMs: 121_000,
      rBit: false,
    },
    { description: "after a clean shutdown", marker: false, delayMs: 0, rBit: false },
  ]) {
    it(`sets the Restart State bit on graceful-restart sessions ${c.description}`, async () => {
      const { clock, net, manager } = setup({ markerRunning: c.marker });
      const r1 = router(clock, net, "192.0.2.1", 64500, 0xc0000201);
      const r2 = router(clock, net, "192.0.2.2", 64500, 0xc0000202);
      await clock.advance(c.delayMs);
      manager.sync([
        {
          spec: spec("gr", r1.address, {
            gracefulRestart: { restartTimeSeconds: 120, forwardingPreserved: true },
          }),
          advertisements: [],
        },
        { spec: spec("plain", r2.address), advertisements: [] },
      ]);
      await clock.advance(0);
      const grCap = findCapability(opensOf(r1)[0]?.capabilities ?? [], "gracefulRestart");
      expect(grCap?.restartState).toBe(c.rBit);
      expect(grCap?.families.every((f) => f.forwardingState)).toBe(true);
      expect(findCapability(opensOf(r2)[0]?.capabilities ?? [], "gracefulRestart")).toBeUndefined();
      expect(manager.status().map((s) => s.restarting)).toEqual([c.rBit, false]);
    });
  }

  it("exports session, prefix, UPDATE and NOTIFICATION metrics per peer address", async () => {
    const { clock, net, manager, registry } = setup();
    const r1 = router(clock, net, "192.0.2.1", 64500, 0xc0000201);
    const r2 = router(clock, net, "192.0.2.2", 64500, 0xc0000202);
    manager.sync([
      { spec: spec("r1", r1.address), advertisements: [ad("198.51.100.7/32"), ad("2001:db8:100::7/128")] },
      { spec: spec("r2", r2.address), advertisements: [] },
    ]);
    await clock.advance(0);
    r2.session.stop("maintenance");
    await clock.advance(0);
    const text = await registry.metrics();
    const line = (prefix: string): string | undefined => text.split("\n").find((l) => l.startsWith(prefix));
    expect(line('ironlb_bgp_session_up{peer="192.0.2.1"}')).toBe('ironlb_bgp_session_up{peer="192.0.2.1"} 1');
    expect(line('ironlb_bgp_session_up{peer="192.0.2.2"}')).toBe('ironlb_bgp_session_up{peer="192.0.2.2"} 0');
    // No IPv6 next hop on an IPv4 connection: only the IPv4 prefix goes out.
    expect(line('ironlb_bgp_announced_prefixes_total{peer="192.0.2.1"}')).toMatch(/ 1$/);
    // One UPDATE for the prefix, one End-of-RIB per family.
    expect(line('ironlb_bgp_updates_sent_total{peer="192.0.2.1"}')).toMatch(/ 3$/);
    expect(line('ironlb_bgp_notifications_received_total{peer="192.0.2.2",code="6",subcode="2"}')).toMatch(
      / 1$/,
    );
    manager.sync([]);
    await clock.advance(0);
    const after = await registry.metrics();
    expect(after).not.toContain('ironlb_bgp_session_up{peer="192.0.2.1"}');
    expect(after).toMatch(/ironlb_bgp_notifications_sent_total\{peer="192.0.2.1",code="6",subcode="3"\} 1/);
  });
});

describe("BgpManager: failed connects and how long a session has been up or down", () => {
  it("reports each failed connect to the peer's observer; phaseSinceMs moves only across Established", async () => {
    const clock = new FakeClock();
    const net = new MemoryNetwork(clock);
    const failures: string[] = [];
    const manager = new BgpManager({
      clock: clock.scope(),
      random: () => 0,
      dialerFor: (endpoint) => net.dialer(NODE, formatIP(endpoint.address)),
      observer: {
        forPeer: (peer) => ({ connectFailed: (f) => failures.push(`${peer.name}: ${f.message}`) }),
      },
    });
    cleanups.push(() => {
      void manager.stop({ mode: "shutdown", flushTimeoutMs: 0 });
    });
    await clock.advance(5000);
    manager.sync([{ spec: spec("r1", "192.0.2.1"), advertisements: [] }]);
    await clock.advance(3500);
    const down = manager.status()[0];
    // Connect and Active alternate while it retries: the state changes, the phase does not.
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(new Set(failures)).toEqual(new Set(["r1: connection refused by 192.0.2.1"]));
    expect(down?.state).toBe("Active");
    expect(down?.sinceMs).toBeGreaterThan(5000);
    expect(down?.phaseSinceMs).toBe(5000);

    const r1 = router(clock, net, "192.0.2.1", 64500, 0xc0000201);
    await clock.advance(10_000); // the next attempt
    const up = manager.status()[0];
    expect(r1.session.state).toBe("Established");
    expect([up?.state, up?.phaseSinceMs]).toEqual(["Established", up?.sinceMs]);
    expect(up?.phaseSinceMs).toBeGreaterThan(8500);
    expect(failures.length).toBeLessThan(6);

    r1.session.stop();
    await clock.advance(100);
    const again = manager.status()[0];
    expect(again?.state).not.toBe("Established");
    expect(again?.phaseSinceMs).toBeGreaterThan(up?.phaseSinceMs ?? Infinity);
  });
});
