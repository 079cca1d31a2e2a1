/**
 * How the lab starts IronLB's own programs: from dist/ when it runs compiled (`node
 * dist/cli/main.js lab up`), from the TypeScript sources under tsx when it runs from src/ (tests
 * and benchmarks), so a test always exercises the code in the working tree.
 */
import { fileURLToPath } from "node:url";

/** The checkout (or package) root: src/lab and dist/lab are both two levels down. */
export const PACKAGE_ROOT = fileURLToPath(new URL("../..", import.meta.url));

const fromSources = import.meta.url.endsWith(".ts");

/** `node [--import tsx] FILE` for a module given relative to src/ (or dist/), without extension. */
export function nodeEntry(modulePath: string): string[] {
  const file = fileURLToPath(new URL(`../${modulePath}${fromSources ? ".ts" : ".js"}`, import.meta.url));
  // tsx is resolved from the working directory: children run with cwd PACKAGE_ROOT.
  return fromSources ? [process.execPath, "--import", "tsx", file] : [process.execPath, file];
}

/** The `ironlb` command line. */
export const ironlbCommand = (): string[] => nodeEntry("cli/main");
