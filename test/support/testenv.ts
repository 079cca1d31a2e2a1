// The shared test control plane, as seen from integration test files. The integration project's
// global setup (controlPlaneGlobalSetup.ts) starts one kube-apiserver + etcd per test run and
// provides its connection here; files that must restart components start their own.
import { KubeConfig } from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, inject } from "vitest";
import {
  startControlPlane,
  type ControlPlane,
  type ControlPlaneConnection,
} from "../../src/testenv/controlPlane.js";
import { resolveBinaries } from "../../src/testenv/binaries.js";

export type TestenvProvided =
  | { readonly available: true; readonly connection: ControlPlaneConnection }
  | { readonly available: false; readonly reason: string };

declare module "vitest" {
  export interface ProvidedContext {
    ironlbTestenv: TestenvProvided;
  }
}

export class NoControlPlaneError extends Error {
  override readonly name = "NoControlPlaneError";
  readonly code = "TESTENV_NO_CONTROL_PLANE";
}

/** The shared control plane's connection; use with describeWithPrereqs(..., { controlPlane: true }). */
export function sharedControlPlane(): ControlPlaneConnection {
  const provided = inject("ironlbTestenv");
  if (!provided.available) throw new NoControlPlaneError(provided.reason);
  return provided.connection;
}

/** A client-node KubeConfig for a bearer token against `connection` (admin token by default). */
export function kubeConfigFor(connection: ControlPlaneConnection, token = connection.adminToken): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [
      {
        name: "testenv",
        server: connection.server,
        caData: Buffer.from(connection.caPem).toString("base64"),
      },
    ],
    users: [{ name: "user", token }],
    contexts: [{ name: "testenv", cluster: "testenv", user: "user" }],
    currentContext: "testenv",
  });
  return config;
}

/**
 * A control plane of this test file's own, for tests that stop or restart etcd or the API server
 * (the shared one must stay up for other files). Started in beforeAll, stopped in afterAll.
 */
export function useOwnControlPlane(): () => ControlPlane {
  let controlPlane: ControlPlane | undefined;
  beforeAll(async () => {
    controlPlane = await startControlPlane({ binaries: await resolveBinaries() });
  });
  afterAll(async () => {
    await controlPlane?.stop();
  });
  return () => {
    if (controlPlane === undefined) throw new NoControlPlaneError("the control plane starts in beforeAll");
    return controlPlane;
  };
}

/** A namespace name unique to this run, so files sharing the control plane never collide. */
export function uniqueNamespace(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/**
 * Whether process `pid` still runs. A zombie (exited, not yet reaped by whoever inherited it)
 * counts as gone: it holds no ports and does no work.
 */
export function processAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    // Field 3 of /proc/PID/stat, after the parenthesised command name, is the state letter.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}
