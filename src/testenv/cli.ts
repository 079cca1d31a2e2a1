#!/usr/bin/env node
// `npm run testenv [-- up | token NAMESPACE/NAME --kubeconfig PATH]`: the test control plane by hand.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Command } from "commander";
import { resolveBinaries } from "./binaries.js";
import { startControlPlane } from "./controlPlane.js";
import { requestServiceAccountToken } from "./serviceAccount.js";

const execFileAsync = promisify(execFile);

async function versionOf(binary: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync(binary, ["--version"]);
    return stdout.trim().split("\n")[0] ?? "";
  } catch {
    return "does not run";
  }
}

async function showBinaries(): Promise<void> {
  const binaries = await resolveBinaries();
  process.stdout.write(
    `source: ${binaries.source}\n` +
      `kube-apiserver: ${binaries.kubeApiServer} (${await versionOf(binaries.kubeApiServer)})\n` +
      `etcd: ${binaries.etcd} (${(await versionOf(binaries.etcd)).replace(/\s+/g, " ")})\n` +
      `export KUBEBUILDER_ASSETS=${binaries.dir}\n`,
  );
}

async function up(options: { keep?: boolean }): Promise<void> {
  const binaries = await resolveBinaries();
  const started = performance.now();
  const controlPlane = await startControlPlane({ binaries, keepWorkDir: options.keep === true });
  const readyMs = Math.round(performance.now() - started);
  process.stdout.write(
    `control plane ready in ${readyMs} ms (to /readyz)\n` +
      `server: ${controlPlane.server}\n` +
      `etcd: ${controlPlane.etcdUrl}\n` +
      `pids: ${JSON.stringify(controlPlane.pids())}\n` +
      `logs: ${controlPlane.workDir}/{etcd,kube-apiserver}.log\n` +
      `export KUBECONFIG=${controlPlane.kubeconfigPath}\n` +
      `Ctrl-C stops it.\n`,
  );
  await new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
      process.once(signal, () => {
        resolve();
      });
  });
  process.stdout.write("stopping\n");
  await controlPlane.stop();
}

async function token(serviceAccount: string, options: { kubeconfig: string }): Promise<void> {
  const [namespace, name, ...rest] = serviceAccount.split("/");
  if (namespace === undefined || name === undefined || rest.length > 0 || namespace === "" || name === "") {
    throw new Error(`expected NAMESPACE/NAME, got ${serviceAccount}`);
  }
  process.stdout.write(`${await requestServiceAccountToken(options.kubeconfig, namespace, name)}\n`);
}

const program = new Command("testenv")
  .description("kube-apiserver + etcd for IronLB's tests and lab; without a command, shows the binaries")
  .action(showBinaries);
program
  .command("up")
  .description("start a control plane on loopback and print its kubeconfig; runs until Ctrl-C")
  .option("--keep", "keep the work folder (logs, certificates, etcd data) after stopping")
  .action(up);
program
  .command("token")
  .description("print a TokenRequest token for a ServiceAccount (created if missing)")
  .argument("<namespace/name>")
  .requiredOption("--kubeconfig <path>", "admin kubeconfig of a running control plane")
  .action(token);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`testenv: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
