// BFD wired to the BGP manager: an Up → Down BFD transition tears the BGP session down at once
// (Cease / BFD Down) and it comes back by itself; AdminDown from the peer does not; the BFD
// session follows the peer's profile without resetting BGP, and is released first on stop.
import { afterEach, describe, expect, it } from "vitest";
import type { BfdListener, BfdRequest } from "../../../src/bfd/manager.js";
import type { BfdStateChange } from "../../../src/bfd/session.js";
import { IPV4_UNICAST, IPV6_UNICAST, type NotificationMessage } from "../../../src/bgp/codec/index.js";
import { BgpManager, type BfdService, type PeerSpec } from "../../../src/bgp/manager.js";
import { BgpSession } from "../../../src/bgp/session.js";
import { formatIP } from "../../../src/net/ip.js";
import { FakeClock, MemoryNetwork } from "../bgp/fakes.js";
import { ip } from "../bgp/helpers.js";

const NODE = "192.0.2.11";
const ROUTER = "192.0.2.1";
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** Records acquisitions and releases; the test plays the BFD session's state changes. */
class FakeBfd implements BfdService {
  readonly log: string[] = [];
  readonly clients: { request: BfdRequest; listener: BfdListener; released: boolean }[] = [];
  acquire(request: BfdRequest, listener: BfdListener) {
    const client = { request, listener, released: false };
    this.clients.push(client);
    this.log.push(`acquire ${formatIP(request.peer)} tx=${String(request.timers.desiredMinTxMs)}`);
    return {
      state: () => "Up" as const,
      release: () => {
        client.released = true;
        this.log.push(`release ${formatIP(request.peer)}`);
      },
    };
  }
  flushed(): Promise<void> {
    return Promise.resolve();
  }
  emit(change: BfdStateChange): void {
    for (const c of this.clients) if (!c.released) c.listener(change);
  }
}

function setup() {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock);
  const bfd = new FakeBfd();
  const notifications: NotificationMessage[] = [];
  const router = new BgpSession({
    config: {
      localAs: 64500,
      peerAs: "external",
      routerId: 0xc0000201,
      holdTimeSeconds: 90,
      families: [IPV4_UNICAST, IPV6_UNICAST],
      passive: true,
      connectBackoff: { initialMs: 1000, maxMs: 1000, multiplier: 1, jitter: 0 },
    },
    clock: clock.scope(),
    observer: {
      messageReceived: (m) => {
        if (m.type === "notification") {
          notifications.push(m);
          bfd.log.push(`notification ${String(m.code)}/${String(m.subcode)}`);
        }
      },
    },
  });
  net.listen(ROUTER, router);
  router.start();
  const bfdChanges: string[] = [];
  const manager = new BgpManager({
    clock: clock.scope(),
    random: () => 0,
    dialerFor: (endpoint) => net.dialer(NODE, formatIP(endpoint.address)),
    bfd,
    observer: { bfdStateChanged: (peer, c) => bfdChanges.push(`${peer.name} ${c.from}>${c.to}`) },
  });
  cleanups.push(() => {
    router.stop();
    void manager.stop({ mode: "shutdown", flushTimeoutMs: 0 });
  });
  return { clock, bfd, manager, router, notifications, bfdChanges };
}

const spec = (tx = 300): PeerSpec => ({
  name: "r1",
  session: {
    localAs: 64512,
    peerAs: 64500,
    routerId: 0xc000020b,
    holdTimeSeconds: 90,
    families: [IPV4_UNICAST, IPV6_UNICAST],
    passive: false,
    connectBackoff: { initialMs: 1000, maxMs: 1000, multiplier: 1, jitter: 0 },
  },
  endpoint: { address: ip(ROUTER), port: 179, connectTimeoutMs: 5000, sourceAddress: ip(NODE) },
  bfd: {
    multiHop: false,
    passive: false,
    minimumTtl: 254,
    timers: { desiredMinTxMs: tx, requiredMinRxMs: 300, detectMult: 3 },
  },
});

const down = (peerAdminDown: boolean): BfdStateChange => ({
  from: "Up",
  to: "Down",
  diag: peerAdminDown ? 3 : 1,
  peerAdminDown,
});

describe("BFD and the BGP manager", () => {
  it("asks for a BFD session to the peer from the session's source address", async () => {
    const { clock, bfd, manager } = setup();
    manager.sync([{ spec: spec(), advertisements: [] }]);
    await clock.advance(0);
    expect(
      bfd.clients.map((c) => [formatIP(c.request.peer), c.request.local && formatIP(c.request.local)]),
    ).toEqual([[ROUTER, NODE]]);
    expect(manager.status()[0]).toMatchObject({ state: "Established", bfdState: "Up" });
  });

  it("BFD Up → Down tears the BGP session down at once with Cease / BFD Down, then it re-establishes", async () => {
    const { clock, bfd, manager, notifications, bfdChanges } = setup();
    manager.sync([{ spec: spec(), advertisements: [] }]);
    await clock.advance(0);
    expect(manager.status()[0]?.state).toBe("Established");
    bfd.emit(down(false));
    await clock.advance(0);
    expect(notifications.map((n) => [n.code, n.subcode])).toEqual([[6, 10]]);
    expect(manager.status()[0]).toMatchObject({ lastDown: { kind: "automaticStop" } });
    expect(bfdChanges).toEqual(["r1 Up>Down"]);
    await clock.advance(60_000);
    expect(manager.status()[0]?.state).toBe("Established");
  });

  it("the peer's AdminDown does not touch the BGP session (RFC 5882 §3.2)", async () => {
    const { clock, bfd, manager, notifications } = setup();
    manager.sync([{ spec: spec(), advertisements: [] }]);
    await clock.advance(0);
    bfd.emit(down(true));
    await clock.advance(1000);
    expect(notifications).toEqual([]);
    expect(manager.status()[0]?.state).toBe("Established");
  });

  it("a profile change replaces the BFD session without resetting BGP; dropping bfd releases it", async () => {
    const { clock, bfd, manager, notifications } = setup();
    manager.sync([{ spec: spec(300), advertisements: [] }]);
    await clock.advance(0);
    manager.sync([{ spec: spec(300), advertisements: [] }]);
    manager.sync([{ spec: spec(100), advertisements: [] }]);
    await clock.advance(0);
    const { bfd: _dropped, ...withoutBfd } = spec();
    manager.sync([{ spec: withoutBfd, advertisements: [] }]);
    await clock.advance(0);
    expect(bfd.log).toEqual([
      `acquire ${ROUTER} tx=300`,
      `release ${ROUTER}`,
      `acquire ${ROUTER} tx=100`,
      `release ${ROUTER}`,
    ]);
    expect(notifications).toEqual([]);
    // A released session's late changes are ignored.
    bfd.clients[0]?.listener(down(false));
    await clock.advance(0);
    expect(notifications).toEqual([]);
  });

  it("stop releases BFD (AdminDown) before the BGP Cease", async () => {
    const { clock, bfd, manager } = setup();
    manager.sync([{ spec: spec(), advertisements: [] }]);
    await clock.advance(0);
    const stopped = manager.stop({ mode: "shutdown", flushTimeoutMs: 1000 });
    await clock.advance(1000);
    await stopped;
    expect(bfd.log.slice(1)).toEqual([`release ${ROUTER}`, "notification 6/2"]);
  });
});
