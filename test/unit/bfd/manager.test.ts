import { describe, expect, it } from "vitest";
import { BfdManager, type BfdRequest } from "../../../src/bfd/manager.js";
import {
  BfdState,
  decodeControlPacket,
  encodeControlPacket,
  type ControlPacket,
  type DropReason,
} from "../../../src/bfd/packet.js";
import type { BfdStateChange } from "../../../src/bfd/session.js";
import type { BfdPacketHandler, BfdTransport } from "../../../src/bfd/transport.js";
import { formatIP, parseIP, type IPAddr } from "../../../src/net/ip.js";
import { ManualClock, peerPacket } from "./fakes.js";

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** An in-memory network: records what each session sends and delivers what the test injects. */
class FakeNetwork implements BfdTransport {
  readonly sent: { from: string; to: string; packet: ControlPacket }[] = [];
  readonly listeners = new Map<string, BfdPacketHandler>();
  readonly minTtls = new Map<string, number>();
  openTx = (peer: IPAddr, local: IPAddr | undefined, multiHop: boolean) => {
    const localAddress = local ?? parseIP(peer.family === "IPv4" ? "192.0.2.11" : "2001:db8:1::11");
    const from = formatIP(localAddress);
    this.txOpened.push(`${multiHop ? "mh" : "sh"} ${from}>${formatIP(peer)}`);
    return Promise.resolve({
      localAddress,
      send: (data: Buffer) => {
        const d = decodeControlPacket(data);
        if (d.ok) this.sent.push({ from, to: formatIP(peer), packet: d.packet });
      },
      close: () => {
        this.txClosed.push(`${from}>${formatIP(peer)}`);
        return Promise.resolve();
      },
    });
  };
  openRx = (local: IPAddr, multiHop: boolean, onPacket: BfdPacketHandler) => {
    const key = `${multiHop ? "mh" : "sh"} ${formatIP(local)}`;
    this.listeners.set(key, onPacket);
    return Promise.resolve({
      setMinTtl: (ttl: number) => {
        this.minTtls.set(key, ttl);
        return true;
      },
      close: () => {
        this.listeners.delete(key);
        return Promise.resolve();
      },
    });
  };
  readonly txOpened: string[] = [];
  readonly txClosed: string[] = [];

  deliver(to: string, from: string, packet: ControlPacket | Buffer): void {
    const data = Buffer.isBuffer(packet) ? packet : encodeControlPacket(packet);
    const l = this.listeners.get(to);
    if (l === undefined) throw new Error(`nobody listens on ${to}`);
    l(data, parseIP(from));
  }
}

const PEER = "192.0.2.1";
const request = (extra: Partial<BfdRequest> = {}): BfdRequest => ({
  peer: parseIP(PEER),
  multiHop: false,
  passive: false,
  minimumTtl: 254,
  timers: { desiredMinTxMs: 300, requiredMinRxMs: 300, detectMult: 3 },
  ...extra,
});

function setup() {
  const clock = new ManualClock();
  const net = new FakeNetwork();
  const dropped: DropReason[] = [];
  const counts = { sent: 0, received: 0 };
  const manager = new BfdManager({
    transport: net,
    clock,
    random: () => 0.5,
    observer: {
      packetDropped: (r) => dropped.push(r),
      packetSent: () => counts.sent++,
      packetReceived: () => counts.received++,
    },
  });
  return { clock, net, manager, dropped, counts };
}

