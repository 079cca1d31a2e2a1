import { afterEach, describe, expect, it } from "vitest";
import { BgpSession } from "../../../src/bgp/session.js";
import { listenBgp, tcpDialer, type BgpListener } from "../../../src/bgp/tcpTransport.js";
import { systemClock, type BgpConnection } from "../../../src/bgp/transport.js";
import {
  IPV4_UNICAST,
  shutdownCommunicationOf,
  type BgpMessage,
  type UpdateMessage,
} from "../../../src/bgp/codec/index.js";
import type { DownReason, FsmConfig } from "../../../src/bgp/fsm.js";
import { cidr, ip } from "./helpers.js";

const backoff = { initialMs: 100, maxMs: 1_000, multiplier: 2, jitter: 0.2 };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function until(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (predicate()) resolve();
      else if (Date.now() > deadline) reject(new Error("timed out waiting"));
      else setTimeout(poll, 10);
    };
    poll();
  });
}

describe("BGP over TCP on loopback", () => {
  it("an active and a passive session establish, exchange an UPDATE and close with Cease", async () => {
    const bReceived: BgpMessage[] = [];
    const bDowns: DownReason[] = [];
    const common = { holdTimeSeconds: 9, families: [IPV4_UNICAST], connectBackoff: backoff };
    const b = new BgpSession({
      config: {
        ...common,
        localAs: 64513,
        peerAs: 64512,
        routerId: 0xc0000201,
        passive: true,
      } satisfies FsmConfig,
      clock: systemClock,
      observer: { messageReceived: (m) => bReceived.push(m), down: (r) => bDowns.push(r) },
    });
    const accepted: BgpConnection[] = [];
    const listener: BgpListener = await listenBgp({
      host: "127.0.0.1",
      port: 0,
      onConnection: (conn) => {
        accepted.push(conn);
        b.acceptConnection(conn);
      },
    });
    cleanups.push(() => listener.close());
    b.start();
    cleanups.push(() => {
      b.stop();
    });

    const a = new BgpSession({
      config: { ...common, localAs: 64512, peerAs: 64513, routerId: 0xc000020a, passive: false },
      clock: systemClock,
      dialer: tcpDialer({ host: "127.0.0.1", port: listener.port }),
    });
    a.setAdvertisements([{ prefix: cidr("198.51.100.7/32"), communities: [0xfde90064] }]);
    a.start();
    cleanups.push(() => {
      a.stop();
    });

    await until(() => a.state === "Established" && b.state === "Established");
    await until(() => bReceived.some((m) => m.type === "update" && m.nlri.length > 0));
    const update = bReceived.find((m): m is UpdateMessage => m.type === "update" && m.nlri.length > 0);
    expect(update?.nlri).toEqual([cidr("198.51.100.7/32")]);
    expect(update?.attributes.nextHop).toEqual(ip("127.0.0.1")); // our address on the connection
    expect(accepted).toHaveLength(1);

    a.stop("bye");
    await until(() => bDowns.length > 0);
    expect(bDowns[0]?.kind).toBe("notificationReceived");
    expect(bDowns[0]?.notification && shutdownCommunicationOf(bDowns[0].notification)).toBe("bye");
  });

  it("a refused connection is retried with backoff and succeeds once the peer listens", async () => {
    // Find a free port, then leave it closed for a while.
    const probe = await listenBgp({ host: "127.0.0.1", port: 0, onConnection: () => undefined });
    const port = probe.port;
    await probe.close();
    const states: string[] = [];
    const a = new BgpSession({
      config: {
        localAs: 64512,
        peerAs: 64513,
        routerId: 1,
        holdTimeSeconds: 9,
        families: [IPV4_UNICAST],
        passive: false,
        connectBackoff: backoff,
      },
      clock: systemClock,
      dialer: tcpDialer({ host: "127.0.0.1", port }),
      observer: { stateChanged: (_f, t) => states.push(t) },
    });
    a.start();
    cleanups.push(() => {
      a.stop();
    });
    await until(() => states.includes("Active"));
    const b = new BgpSession({
      config: {
        localAs: 64513,
        peerAs: 64512,
        routerId: 2,
        holdTimeSeconds: 9,
        families: [IPV4_UNICAST],
        passive: true,
        connectBackoff: backoff,
      },
      clock: systemClock,
    });
    b.start();
    cleanups.push(() => {
      b.stop();
    });
    const listener = await listenBgp({
      host: "127.0.0.1",
      port,
      onConnection: (c) => {
        b.acceptConnection(c);
      },
    });
    cleanups.push(() => listener.close());
    await until(() => a.state === "Established" && b.state === "Established");
  });
});
