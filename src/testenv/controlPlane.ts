import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveBinaries, type ControlPlaneBinaries } from "./binaries.js";
import { onExitCleanup } from "./exitCleanup.js";
import { freePorts } from "./freePort.js";
import { NotReadyError, waitUntilReady } from "./httpProbe.js";
import { renderKubeconfig } from "./kubeconfig.js";
import { ManagedProcess, defaultStopGraceMs } from "./managedProcess.js";
import { createPki, type ControlPlanePki } from "./pki.js";

/** Dual-stack Service ranges: values internal to the API server, never routed anywhere. */
export const defaultServiceClusterIPRanges = ["10.96.0.0/16", "fd00:10:96::/112"] as const;
export const serviceAccountIssuer = "https://kubernetes.default.svc.cluster.local";
export const adminUser = "ironlb-testenv-admin";
export const unprivilegedUser = "ironlb-testenv-user";

export interface ControlPlaneOptions {
  /** Binaries to run; default: resolveBinaries() (KUBEBUILDER_ASSETS or the build cache). */
  readonly binaries?: ControlPlaneBinaries;
  /** Parent of the temporary work folder; default the OS temp folder. */
  readonly parentDir?: string;
  readonly serviceClusterIPRanges?: readonly string[];
  /** More kube-apiserver flags ("--name=value"), appended after ours so they win. */
  readonly extraApiServerArgs?: readonly string[];
  /** Bound for each component to become ready; default 60 s. */
  readonly readyTimeoutMs?: number;
  /** Keep the work folder (logs, certificates, etcd data) after stop(), for debugging. */
  readonly keepWorkDir?: boolean;
  /**
   * Address kube-apiserver listens on and advertises, also in its serving certificate; default
   * 127.0.0.1. The lab binds its control-plane namespace's LAN address. etcd stays on loopback.
   */
  readonly bindAddress?: string;
  /** kube-apiserver's port; default a free one (retried if taken meanwhile). */
  readonly apiServerPort?: number;
}

/** Everything a client (in this process or another) needs to talk to the control plane. */
export interface ControlPlaneConnection {
  /** https://127.0.0.1:PORT (or the bind address given in the options) */
  readonly server: string;
  /** kubeconfig of the admin identity (token in group system:masters). */
  readonly kubeconfigPath: string;
  readonly caCertPath: string;
  readonly caPem: string;
  /** Bearer token of user ironlb-testenv-admin, group system:masters. */
  readonly adminToken: string;
  /** Bearer token of user ironlb-testenv-user: authenticated, no RBAC grants. */
  readonly unprivilegedToken: string;
  /** Client certificate and key (PEM paths) of the admin, group system:masters. */
  readonly adminCertPath: string;
  readonly adminKeyPath: string;
}

export interface RestartOptions {
  /** Time the component stays down before it is started again; default 0. */
  readonly downMs?: number;
  /** "SIGKILL" kills it at once instead of a graceful SIGTERM; default "SIGTERM". */
  readonly signal?: "SIGTERM" | "SIGKILL";
}

export interface ControlPlane extends ControlPlaneConnection {
  readonly etcdUrl: string;
  readonly workDir: string;
  readonly binaries: ControlPlaneBinaries;
  /** PIDs of the processes it runs (they change on restart). */
  pids(): { etcd: number | undefined; kubeApiServer: number | undefined };
  /** Stops etcd, keeps it down for `downMs`, starts it on the same port and data, waits for health. */
  restartEtcd(options?: RestartOptions): Promise<void>;
  /** Stops the API server, keeps it down for `downMs`, starts it on the same port, waits for /readyz. */
  restartApiServer(options?: RestartOptions): Promise<void>;
  /** Writes a kubeconfig for another identity (e.g. a ServiceAccount token) and returns its path. */
  writeKubeconfig(identity: { userName: string; token: string; namespace?: string }): Promise<string>;
  /** Stops both processes (only the PIDs it started) and removes the work folder. Idempotent. */
  stop(): Promise<void>;
}

export class ControlPlaneStartError extends Error {
  override readonly name = "ControlPlaneStartError";
  readonly code = "TESTENV_START";
}

const token = (): string => randomBytes(24).toString("hex");
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Ports {
  readonly etcdClient: number;
  readonly etcdPeer: number;
  readonly apiServer: number;
}

