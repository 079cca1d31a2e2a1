import { afterEach, describe, expect, it } from "vitest";
import { Counter, Registry } from "prom-client";
import {
  HealthChecks,
  ListenAddressError,
  parseListenAddress,
  startOpsServer,
  type ListenAddress,
  type OpsServer,
} from "../../../src/runtime/httpServer.js";

const servers: OpsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const loopback: ListenAddress = { host: "127.0.0.1", port: 0 };

async function start(...args: Parameters<typeof startOpsServer>): Promise<string> {
  const server = await startOpsServer(...args);
  servers.push(server);
  return `http://127.0.0.1:${server.address.port}`;
}

describe("startOpsServer", () => {
  it("serves Prometheus text from the registry on /metrics", async () => {
    const registry = new Registry();
    const counter = new Counter({ name: "ironlb_test_things_total", help: "things", registers: [registry] });
    counter.inc(3);
    const base = await start(loopback, { metrics: registry });
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe(registry.contentType);
    expect(await response.text()).toContain("ironlb_test_things_total 3");
  });

  it("/healthz and /readyz answer ok when every check passes, listing them with ?verbose", async () => {
    const liveness = new HealthChecks();
    const readiness = new HealthChecks();
    liveness.add("ping", () => undefined);
    readiness.add("informers-synced", () => Promise.resolve());
    readiness.add("leader-election", () => undefined);
    const base = await start(loopback, { liveness, readiness });
    const healthz = await fetch(`${base}/healthz`);
    expect([healthz.status, await healthz.text()]).toEqual([200, "ok\n"]);
    const readyz = await fetch(`${base}/readyz?verbose`);
    expect([readyz.status, await readyz.text()]).toEqual([
      200,
      "[+]informers-synced ok\n[+]leader-election ok\nok\n",
    ]);
  });

  it("/readyz fails with 500 naming the failing check and its reason; /readyz/<name> checks one", async () => {
    const readiness = new HealthChecks();
    readiness.add("informers-synced", () => {
      throw new Error("services not synced");
    });
    readiness.add("config", () => undefined);
    const base = await start(loopback, { readiness });
    const all = await fetch(`${base}/readyz`);
    expect(all.status).toBe(500);
    expect(await all.text()).toBe(
      "[+]config ok\n[-]informers-synced failed: services not synced\nreadyz check failed\n",
    );
    const one = await fetch(`${base}/readyz/config`);
    expect([one.status, await one.text()]).toEqual([200, "ok\n"]);
    expect((await fetch(`${base}/readyz/nope`)).status).toBe(404);
  });

  it("a hung check fails by timeout instead of hanging the endpoint", async () => {
    const readiness = new HealthChecks(50);
    readiness.add(
      "stuck",
      (signal) =>
        new Promise((resolve) => {
          signal.addEventListener("abort", () => {
            resolve();
          });
        }),
    );
    const base = await start(loopback, { readiness });
    const response = await fetch(`${base}/readyz`);
    expect(response.status).toBe(500);
    expect(await response.text()).toContain("[-]stuck failed: timed out after 50 ms");
  });

  it("removing a check takes it out of the set", async () => {
    const readiness = new HealthChecks();
    const remove = readiness.add("leader", () => {
      throw new Error("not leading");
    });
    const base = await start(loopback, { readiness });
    expect((await fetch(`${base}/readyz`)).status).toBe(500);
    remove();
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it("answers 404 for endpoints not configured and 405 for other methods", async () => {
    const base = await start(loopback, { metrics: new Registry() });
    expect((await fetch(`${base}/healthz`)).status).toBe(404);
    expect((await fetch(`${base}/other`)).status).toBe(404);
    const post = await fetch(`${base}/metrics`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  it("close() returns even with a keep-alive connection open", async () => {
    const server = await startOpsServer(loopback, { metrics: new Registry() });
    const response = await fetch(`http://127.0.0.1:${server.address.port}/metrics`, {
      headers: { connection: "keep-alive" },
    });
    await response.text();
    await server.close();
    await expect(fetch(`http://127.0.0.1:${server.address.port}/metrics`)).rejects.toThrow();
  });

  it("rejects a bad check name", () => {
    expect(() => new HealthChecks().add("Bad Name", () => undefined)).toThrow(RangeError);
  });
});

describe("parseListenAddress", () => {
  const valid: { text: string; expected: ListenAddress }[] = [
    { text: ":7472", expected: { host: undefined, port: 7472 } },
    { text: "127.0.0.1:0", expected: { host: "127.0.0.1", port: 0 } },
    { text: "[::1]:9100", expected: { host: "::1", port: 9100 } },
    { text: "localhost:8080", expected: { host: "localhost", port: 8080 } },
  ];
  for (const { text, expected } of valid) {
    it(`parses "${text}"`, () => {
      expect(parseListenAddress(text)).toEqual(expected);
    });
  }
  const invalid = ["7472", "::1:9100", "[192.0.2.1]:80", "host:65536", "host:", ""];
  for (const text of invalid) {
    it(`rejects "${text}"`, () => {
      expect(() => parseListenAddress(text)).toThrow(ListenAddressError);
    });
  }
});