describe("BFD manager", () => {
  it("opens one session per (peer, local address), shared and reference-counted; the last release sends AdminDown", async () => {
    const { net, manager } = setup();
    const changesA: BfdStateChange[] = [];
    const changesB: BfdStateChange[] = [];
    const a = manager.acquire(request(), (c) => changesA.push(c));
    const b = manager.acquire(request(), (c) => changesB.push(c));
    await flush();
    expect(net.txOpened).toEqual(["sh 192.0.2.11>192.0.2.1"]);
    expect(net.minTtls.get("sh 192.0.2.11")).toBe(255);
    const mine = net.sent[0]?.packet.myDiscriminator ?? 0;
    net.deliver("sh 192.0.2.11", PEER, peerPacket({ state: BfdState.Init, yourDiscriminator: mine }));
    expect(a.state()).toBe("Up");
    expect(changesA.map((c) => c.to)).toEqual(["Up"]);
    expect(changesB.map((c) => c.to)).toEqual(["Up"]);
    expect(manager.status()).toMatchObject([
      { peer: PEER, local: "192.0.2.11", clients: 2, state: "Up", ttlChecked: true },
    ]);

    a.release();
    a.release(); // twice is harmless
    expect(net.txClosed).toEqual([]);
    b.release();
    expect(net.sent.at(-1)?.packet).toMatchObject({ state: BfdState.AdminDown, diag: 7 });
    await manager.flushed();
    expect(net.txClosed).toEqual(["192.0.2.11>192.0.2.1"]);
    expect(net.listeners.size).toBe(0);
    expect(manager.status()).toEqual([]);
  });

  it("a different local address or multi hop is a different session; multi hop listens with minimumTtl", async () => {
    const { net, manager } = setup();
    manager.acquire(request(), () => undefined);
    manager.acquire(request({ local: parseIP("192.0.2.12") }), () => undefined);
    manager.acquire(request({ multiHop: true, minimumTtl: 250 }), () => undefined);
    await flush();
    expect(net.txOpened.sort()).toEqual([
      "mh 192.0.2.11>192.0.2.1",
      "sh 192.0.2.11>192.0.2.1",
      "sh 192.0.2.12>192.0.2.1",
    ]);
    expect(net.minTtls.get("mh 192.0.2.11")).toBe(250);
    const discs = new Set(net.sent.map((s) => s.packet.myDiscriminator));
    expect(discs.size).toBe(3);
    expect(discs.has(0)).toBe(false);
  });

  it("counts and drops bad packets by reason, and never throws", async () => {
    const { net, manager, dropped, counts } = setup();
    manager.acquire(request(), () => undefined);
    await flush();
    const mine = net.sent[0]?.packet.myDiscriminator ?? 0;
    const cases: [string, ControlPacket | Buffer][] = [
      [PEER, Buffer.from([1, 2, 3])],
      [PEER, peerPacket({ yourDiscriminator: 12345, state: BfdState.Up })],
      [PEER, peerPacket({ yourDiscriminator: 0, state: BfdState.Up })],
      ["192.0.2.99", peerPacket({ yourDiscriminator: 0, state: BfdState.Down })],
      ["192.0.2.99", peerPacket({ yourDiscriminator: mine, state: BfdState.Up })],
    ];
    for (const [from, p] of cases) net.deliver("sh 192.0.2.11", from, p);
    expect(dropped).toEqual([
      "truncated",
      "unknownDiscriminator",
      "zeroYourDiscriminatorInState",
      "noSession",
      "addressMismatch",
    ]);
    expect(counts.received).toBe(0);
    net.deliver("sh 192.0.2.11", PEER, peerPacket({ state: BfdState.Down }));
    expect(counts.received).toBe(1);
    expect(manager.status()[0]?.state).toBe("Init");
  });

  it("tells its clients when the peer goes silent (detection time) and keeps trying to come back", async () => {
    const { clock, net, manager } = setup();
    const changes: BfdStateChange[] = [];
    manager.acquire(request(), (c) => changes.push(c));
    await flush();
    const mine = net.sent[0]?.packet.myDiscriminator ?? 0;
    net.deliver("sh 192.0.2.11", PEER, peerPacket({ state: BfdState.Init, yourDiscriminator: mine }));
    clock.advance(2000);
    expect(changes.map((c) => `${c.from}>${c.to}/${String(c.diag)}`)).toEqual(["Down>Up/0", "Up>Down/1"]);
    const n = net.sent.length;
    clock.advance(3000);
    expect(net.sent.length).toBeGreaterThan(n);
  });

  it("stop() sends AdminDown on every session and closes every socket", async () => {
    const { net, manager } = setup();
    manager.acquire(request(), () => undefined);
    manager.acquire(request({ peer: parseIP("2001:db8:1::1") }), () => undefined);
    await flush();
    await manager.stop();
    const adminDowns = net.sent.filter((s) => s.packet.state === BfdState.AdminDown).map((s) => s.to);
    expect(adminDowns.sort()).toEqual(["192.0.2.1", "2001:db8:1::1"]);
    expect(net.txClosed).toHaveLength(2);
    expect(net.listeners.size).toBe(0);
  });

  it("a release before the sockets are open leaves nothing behind", async () => {
    const { net, manager } = setup();
    manager.acquire(request(), () => undefined).release();
    await flush();
    await flush();
    expect(net.sent).toEqual([]);
    expect(net.txClosed).toEqual(["192.0.2.11>192.0.2.1"]);
    expect(net.listeners.size).toBe(0);
  });
});
