// Global setup of the integration project: one kube-apiserver + etcd for the whole run (the
// machine has 2 cores), provided to test files as "ironlbTestenv" (see testenv.ts). When the
// binaries cannot be had, the files that need the control plane skip with the reason, or fail
// with it under IRONLB_E2E=require (describeWithPrereqs decides, per file).
import type { TestProject } from "vitest/node";
import { resolveBinaries } from "../../src/testenv/binaries.js";
import { startControlPlane } from "../../src/testenv/controlPlane.js";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let binaries;
  try {
    binaries = await resolveBinaries();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    process.stderr.write(`testenv: no control plane for this run: ${reason}\n`);
    project.provide("ironlbTestenv", { available: false, reason });
    return () => Promise.resolve();
  }
  const started = performance.now();
  const controlPlane = await startControlPlane({ binaries });
  process.stderr.write(
    `testenv: kube-apiserver ${controlPlane.server} ready in ${Math.round(performance.now() - started)} ms ` +
      `(binaries: ${binaries.dir})\n`,
  );
  project.provide("ironlbTestenv", {
    available: true,
    connection: {
      server: controlPlane.server,
      kubeconfigPath: controlPlane.kubeconfigPath,
      caCertPath: controlPlane.caCertPath,
      caPem: controlPlane.caPem,
      adminToken: controlPlane.adminToken,
      unprivilegedToken: controlPlane.unprivilegedToken,
      adminCertPath: controlPlane.adminCertPath,
      adminKeyPath: controlPlane.adminKeyPath,
    },
  });
  return () => controlPlane.stop();
}
