import { spawn } from "node:child_process";
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

export interface ResolveOptions {
  /** Build into the cache when missing (default true); false only reports what is there. */
  readonly build?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The kube-apiserver and etcd to run: `$KUBEBUILDER_ASSETS` when set (the envtest convention),
 * otherwise the version-keyed cache filled by testenv/build.sh.
 */
export async function resolveBinaries(options: ResolveOptions = {}): Promise<ControlPlaneBinaries> {
  const env = options.env ?? process.env;
  const assets = env["KUBEBUILDER_ASSETS"];
  if (assets !== undefined && assets !== "") return fromAssets(assets);
  if (options.build === false) {
    const found = inDir(await runBuildScript(["--dir"]), "cache");
    if (!executable(found.kubeApiServer) || !executable(found.etcd)) {
      throw new BinariesUnavailableError(`not built yet: ${found.dir} (run npm run testenv)`);
    }
    return found;
  }
  return inDir(await runBuildScript([]), "cache");
}
