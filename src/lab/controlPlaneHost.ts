/**
 * The lab's control plane (entry point, inside the control-plane namespace): etcd and
 * kube-apiserver from src/testenv, the API server bound to the namespace's LAN address so node
 * namespaces reach it. It also carries the host's way in: the parent hands it, over the IPC
 * channel, a TCP listener it opened on the host's loopback; connections accepted there (in the
 * host's namespace, where the socket was made) are relayed to the API server from in here. No
 * route or address joins the host to the lab.
 *
 *   controlPlaneHost --work-dir DIR --bind 192.0.2.10 --port 6443 --ready-file PATH
 *
 * Writes the ready file (JSON: ControlPlaneHostReady) once the API server is ready; on SIGTERM
 * stops etcd and the API server and exits.
 */
import { writeFileSync } from "node:fs";
import net from "node:net";
import { parseArgs } from "node:util";
import { startControlPlane } from "../testenv/controlPlane.js";

export interface ControlPlaneHostReady {
  readonly server: string;
  readonly caPem: string;
  readonly adminToken: string;
  readonly workDir: string;
  readonly pids: { readonly etcd: number | undefined; readonly kubeApiServer: number | undefined };
}

/** IPC messages between the lab and this process. */
export type HostMessage = { readonly type: "want-listener" } | { readonly type: "listener" };

const { values } = parseArgs({
  options: {
    "work-dir": { type: "string" },
    bind: { type: "string" },
    port: { type: "string" },
    "ready-file": { type: "string" },
  },
});
const bind = values.bind ?? "";
const port = Number(values.port);
const readyFile = values["ready-file"] ?? "";
if (bind === "" || !Number.isInteger(port) || readyFile === "") {
  process.stderr.write(
    "usage: controlPlaneHost --bind ADDR --port PORT --ready-file PATH [--work-dir DIR]\n",
  );
  process.exit(2);
}

/** Relays every connection accepted on `listener` to the API server. */
function relay(listener: net.Server): void {
  listener.on("connection", (inbound) => {
    const outbound = net.connect({ host: bind, port });
    inbound.pipe(outbound).pipe(inbound);
    const close = (): void => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.once("error", close).once("close", close);
    outbound.once("error", close).once("close", close);
  });
}

const listenerArrived = new Promise<void>((resolve) => {
  if (process.send === undefined) {
    resolve();
    return;
  }
  process.on("message", (message: HostMessage, handle: unknown) => {
    if (message.type === "listener" && handle instanceof net.Server) {
      relay(handle);
      resolve();
    }
  });
  // Ask only now that the handler is in place: a handle sent earlier could be dropped.
  process.send({ type: "want-listener" } satisfies HostMessage);
});
// The lab disconnects once it has handed over the listener; that must not end us.
process.on("disconnect", () => undefined);

// Signals before the control plane is up end the process at once: exit handlers registered by
// startControlPlane kill what it started so far.
const shutdown: { stop?: () => void } = {};
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    if (shutdown.stop === undefined) process.exit(0);
    else shutdown.stop();
  });
}
const controlPlane = await startControlPlane({
  bindAddress: bind,
  apiServerPort: port,
  ...(values["work-dir"] === undefined ? {} : { parentDir: values["work-dir"] }),
});
shutdown.stop = () => {
  void controlPlane.stop().finally(() => process.exit(0));
};
await listenerArrived;
const ready: ControlPlaneHostReady = {
  server: controlPlane.server,
  caPem: controlPlane.caPem,
  adminToken: controlPlane.adminToken,
  workDir: controlPlane.workDir,
  pids: controlPlane.pids(),
};
writeFileSync(readyFile, JSON.stringify(ready), { mode: 0o600 });
