import { defineConfig } from "vitest/config";

// Three suites: unit (pure, seconds, no root), integration (a real kube-apiserver + etcd),
// e2e (network-namespace lab, root). `npm test` runs all of them; `npm run test:unit` the first.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          // Generous: key generation and property tests on a loaded 2-core CI machine. Speed
          // targets live in benchmarks, never in test timeouts.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          // One shared kube-apiserver + etcd per run (see test/support/testenv.ts).
          globalSetup: ["test/support/controlPlaneGlobalSetup.ts"],
          testTimeout: 120_000,
          hookTimeout: 1_800_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 1_800_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
