// `npm run testenv -- up` as a separate process: it prints a working kubeconfig, stops cleanly on
// SIGTERM, and when it is killed outright its etcd and kube-apiserver die with it.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { once } from "node:events";
import { existsSync, rmSync } from "node:fs";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterEach, expect, test } from "vitest";
import { describeWithPrereqs } from "../support/e2e.js";
import { processAlive } from "../support/testenv.js";

const cli = fileURLToPath(new URL("../../src/testenv/cli.ts", import.meta.url));

interface Started {
  readonly child: ChildProcessByStdio<null, Readable, null>;
  readonly kubeconfigPath: string;
  readonly workDir: string;
  readonly pids: { etcd: number; kubeApiServer: number };
}

const alive = processAlive;

const running: Started[] = [];

/** Starts `testenv up` and waits for its report. */
function startUp(): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", cli, "up"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      const kubeconfig = /^export KUBECONFIG=(.+)$/m.exec(out)?.[1];
      const pids = /^pids: (.+)$/m.exec(out)?.[1];
      const logs = /^logs: (.+)\/\{etcd,kube-apiserver\}\.log$/m.exec(out)?.[1];
      if (kubeconfig !== undefined && pids !== undefined && logs !== undefined) {
        const started = {
          child,
          kubeconfigPath: kubeconfig,
          workDir: logs,
          pids: JSON.parse(pids) as Started["pids"],
        };
        running.push(started);
        resolve(started);
      }
    });
    child.once("exit", (code) => {
      reject(new Error(`testenv up exited with ${code ?? "a signal"}:\n${out}`));
    });
  });
}

async function exited(started: Started): Promise<void> {
  if (started.child.exitCode !== null || started.child.signalCode !== null) return;
  await once(started.child, "exit");
}

describeWithPrereqs("npm run testenv -- up", { controlPlane: true }, () => {
  afterEach(() => {
    // Only what this file started, by PID, in case an assertion failed half-way.
    for (const started of running.splice(0)) {
      for (const pid of [started.child.pid, started.pids.kubeApiServer, started.pids.etcd]) {
        if (pid !== undefined && alive(pid)) process.kill(pid, "SIGKILL");
      }
    }
  });

  test("prints a kubeconfig that works and cleans up on SIGTERM", async () => {
    const started = await startUp();
    const config = new KubeConfig();
    config.loadFromFile(started.kubeconfigPath);
    const namespaces = await config.makeApiClient(CoreV1Api).listNamespace();
    expect(namespaces.items.map((ns) => ns.metadata?.name)).toContain("default");

    started.child.kill("SIGTERM");
    await exited(started);
    expect(started.child.exitCode).toBe(0);
    expect(alive(started.pids.etcd)).toBe(false);
    expect(alive(started.pids.kubeApiServer)).toBe(false);
    expect(existsSync(started.workDir)).toBe(false);
  });

  test("its servers die with it when it is killed with SIGKILL", async () => {
    const started = await startUp();
    started.child.kill("SIGKILL");
    await exited(started);
    await expect
      .poll(() => alive(started.pids.etcd) || alive(started.pids.kubeApiServer), { timeout: 10_000 })
      .toBe(false);
    // Nothing could clean up after a SIGKILL: remove its folder here.
    rmSync(started.workDir, { recursive: true, force: true });
  });
});
