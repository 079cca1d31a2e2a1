import { afterEach, describe, expect, it } from "vitest";
import {
  KubeHttpError,
  WatchDecodeError,
  WatchTimeoutError,
  httpListWatch,
  type WatchEvent,
} from "../../../src/k8s/listWatch.js";
import { FakeApiServer, sendJson, status } from "./fakeApiServer.js";

const servers: FakeApiServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function serve(route: ConstructorParameters<typeof FakeApiServer>[0]): Promise<FakeApiServer> {
  const server = await new FakeApiServer(route).start();
  servers.push(server);
  return server;
}

const watchQuery = { resourceVersion: "41", timeoutSeconds: 300 };

function event(type: string, name: string, resourceVersion: string): string {
  return JSON.stringify({ type, object: { kind: "Thing", metadata: { name, resourceVersion } } }) + "\n";
}

describe("httpListWatch list", () => {
  it("sends selectors, paging and the bearer token, and returns items, resourceVersion and continue", async () => {
    const server = await serve((_req, res) => {
      sendJson(res, 200, {
        kind: "ThingList",
        metadata: { resourceVersion: "77", continue: "next-page" },
        items: [{ metadata: { name: "a" } }, { metadata: { name: "b" } }],
      });
    });
    const client = httpListWatch(server.kubeConfig());
    const page = await client.list(
      "/apis/example.io/v1/things",
      { labelSelector: "app=web", fieldSelector: "metadata.name!=x", limit: 2, continue: "abc" },
      new AbortController().signal,
    );
    expect(page).toEqual({
      items: [{ metadata: { name: "a" } }, { metadata: { name: "b" } }],
      resourceVersion: "77",
      continue: "next-page",
    });
    const request = server.requests[0];
    expect(request?.url.pathname).toBe("/apis/example.io/v1/things");
    expect(Object.fromEntries(request?.url.searchParams ?? [])).toEqual({
      labelSelector: "app=web",
      fieldSelector: "metadata.name!=x",
      limit: "2",
      continue: "abc",
    });
    expect(request?.authorization).toBe("Bearer t0ken");
  });

  it("an empty continue and null items mean the last, empty page", async () => {
    const server = await serve((_req, res) => {
      sendJson(res, 200, { metadata: { resourceVersion: "5", continue: "" }, items: null });
    });
    const page = await httpListWatch(server.kubeConfig()).list(
      "/api/v1/services",
      {},
      new AbortController().signal,
    );
    expect(page).toEqual({ items: [], resourceVersion: "5", continue: undefined });
  });

  it("an error Status becomes a KubeHttpError with code, reason and message", async () => {
    const server = await serve((_req, res) => {
      sendJson(res, 403, status(403, "Forbidden", 'services is forbidden: User "x" cannot list'));
    });
    const error = await httpListWatch(server.kubeConfig())
      .list("/api/v1/services", {}, new AbortController().signal)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeHttpError);
    expect(error).toMatchObject({ statusCode: 403, reason: "Forbidden" });
    expect((error as Error).message).toContain("cannot list");
  });

  it("reuses one keep-alive connection for consecutive lists", async () => {
    const server = await serve((_req, res) => {
      sendJson(res, 200, { metadata: { resourceVersion: "1" }, items: [] });
    });
    const client = httpListWatch(server.kubeConfig());
    for (let i = 0; i < 3; i++) await client.list("/api/v1/nodes", {}, new AbortController().signal);
    expect(server.requests).toHaveLength(3);
    expect(server.connections).toBe(1);
  });
});

