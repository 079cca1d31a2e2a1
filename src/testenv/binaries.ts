import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where the control plane's binaries come from. */
export type BinarySource = "KUBEBUILDER_ASSETS" | "cache";

export interface ControlPlaneBinaries {
  readonly dir: string;
  readonly kubeApiServer: string;
  readonly etcd: string;
  readonly source: BinarySource;
}

export class BinariesUnavailableError extends Error {
  override readonly name = "BinariesUnavailableError";
  readonly code = "TESTENV_BINARIES_UNAVAILABLE";
}

/** testenv/build.sh of this checkout; src/testenv and dist/testenv are both two levels down. */
export const buildScript = fileURLToPath(new URL("../../testenv/build.sh", import.meta.url));

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function inDir(dir: string, source: BinarySource): ControlPlaneBinaries {
  return { dir, kubeApiServer: join(dir, "kube-apiserver"), etcd: join(dir, "etcd"), source };
}

function fromAssets(dir: string): ControlPlaneBinaries {
  const found = inDir(dir, "KUBEBUILDER_ASSETS");
  const missing = [found.kubeApiServer, found.etcd].filter((path) => !executable(path));
  if (missing.length > 0) {
    throw new BinariesUnavailableError(`KUBEBUILDER_ASSETS=${dir} lacks executable ${missing.join(", ")}`);
  }
  return found;
}

function runBuildScript(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    // The first build takes minutes: its progress goes to our stderr; stdout carries the folder.
    const child = spawn("bash", [buildScript, ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    const fail = (detail: string): void => {
      reject(
        new BinariesUnavailableError(
          `cannot build kube-apiserver and etcd with ${buildScript} (needs Go >= 1.26 and the Go ` +
            `module proxy, or set KUBEBUILDER_ASSETS): ${detail}`,
        ),
      );
    };
    child.on("error", (err) => {
      fail(err.message);
    });
    child.on("close", (code) => {
      const dir = stdout.trim().split("\n").at(-1) ?? "";
      if (code === 0 && dir !== "") resolve(dir);
      else fail(`exit code ${code ?? "null"}`);
    });
  });
}

/**
 * The binaries if they are already there (KUBEBUILDER_ASSETS or the cache), without building:
 * for checks that must be quick and synchronous, like a test file deciding whether to skip.
 */
export function locateBinariesSync(env: NodeJS.ProcessEnv = process.env): ControlPlaneBinaries {
  const assets = env["KUBEBUILDER_ASSETS"];
  if (assets !== undefined && assets !== "") return fromAssets(assets);
  const result = spawnSync("bash", [buildScript, "--dir"], { encoding: "utf8", env });
  const dir = result.status === 0 ? result.stdout.trim() : "";
  if (dir === "") throw new BinariesUnavailableError(`cannot run ${buildScript} --dir: ${result.stderr}`);
  const found = inDir(dir, "cache");
  if (!executable(found.kubeApiServer) || !executable(found.etcd)) {
    throw new BinariesUnavailableError(
      `kube-apiserver and etcd are not built yet in ${dir} (npm run testenv builds them)`,
    );
  }
  return found;
}

export interface ResolveOptions {
  /** Build into the cache when missing (default true); false only finds what is there. */
  readonly build?: boolean;
}

/**
 * The kube-apiserver and etcd to run: `$KUBEBUILDER_ASSETS` when set (the envtest convention),
 * otherwise the version-keyed cache filled by testenv/build.sh (built now when missing).
 */
export async function resolveBinaries(options: ResolveOptions = {}): Promise<ControlPlaneBinaries> {
  const assets = process.env["KUBEBUILDER_ASSETS"];
  if (options.build === false || (assets !== undefined && assets !== "")) return locateBinariesSync();
  return inDir(await runBuildScript([]), "cache");
}
