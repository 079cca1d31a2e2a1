import net from "node:net";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SecretValue } from "../../../src/api/secret.js";
import { peerDialer, sessionTtl, type NativeConnect } from "../../../src/bgp/peerDialer.js";
import { fileRestartMarker } from "../../../src/bgp/restartMarker.js";
import type { TcpConnectOptions } from "../../../src/native/index.js";
import { formatIP } from "../../../src/net/ip.js";
import { ip } from "./helpers.js";

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

function loopbackServer(): Promise<{ port: number; accepted: Promise<net.Socket> }> {
  return new Promise((resolve) => {
    let accept!: (s: net.Socket) => void;
    const accepted = new Promise<net.Socket>((r) => (accept = r));
    const server = net.createServer((s) => {
      accept(s);
    });
    closers.push(() => {
      server.close();
    });
    server.listen(0, "127.0.0.1", () => {
      const a = server.address();
      resolve({ port: typeof a === "object" && a !== null ? a.port : 0, accepted });
    });
  });
}

describe("peerDialer", () => {
  it("without a password connects with plain TCP from the source address", async () => {
    const { port, accepted } = await loopbackServer();
    let md5Calls = 0;
    const dialer = peerDialer(
      { address: ip("127.0.0.1"), port, sourceAddress: ip("127.0.0.2"), connectTimeoutMs: 1000 },
      () => {
        md5Calls++;
        return Promise.reject(new Error("not expected"));
      },
    );
    const conn = await dialer.connect(new AbortController().signal);
    const server = await accepted;
    expect(server.remoteAddress).toBe("127.0.0.2");
    expect(conn.localAddress).toBe("127.0.0.2");
    expect(md5Calls).toBe(0);
    conn.close();
    server.destroy();
  });

  it("with a password asks for a TCP-MD5 socket with the key, source, port, timeout and signal", async () => {
    const { port, accepted } = await loopbackServer();
    const calls: TcpConnectOptions[] = [];
    const connectMd5: NativeConnect = (options) => {
      calls.push(options);
      return new Promise((resolve) => {
        const s = net.connect({ host: formatIP(options.peer), port: options.port ?? 179 }, () => {
          resolve(s);
        });
      });
    };
    const abort = new AbortController();
    const dialer = peerDialer(
      {
        address: ip("127.0.0.1"),
        port,
        sourceAddress: ip("127.0.0.3"),
        password: new SecretValue("s3cret"),
        connectTimeoutMs: 4321,
      },
      connectMd5,
    );
    const conn = await dialer.connect(abort.signal);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ port, key: "s3cret", timeoutMs: 4321, signal: abort.signal });
    expect(calls[0]?.peer).toEqual(ip("127.0.0.1"));
    expect(calls[0]?.localAddress).toEqual(ip("127.0.0.3"));
    const server = await accepted;
    const got = new Promise<string>((resolve) =>
      server.once("data", (d: Buffer) => {
        resolve(d.toString());
      }),
    );
    conn.write(Buffer.from("hello"));
    expect(await got).toBe("hello");
    conn.close();
    server.destroy();
  });
});

describe("session TTL", () => {
  it.each([
    {
      description: "directly connected eBGP: 1, as BIRD and FRR send",
      type: "ebgp",
      multihop: false,
      want: 1,
    },
    { description: "multihop eBGP: 255", type: "ebgp", multihop: true, want: 255 },
    { description: "iBGP: the system default", type: "ibgp", multihop: false, want: undefined },
  ] as const)("$description", ({ type, multihop, want }) => {
    expect(sessionTtl(type, multihop)).toBe(want);
  });
});

describe("peerDialer with a TTL", () => {
  /** A stand-in for the addon that records its options and connects with Node. */
  function recordingConnect(calls: TcpConnectOptions[]): NativeConnect {
    return (options) => {
      calls.push(options);
      return new Promise((resolve) => {
        const s = net.connect({ host: formatIP(options.peer), port: options.port ?? 179 }, () => {
          resolve(s);
        });
      });
    };
  }

  it.each([
    { description: "TTL only: the addon's socket with the TTL and no key", password: undefined, ttl: 1 },
    { description: "TTL and password: both on the one socket", password: "pw", ttl: 255 },
  ])("$description", async ({ password, ttl }) => {
    const { port, accepted } = await loopbackServer();
    const calls: TcpConnectOptions[] = [];
    const dialer = peerDialer(
      {
        address: ip("127.0.0.1"),
        port,
        connectTimeoutMs: 1000,
        ttl,
        ...(password === undefined ? {} : { password: new SecretValue(password) }),
      },
      recordingConnect(calls),
      { nativeAvailable: () => Promise.resolve(true) },
    );
    const conn = await dialer.connect(new AbortController().signal);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.ttl).toBe(ttl);
    expect(calls[0]?.key).toBe(password);
    conn.close();
    (await accepted).destroy();
  });

  it("falls back to plain TCP (default TTL) when the addon is missing and there is no password", async () => {
    const { port, accepted } = await loopbackServer();
    const calls: TcpConnectOptions[] = [];
    const dialer = peerDialer(
      { address: ip("127.0.0.1"), port, connectTimeoutMs: 1000, ttl: 1 },
      recordingConnect(calls),
      { nativeAvailable: () => Promise.resolve(false) },
    );
    const conn = await dialer.connect(new AbortController().signal);
    expect(calls).toEqual([]);
    conn.close();
    (await accepted).destroy();
  });
});

describe("fileRestartMarker", () => {
  it("remembers a run that did not end cleanly, and forgets a clean one", () => {
    const dir = mkdtempSync(join(tmpdir(), "ilb-marker-"));
    closers.push(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    const path = join(dir, "state", "bgp-graceful-restart");
    const first = fileRestartMarker(path);
    expect(first.wasRunning()).toBe(false);
    first.markRunning();
    expect(JSON.parse(readFileSync(path, "utf8"))).toMatchObject({ pid: process.pid });
    // The process dies here: the next one finds the marker.
    const second = fileRestartMarker(path);
    expect(second.wasRunning()).toBe(true);
    second.clear();
    expect(fileRestartMarker(path).wasRunning()).toBe(false);
  });

  it("reports write errors instead of throwing", () => {
    const dir = mkdtempSync(join(tmpdir(), "ilb-marker-"));
    closers.push(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    const file = join(dir, "a-file");
    writeFileSync(file, "");
    const errors: unknown[] = [];
    // A regular file where the directory should be: ENOTDIR.
    const marker = fileRestartMarker(join(file, "sub", "marker"), (e) => errors.push(e));
    expect(() => {
      marker.markRunning();
    }).not.toThrow();
    expect(errors).toHaveLength(1);
  });
});
