import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";

export type Route = (request: IncomingMessage, response: ServerResponse, url: URL) => void;

/**
 * A loopback HTTP server answering like the API server for whatever `route` does, counting
 * TCP connections; plus a KubeConfig (token auth, plain HTTP) pointing at it.
 */
export class FakeApiServer {
  connections = 0;
  readonly requests: { method: string; url: URL; authorization: string | undefined }[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private route: Route) {
    this.server = createServer((request, response) => {
      const url = new URL(request.url ?? "/", "http://fake.invalid");
      this.requests.push({ method: request.method ?? "", url, authorization: request.headers.authorization });
      this.route(request, response, url);
    });
    this.server.on("connection", (socket: Socket) => {
      this.connections++;
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }

  setRoute(route: Route): void {
    this.route = route;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  kubeConfig(token = "t0ken"): KubeConfig {
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: "fake", server: this.url, skipTLSVerify: true }],
      users: [{ name: "tester", token }],
      contexts: [{ name: "fake", cluster: "fake", user: "tester" }],
      currentContext: "fake",
    });
    return config;
  }

  openSockets(): number {
    return this.sockets.size;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "Content-Type": "application/json" });
  response.end(JSON.stringify(body));
}

export function status(code: number, reason: string, message: string): object {
  return { kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message };
}
