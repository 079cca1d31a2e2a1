import { createServer, type Server } from "node:net";

function listenOnAnyPort(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      resolve(server);
    });
  });
}

/**
 * `count` distinct TCP ports on `host` that nothing listens on right now: the kernel picks them
 * for throwaway listeners held open together (so no port is handed out twice), then closed.
 * Another process could take one before our server binds, so callers retry a failed start.
 */
export async function freePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listenOnAnyPort(host));
    return servers.map((server) => {
      const address = server.address();
      if (address === null || typeof address !== "object") throw new Error("listener has no port");
      return address.port;
    });
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}
