/**
 * Entry point: one node's BGP speaker driven by a YAML file (see bgpStatic.ts), for the lab and
 * the interop tests. Events go to stdout as JSON lines; signals steer it:
 *   SIGHUP   re-read the file and reconcile
 *   SIGUSR1  print {"event":"status", status, metrics}
 *   SIGTERM  stop in --stop-mode (restart: graceful-restart peers keep our routes; shutdown:
 *            Cease to every peer) and exit 0
 *
 *   bgpStaticMain --file lab.yaml --node ilb-node1 [--state-dir DIR] [--stop-mode restart|shutdown]
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Registry } from "prom-client";
import { describeNotification } from "../bgp/codec/constants.js";
import { BgpManager, combineManagerObservers, type ManagerObserver } from "../bgp/manager.js";
import { bgpPromMetrics } from "../bgp/metrics.js";
import { fileRestartMarker, memoryRestartMarker } from "../bgp/restartMarker.js";
import { formatCIDR } from "../net/ip.js";
import { BgpSpeaker } from "./bgp.js";
import type { NodeIdentity } from "./bgpPeers.js";
import { readStaticState, type StaticState } from "./bgpStatic.js";
import { speakerBfd } from "./bfd.js";

const { values } = parseArgs({
  options: {
    file: { type: "string" },
    node: { type: "string" },
    "state-dir": { type: "string" },
    "stop-mode": { type: "string", default: "restart" },
  },
});
const file = values.file ?? "";
const node = values.node ?? "";
const stopMode = values["stop-mode"];
if (file === "" || node === "" || (stopMode !== "restart" && stopMode !== "shutdown")) {
  process.stderr.write(
    "usage: bgpStaticMain --file PATH --node NAME [--state-dir DIR] [--stop-mode restart|shutdown]\n",
  );
  process.exit(2);
}

const emit = (event: string, fields: Record<string, unknown> = {}): void => {
  process.stdout.write(
    `${JSON.stringify({ event, node, t: Date.now(), ...fields }, (_k, v: unknown) =>
      typeof v === "bigint" ? v.toString() : v,
    )}\n`,
  );
};

const events: ManagerObserver = {
  forPeer(spec) {
    const peer = spec.name;
    return {
      stateChanged: (from, to) => {
        emit("state", { peer, from, to });
      },
      established: (n) => {
        emit("established", { peer, peerAs: n.peerAs, holdTimeMs: n.holdTimeMs });
      },
      down: (reason) => {
        const n = reason.notification;
        emit("down", {
          peer,
          kind: reason.kind,
          detail: reason.detail,
          ...(n === undefined
            ? {}
            : { code: n.code, subcode: n.subcode, notification: describeNotification(n.code, n.subcode) }),
        });
      },
      protocolError: (error) => {
        emit("protocolError", {
          peer,
          code: error.errorCode,
          subcode: error.subcode,
          message: error.message,
        });
      },
      updateProblems: (problems, treatAsWithdraw) => {
        emit("updateProblems", { peer, treatAsWithdraw, problems: problems.map((p) => ({ ...p })) });
      },
      routesSkipped: (prefixes) => {
        emit("routesSkipped", { peer, prefixes: prefixes.map(formatCIDR) });
      },
    };
  },
};

let state: StaticState = readStaticState(file, node);
const registry = new Registry();
const ref: { manager?: BgpManager } = {};
const marker =
  values["state-dir"] === undefined
    ? memoryRestartMarker()
    : fileRestartMarker(join(values["state-dir"], "bgp-graceful-restart"), (error) => {
        emit("markerError", { message: String(error) });
      });
const manager = new BgpManager({
  restartMarker: marker,
  bfd: speakerBfd({
    registry,
    observer: {
      stateChanged: (peer, change) => {
        emit("bfd", { peer, ...change });
      },
      socketError: (peer, error) => {
        emit("bfdSocketError", { peer, message: String(error) });
      },
      ttlUnchecked: (local, multiHop) => {
        emit("bfdTtlUnchecked", { local, multiHop });
      },
    },
  }),
  observer: combineManagerObservers([bgpPromMetrics(registry, () => ref.manager?.status() ?? []), events]),
});
ref.manager = manager;
const speaker = new BgpSpeaker({
  node,
  manager,
  identity: (): NodeIdentity => state.identity,
  passwords: (namespace, name) => state.passwords(namespace, name),
});

function reconcile(): void {
  const result = speaker.reconcile(state.snapshot);
  emit("reconciled", {
    peers: result.plan.peers.map((p) => ({
      peer: p.peer,
      prefixes: p.advertisements.map((a) => formatCIDR(a.prefix)),
    })),
    problems: result.problems,
  });
}

process.on("SIGHUP", () => {
  try {
    state = readStaticState(file, node);
    reconcile();
  } catch (error) {
    emit("error", { message: error instanceof Error ? error.message : String(error) });
  }
});
process.on("SIGUSR1", () => {
  void registry.metrics().then((metrics) => {
    emit("status", { status: speaker.status(), metrics, memory: process.memoryUsage() });
  });
});
let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void speaker.stop(stopMode).then(() => {
    emit("stopped", { mode: stopMode });
    process.exit(0);
  });
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

emit("starting", { restarting: marker.wasRunning(), identity: state.identity });
reconcile();
// Keep the process alive: BGP timers are unref'd so that they never block a shutdown.
setInterval(() => undefined, 1 << 30);