describe("httpListWatch watch", () => {
  it("delivers events split across chunks in order and resolves when the server ends the stream", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      const text = event("ADDED", "a", "42") + event("MODIFIED", "a", "43") + event("BOOKMARK", "", "44");
      // Cut the stream at awkward places, including inside a line.
      const cuts = [0, 7, 60, 61, text.length - 3, text.length];
      let i = 0;
      const next = (): void => {
        if (i + 1 >= cuts.length) {
          res.end();
          return;
        }
        res.write(text.slice(cuts[i], cuts[i + 1]));
        i++;
        setTimeout(next, 2);
      };
      next();
    });
    const events: WatchEvent[] = [];
    await httpListWatch(server.kubeConfig()).watch(
      "/api/v1/services",
      { ...watchQuery, labelSelector: "a=b" },
      (e) => events.push(e),
      new AbortController().signal,
    );
    expect(events.map((e) => [e.type, e.object.metadata?.resourceVersion])).toEqual([
      ["ADDED", "42"],
      ["MODIFIED", "43"],
      ["BOOKMARK", "44"],
    ]);
    expect(Object.fromEntries(server.requests[0]?.url.searchParams ?? [])).toEqual({
      watch: "true",
      allowWatchBookmarks: "true",
      resourceVersion: "41",
      timeoutSeconds: "300",
      labelSelector: "a=b",
    });
  });

  it("an ERROR event rejects with its Status code (410 Gone → relist)", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      res.write(event("ADDED", "a", "42"));
      res.write(
        JSON.stringify({ type: "ERROR", object: status(410, "Expired", "too old resource version") }) + "\n",
      );
    });
    const events: WatchEvent[] = [];
    const error = await httpListWatch(server.kubeConfig())
      .watch("/api/v1/services", watchQuery, (e) => events.push(e), new AbortController().signal)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeHttpError);
    expect(error).toMatchObject({ statusCode: 410, reason: "Expired" });
    expect(events).toHaveLength(1);
  });

  it("a non-200 answer rejects with its status", async () => {
    const server = await serve((_req, res) => {
      sendJson(res, 404, status(404, "NotFound", "the server could not find the requested resource"));
    });
    await expect(
      httpListWatch(server.kubeConfig()).watch(
        "/apis/metallb.io/v1beta1/ipaddresspools",
        watchQuery,
        () => undefined,
        new AbortController().signal,
      ),
    ).rejects.toMatchObject({ statusCode: 404 });
  });

  it("a connection cut mid-stream rejects", async () => {
    const server = await serve((req, res) => {
      res.writeHead(200);
      res.write(event("ADDED", "a", "42"));
      setTimeout(() => req.socket.destroy(), 10);
    });
    await expect(
      httpListWatch(server.kubeConfig()).watch(
        "/api/v1/services",
        watchQuery,
        () => undefined,
        new AbortController().signal,
      ),
    ).rejects.toThrow();
  });

  it("a garbled line rejects with WatchDecodeError", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      res.write("{not json\n");
    });
    await expect(
      httpListWatch(server.kubeConfig()).watch(
        "/api/v1/services",
        watchQuery,
        () => undefined,
        new AbortController().signal,
      ),
    ).rejects.toBeInstanceOf(WatchDecodeError);
  });

  it("aborting resolves and closes the connection", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      res.write(event("ADDED", "a", "42"));
    });
    const controller = new AbortController();
    const events: WatchEvent[] = [];
    const watching = httpListWatch(server.kubeConfig()).watch(
      "/api/v1/services",
      watchQuery,
      (e) => {
        events.push(e);
        controller.abort();
      },
      controller.signal,
    );
    await expect(watching).resolves.toBeUndefined();
    expect(events).toHaveLength(1);
    for (let i = 0; i < 50 && server.openSockets() > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server.openSockets()).toBe(0);
  });

  it("a silent watch past timeoutSeconds plus slack rejects with WatchTimeoutError", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      res.write(event("ADDED", "a", "42"));
      // ...and then nothing, as from a hung API server.
    });
    const started = Date.now();
    const error = await httpListWatch(server.kubeConfig(), { watchDeadlineSlackMs: 100 })
      .watch(
        "/api/v1/services",
        { resourceVersion: "1", timeoutSeconds: 0 },
        () => undefined,
        new AbortController().signal,
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WatchTimeoutError);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
