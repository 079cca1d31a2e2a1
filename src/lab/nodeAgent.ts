/**
 * What a lab node runs besides the speaker (entry point, inside the node's namespace): the node's
 * workload — an HTTP backend on both families that answers with the node's name — and kube-proxy
 * in IPVS mode, reduced to what Layer 2 needs: the LoadBalancer IPs of all Services on lo.
 *
 *   nodeAgent --node ilb-node1 --kubeconfig lab.kubeconfig --port 80 --ready-file PATH
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import type { V1Service } from "@kubernetes/client-node";
import { loadKubeConfig } from "../k8s/client.js";
import { Informer } from "../k8s/informer.js";
import { httpListWatch } from "../k8s/listWatch.js";
import { coreResources } from "../k8s/resource.js";
import { createLogger } from "../runtime/logger.js";
import { interfaceAddresses } from "./netns.js";
import { desiredVips, vipBatch, vipChanges } from "./vipSync.js";

const { values } = parseArgs({
  options: {
    node: { type: "string" },
    kubeconfig: { type: "string" },
    port: { type: "string", default: "80" },
    "ready-file": { type: "string" },
  },
});
const nodeName = values.node ?? "";
if (nodeName === "" || values.kubeconfig === undefined) {
  process.stderr.write("usage: nodeAgent --node NAME --kubeconfig PATH [--port 80] [--ready-file PATH]\n");
  process.exit(2);
}
const logger = createLogger({ name: "lab-node-agent" }).child({ node: nodeName });
const stop = new AbortController();

/** `ip -batch -` with `lines` on stdin, in this namespace. */
function ipBatch(lines: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("ip", ["-batch", "-"], { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`ip -batch failed (${String(code)}): ${stderr.trim()}`));
    });
    child.stdin.end(`${lines.join("\n")}\n`);
  });
}

// --- the backend: one line with the node's name, on every address of the node (VIPs included)
const server = createServer((request, response) => {
  response.writeHead(200, { "content-type": "text/plain", connection: "close" });
  response.end(`${nodeName}\n`);
  request.resume();
});
await new Promise<void>((resolve, reject) => {
  server.once("error", reject);
  server.listen({ host: "::", port: Number(values.port), ipv6Only: false }, resolve);
});

// --- kube-proxy: keep lo's addresses equal to the LoadBalancer IPs; syncs never overlap
const services = new Informer<V1Service>({
  resource: coreResources.services,
  client: httpListWatch(loadKubeConfig({ kubeconfig: values.kubeconfig })),
  logger,
  handlers: { onAdd: requestSync, onUpdate: requestSync, onDelete: requestSync },
});
let syncing = false;
let again = false;
function requestSync(): void {
  if (syncing) {
    again = true;
    return;
  }
  syncing = true;
  void (async () => {
    do {
      again = false;
      try {
        const changes = vipChanges(await interfaceAddresses(undefined, "lo"), desiredVips(services.list()));
        if (changes.add.length + changes.remove.length > 0) {
          await ipBatch(vipBatch(changes));
          logger.info({ added: changes.add, removed: changes.remove }, "VIPs on lo updated");
        }
      } catch (error) {
        logger.error({ err: error }, "VIP sync failed");
        again = true;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    } while (again && !stop.signal.aborted);
    syncing = false;
  })();
}
services.start(stop.signal);
await services.waitForSync(stop.signal);
requestSync();
if (values["ready-file"] !== undefined) writeFileSync(values["ready-file"], `${process.pid}\n`);
logger.info({ port: values.port }, "node agent ready");

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    stop.abort();
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
