// TCP MD5 signatures through the native addon, against real kernel sockets on loopback (no
// root needed): both ends with the same key establish; a key mismatch or a missing key never
// establishes; keys can change on a listening socket; errors carry code and syscall.
import { readdirSync } from "node:fs";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  ConnectTimeoutError,
  Md5KeyError,
  NativeSocketError,
  connectMd5,
  createMd5Socket,
  listenMd5,
  type Md5Server,
} from "../../src/native/index.js";
import { parseIP, type IPAddr } from "../../src/net/ip.js";

const KEY = "ironlb-md5-secret";
const MISMATCH_WAIT_MS = 1500;

const openFds = (): number => readdirSync("/proc/self/fd").length;

function portOf(server: Md5Server): number {
  const address = server.server.address();
  if (address === null || typeof address === "string") throw new Error("server has no port");
  return address.port;
}

function echo(socket: net.Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    socket.once("data", (data) => {
      resolve(data.toString());
    });
    socket.once("error", reject);
    socket.write(text);
  });
}

/** Resolves true if a plain (unsigned) TCP connect is established within `ms`. */
function plainConnects(host: string, port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, ms);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

const families: { family: "IPv4" | "IPv6"; loopback: IPAddr; host: string }[] = [
  { family: "IPv4", loopback: parseIP("127.0.0.1"), host: "127.0.0.1" },
  { family: "IPv6", loopback: parseIP("::1"), host: "::1" },
];

describe("TCP MD5 sockets on loopback", () => {
  const servers: Md5Server[] = [];
  const sockets: net.Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await Promise.all(
      servers.splice(0).map(
        (s) =>
          new Promise<void>((resolve) =>
            s.server.close(() => {
              resolve();
            }),
          ),
      ),
    );
  });

  async function listen(family: "IPv4" | "IPv6", loopback: IPAddr, keys: { peer: IPAddr; key: string }[]) {
    const server = await listenMd5({ family, port: 0, localAddress: loopback, keys });
    servers.push(server);
    let accepted = 0;
    server.server.on("connection", (socket) => {
      accepted++;
      sockets.push(socket);
      socket.pipe(socket);
    });
    return { server, port: portOf(server), accepted: () => accepted };
  }

  for (const { family, loopback, host } of families) {
    describe(family, () => {
      it("establishes and carries data when both ends have the same key", async () => {
        const { port, accepted } = await listen(family, loopback, [{ peer: loopback, key: KEY }]);
        const socket = await connectMd5({
          peer: loopback,
          port,
          key: KEY,
          localAddress: loopback,
          timeoutMs: 5000,
        });
        sockets.push(socket);
        expect(socket.remotePort).toBe(port);
        expect(await echo(socket, "OPEN")).toBe("OPEN");
        expect(accepted()).toBe(1);
      });

      it("never establishes when the keys differ", async () => {
        const { port, accepted } = await listen(family, loopback, [{ peer: loopback, key: KEY }]);
        const before = openFds();
        await expect(
          connectMd5({ peer: loopback, port, key: "another-key", timeoutMs: MISMATCH_WAIT_MS }),
        ).rejects.toBeInstanceOf(ConnectTimeoutError);
        expect(accepted()).toBe(0);
        expect(openFds()).toBe(before); // the failed attempt's descriptor was closed
      });

      it("never establishes from a client without a key", async () => {
        const { port, accepted } = await listen(family, loopback, [{ peer: loopback, key: KEY }]);
        expect(await plainConnects(host, port, MISMATCH_WAIT_MS)).toBe(false);
        expect(accepted()).toBe(0);
      });

      it("a listening socket without a key for the peer refuses a signed connect", async () => {
        const { port, accepted } = await listen(family, loopback, []);
        expect(await plainConnects(host, port, 2000)).toBe(true); // unsigned still works
        await expect(
          connectMd5({ peer: loopback, port, key: KEY, timeoutMs: MISMATCH_WAIT_MS }),
        ).rejects.toBeInstanceOf(ConnectTimeoutError);
        expect(accepted()).toBe(1);
      });

      it("keys added and removed on the listening socket take effect", async () => {
        const { server, port } = await listen(family, loopback, []);
        server.setKey(loopback, KEY);
        const socket = await connectMd5({ peer: loopback, port, key: KEY, timeoutMs: 5000 });
        sockets.push(socket);
        expect(await echo(socket, "KEEPALIVE")).toBe("KEEPALIVE");
        server.setKey(loopback, null);
        expect(await plainConnects(host, port, 2000)).toBe(true);
      });
    });
  }

  it("an IPv6 listener accepts a signed IPv4 peer through its v4-mapped key", async () => {
    const server = await listenMd5({
      family: "IPv6",
      port: 0,
      keys: [{ peer: parseIP("127.0.0.1"), key: KEY }],
    });
    servers.push(server);
    server.server.on("connection", (socket) => {
      sockets.push(socket);
      socket.pipe(socket);
    });
    const socket = await connectMd5({
      peer: parseIP("127.0.0.1"),
      port: portOf(server),
      key: KEY,
      timeoutMs: 5000,
    });
    sockets.push(socket);
    expect(await echo(socket, "v4")).toBe("v4");
  });

  it("an abort stops a pending connect and closes its descriptor", async () => {
    const { port } = await listen("IPv4", parseIP("127.0.0.1"), [{ peer: parseIP("127.0.0.1"), key: KEY }]);
    const before = openFds();
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort(new Error("shutting down"));
    }, 200);
    await expect(
      connectMd5({ peer: parseIP("127.0.0.1"), port, key: "wrong", signal: controller.signal }),
    ).rejects.toThrow("shutting down");
    expect(openFds()).toBe(before);
  });

  const badOptions: [string, () => unknown, (e: unknown) => void][] = [
    [
      "an empty key",
      () => createMd5Socket({ family: "IPv4", keys: [{ peer: parseIP("127.0.0.1"), key: "" }] }),
      (e) => {
        expect(e).toBeInstanceOf(Md5KeyError);
      },
    ],
    [
      "a key of 81 bytes",
      () => createMd5Socket({ family: "IPv4", keys: [{ peer: parseIP("127.0.0.1"), key: "k".repeat(81) }] }),
      (e) => {
        expect(e).toBeInstanceOf(Md5KeyError);
      },
    ],
    [
      "an IPv6 peer on an IPv4 socket",
      () => createMd5Socket({ family: "IPv4", keys: [{ peer: parseIP("::1"), key: KEY }] }),
      (e) => {
        expect(e).toBeInstanceOf(TypeError);
      },
    ],
    [
      "a device that does not exist",
      () => createMd5Socket({ family: "IPv4", device: "ilb-nonexist", keys: [] }),
      (e) => {
        expect(e).toBeInstanceOf(NativeSocketError);
        expect(e).toMatchObject({ code: "ENODEV", syscall: "setsockopt(SO_BINDTODEVICE)", errno: -19 });
      },
    ],
    [
      "a local address that is not ours",
      () => createMd5Socket({ family: "IPv4", localAddress: parseIP("192.0.2.1"), keys: [] }),
      (e) => {
        expect(e).toMatchObject({ name: "NativeSocketError", code: "EADDRNOTAVAIL", syscall: "bind" });
      },
    ],
  ];
  for (const [description, create, check] of badOptions) {
    it(`rejects ${description} with a typed error`, () => {
      const before = openFds();
      let caught: unknown;
      try {
        create();
      } catch (error) {
        caught = error;
      }
      check(caught);
      expect(openFds()).toBe(before);
    });
  }
});