function etcdArgs(workDir: string, ports: Ports): string[] {
  const client = `http://127.0.0.1:${ports.etcdClient}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    "--name=default",
    `--data-dir=${join(workDir, "etcd-data")}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    // Test data: losing it on a machine crash is fine, and fsync dominates write latency.
    "--unsafe-no-fsync=true",
    "--log-level=warn",
  ];
}

/** https://HOST:PORT, with IPv6 hosts in brackets. */
function httpsUrl(host: string, port: number): string {
  return host.includes(":") ? `https://[${host}]:${port}` : `https://${host}:${port}`;
}

function apiServerArgs(
  workDir: string,
  ports: Ports,
  pki: ControlPlanePki,
  tokenFile: string,
  options: ControlPlaneOptions,
): string[] {
  const ranges = options.serviceClusterIPRanges ?? defaultServiceClusterIPRanges;
  const bindAddress = options.bindAddress ?? "127.0.0.1";
  return [
    `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
    `--bind-address=${bindAddress}`,
    `--advertise-address=${bindAddress}`,
    // The endpoint reconciler refuses a loopback address, and nothing routes to the
    // "kubernetes" Service of a test control plane anyway.
    "--endpoint-reconciler-type=none",
    `--secure-port=${ports.apiServer}`,
    `--cert-dir=${join(workDir, "apiserver-certs")}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    `--client-ca-file=${pki.caCert}`,
    `--token-auth-file=${tokenFile}`,
    "--authorization-mode=Node,RBAC",
    `--service-account-issuer=${serviceAccountIssuer}`,
    `--service-account-key-file=${pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    `--service-cluster-ip-range=${ranges.join(",")}`,
    "--allow-privileged=true",
    "--profiling=false",
    ...(options.extraApiServerArgs ?? []),
  ];
}

/** The first address of a CIDR (the API server's own Service IP), for the serving certificate. */
function firstServiceIP(cidr: string): string {
  const base = cidr.split("/")[0] ?? cidr;
  if (base.includes(":")) return base.endsWith("::") ? `${base}1` : base;
  const octets = base.split(".").map(Number);
  octets[3] = (octets[3] ?? 0) + 1;
  return octets.join(".");
}

const addressInUse = (log: string): boolean => /address already in use/i.test(log);

/**
 * Starts etcd and kube-apiserver on loopback with free ports in a fresh temporary folder and waits
 * until the API server's /readyz is ok. Everything started is stopped by stop(), and also when this
 * process exits (by PID, with the work folder removed).
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binaries = options.binaries ?? (await resolveBinaries());
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const workDir = await mkdtemp(join(options.parentDir ?? tmpdir(), "ironlb-testenv-"));
  const ranges = options.serviceClusterIPRanges ?? defaultServiceClusterIPRanges;
  let etcd: ManagedProcess | undefined;
  let apiServer: ManagedProcess | undefined;
  const unregister = onExitCleanup(() => {
    apiServer?.killNow();
    etcd?.killNow();
    if (options.keepWorkDir !== true) rmSync(workDir, { recursive: true, force: true });
  });
  const stopAll = async (): Promise<void> => {
    await apiServer?.stop();
    await etcd?.stop();
  };

  try {
    const pkiDir = join(workDir, "pki");
    mkdirSync(pkiDir);
    const extraServingIPs = options.bindAddress === undefined ? [] : [options.bindAddress];
    const pki = await createPki(pkiDir, [...ranges.map(firstServiceIP), ...extraServingIPs]);
    const caPem = await readFile(pki.caCert, "utf8");
    const adminToken = token();
    const unprivilegedToken = token();
    const tokenFile = join(workDir, "tokens.csv");
    await writeFile(
      tokenFile,
      `${adminToken},${adminUser},${adminUser},"system:masters"\n` +
        `${unprivilegedToken},${unprivilegedUser},${unprivilegedUser}\n`,
      { mode: 0o600 },
    );

    const waitEtcd = (component: ManagedProcess, url: string): Promise<void> =>
      waitUntilReady({ url: `${url}/health` }, (r) => r.status === 200 && r.body.includes('"true"'), {
        timeoutMs: readyTimeoutMs,
        giveUp: () => (component.running ? undefined : `etcd exited:\n${component.logTail()}`),
      });
    const waitApiServer = (component: ManagedProcess, server: string): Promise<void> =>
      waitUntilReady({ url: `${server}/readyz`, caPem, bearerToken: adminToken }, (r) => r.status === 200, {
        timeoutMs: readyTimeoutMs,
        intervalMs: 200,
        giveUp: () => (component.running ? undefined : `kube-apiserver exited:\n${component.logTail()}`),
      });

    // Free ports can be taken by someone else before we bind them: retry with new ones.
    let ports: Ports | undefined;
    for (let attempt = 1; ports === undefined; attempt++) {
      const [etcdClient = 0, etcdPeer = 0, apiServerPort = 0] = await freePorts(3);
      const candidate = { etcdClient, etcdPeer, apiServer: options.apiServerPort ?? apiServerPort };
      const server = httpsUrl(options.bindAddress ?? "127.0.0.1", candidate.apiServer);
      etcd = new ManagedProcess({
        name: "etcd",
        command: binaries.etcd,
        args: etcdArgs(workDir, candidate),
        logFile: join(workDir, "etcd.log"),
      });
      apiServer = new ManagedProcess({
        name: "kube-apiserver",
        command: binaries.kubeApiServer,
        args: apiServerArgs(workDir, candidate, pki, tokenFile, options),
        logFile: join(workDir, "kube-apiserver.log"),
      });
      try {
        etcd.start();
        await waitEtcd(etcd, `http://127.0.0.1:${candidate.etcdClient}`);
        apiServer.start();
        await waitApiServer(apiServer, server);
        ports = candidate;
      } catch (err) {
        const retry = attempt < 3 && err instanceof NotReadyError && addressInUse(err.message);
        await stopAll();
        if (!retry) throw err;
        rmSync(join(workDir, "etcd-data"), { recursive: true, force: true });
      }
    }

    const server = httpsUrl(options.bindAddress ?? "127.0.0.1", ports.apiServer);
    const etcdUrl = `http://127.0.0.1:${ports.etcdClient}`;
    const kubeconfigPath = join(workDir, "admin.kubeconfig");
    await writeFile(
      kubeconfigPath,
      renderKubeconfig({ server, caPem, userName: adminUser, token: adminToken }),
      {
        mode: 0o600,
      },
    );
    const runningEtcd = etcd;
    const runningApiServer = apiServer;
    if (runningEtcd === undefined || runningApiServer === undefined) throw new Error("unreachable");

    const restart = async (
      component: ManagedProcess,
      wait: () => Promise<void>,
      restartOptions: RestartOptions,
    ): Promise<void> => {
      if (restartOptions.signal === "SIGKILL") component.killNow();
      await component.stop(defaultStopGraceMs);
      if (restartOptions.downMs !== undefined && restartOptions.downMs > 0)
        await sleep(restartOptions.downMs);
      component.start();
      await wait();
    };

    let stopped = false;
    let kubeconfigCount = 0;
    return {
      server,
      kubeconfigPath,
      caCertPath: pki.caCert,
      caPem,
      adminToken,
      unprivilegedToken,
      adminCertPath: pki.adminCert,
      adminKeyPath: pki.adminKey,
      etcdUrl,
      workDir,
      binaries,
      pids: () => ({ etcd: runningEtcd.pid, kubeApiServer: runningApiServer.pid }),
      restartEtcd: (restartOptions = {}) =>
        restart(runningEtcd, () => waitEtcd(runningEtcd, etcdUrl), restartOptions),
      restartApiServer: (restartOptions = {}) =>
        restart(runningApiServer, () => waitApiServer(runningApiServer, server), restartOptions),
      writeKubeconfig: async (identity) => {
        kubeconfigCount += 1;
        const path = join(workDir, `identity-${kubeconfigCount}.kubeconfig`);
        await writeFile(path, renderKubeconfig({ server, caPem, ...identity }), { mode: 0o600 });
        return path;
      },
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await stopAll();
        unregister();
        if (options.keepWorkDir !== true) await rm(workDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await stopAll();
    unregister();
    if (options.keepWorkDir !== true) await rm(workDir, { recursive: true, force: true });
    if (err instanceof ControlPlaneStartError) throw err;
    const detail = err instanceof Error ? err.message : String(err);
    throw new ControlPlaneStartError(`test control plane did not start: ${detail}`, { cause: err });
  }
}
