// Two BFD managers over real UDP on loopback (127.0.0.1 ↔ 127.0.0.2, one unprivileged port), and
// the receive-side TTL filter: packets below TTL 255 never reach a single-hop listener.
import dgram from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { BfdManager, type BfdRequest } from "../../../src/bfd/manager.js";
import { encodeControlPacket, type DropReason } from "../../../src/bfd/packet.js";
import type { BfdStateChange } from "../../../src/bfd/session.js";
import type { BfdTransport } from "../../../src/bfd/transport.js";
import { udpTransport } from "../../../src/bfd/udp.js";
import { parseIP } from "../../../src/net/ip.js";
import { peerPacket } from "./fakes.js";

/** A UDP transport whose senders can be silenced (a frozen peer). */
function mutableUdp(): { transport: BfdTransport; mute: () => void } {
  const inner = udpTransport({ singleHopPort: PORT });
  let muted = false;
  return {
    mute: () => (muted = true),
    transport: {
      openRx: (local, multiHop, onPacket) => inner.openRx(local, multiHop, onPacket),
      openTx: async (peer, local, multiHop) => {
        const ep = await inner.openTx(peer, local, multiHop);
        return {
          localAddress: ep.localAddress,
          send: (p) => {
            if (!muted) ep.send(p);
          },
          close: () => ep.close(),
        };
      },
    },
  };
}

const PORT = 20_000 + (process.pid % 20_000);

const request = (peer: string, local: string): BfdRequest => ({
  peer: parseIP(peer),
  local: parseIP(local),
  multiHop: false,
  passive: false,
  minimumTtl: 254,
  timers: { desiredMinTxMs: 50, requiredMinRxMs: 50, detectMult: 3 },
});

async function waitUntil(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function sendRaw(data: Buffer, to: string, ttl: number, port = PORT): Promise<void> {
  const s = dgram.createSocket("udp4");
  return new Promise((resolve) => {
    s.bind(0, "127.0.0.1", () => {
      s.setTTL(ttl);
      s.send(data, port, to, () => {
        s.close();
        resolve();
      });
    });
  });
}

describe("BFD over UDP on loopback", () => {
  const managers: BfdManager[] = [];
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.stop()));
  });

  it("two managers bring a session Up; a stop sends AdminDown, which the other side reports as such", async () => {
    const changesB: BfdStateChange[] = [];
    const a = new BfdManager({ transport: udpTransport({ singleHopPort: PORT }) });
    const b = new BfdManager({ transport: udpTransport({ singleHopPort: PORT }) });
    managers.push(a, b);
    const ha = a.acquire(request("127.0.0.2", "127.0.0.1"), () => undefined);
    const hb = b.acquire(request("127.0.0.1", "127.0.0.2"), (c) => changesB.push(c));
    await waitUntil("both Up", () => ha.state() === "Up" && hb.state() === "Up");
    expect(a.status()[0]).toMatchObject({
      state: "Up",
      ttlChecked: true,
      transmitIntervalMs: 50,
      detectionTimeMs: 150,
    });
    await a.stop();
    await waitUntil("B down", () => hb.state() === "Down");
    expect(changesB.at(-1)).toMatchObject({ from: "Up", to: "Down", diag: 3, peerAdminDown: true });
  });

  it("a silent peer is detected within the detection time", async () => {
    const changesB: BfdStateChange[] = [];
    const frozen = mutableUdp();
    const a = new BfdManager({ transport: frozen.transport });
    const b = new BfdManager({ transport: udpTransport({ singleHopPort: PORT }) });
    managers.push(a, b);
    const ha = a.acquire(request("127.0.0.2", "127.0.0.1"), () => undefined);
    const hb = b.acquire(request("127.0.0.1", "127.0.0.2"), (c) => changesB.push(c));
    await waitUntil("both Up", () => ha.state() === "Up" && hb.state() === "Up");
    const t0 = Date.now();
    frozen.mute();
    await waitUntil("B detects", () => hb.state() === "Down", 2000);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(changesB.at(-1)).toMatchObject({ diag: 1, peerAdminDown: false });
  });

  it("the single-hop listener drops packets with TTL below 255 in the kernel (GTSM)", async () => {
    const dropped: DropReason[] = [];
    const b = new BfdManager({
      transport: udpTransport({ singleHopPort: PORT }),
      observer: { packetDropped: (r) => dropped.push(r) },
    });
    managers.push(b);
    b.acquire(request("127.0.0.1", "127.0.0.2"), () => undefined);
    await waitUntil("listener ready", () => b.status()[0]?.local !== undefined);
    const stray = encodeControlPacket(peerPacket({ yourDiscriminator: 0xdead, state: 3 }));
    await sendRaw(stray, "127.0.0.2", 64);
    await sendRaw(stray, "127.0.0.2", 254);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(dropped).toEqual([]);
    await sendRaw(stray, "127.0.0.2", 255);
    await waitUntil("the TTL 255 packet arrives", () => dropped.length > 0);
    expect(dropped).toEqual(["unknownDiscriminator"]);
  });

  it("the multi-hop listener (its own port) accepts TTL >= minimumTtl and drops lower in the kernel", async () => {
    const dropped: DropReason[] = [];
    const mhPort = PORT + 1;
    const b = new BfdManager({
      transport: udpTransport({ singleHopPort: PORT, multiHopPort: mhPort }),
      observer: { packetDropped: (r) => dropped.push(r) },
    });
    managers.push(b);
    b.acquire({ ...request("127.0.0.1", "127.0.0.2"), multiHop: true, minimumTtl: 250 }, () => undefined);
    await waitUntil("listener ready", () => b.status()[0]?.local !== undefined);
    expect(b.status()[0]).toMatchObject({ multiHop: true, ttlChecked: true });
    const stray = encodeControlPacket(peerPacket({ yourDiscriminator: 0xdead, state: 3 }));
    await sendRaw(stray, "127.0.0.2", 249, mhPort);
    await sendRaw(stray, "127.0.0.2", 250, PORT); // the single-hop port: nobody listens there
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(dropped).toEqual([]);
    await sendRaw(stray, "127.0.0.2", 250, mhPort);
    await waitUntil("the TTL 250 packet arrives", () => dropped.length > 0);
    expect(dropped).toEqual(["unknownDiscriminator"]);
  });
});
