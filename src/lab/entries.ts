/**
 * How the lab starts IronLB's own programs: from the TypeScript sources under tsx (tests: they
 * exercise the working tree) or from the build in dist/ (`node dist/cli/main.js lab up`, and
 * benchmarks, which should not measure tsx). By default, the way this module itself was loaded.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The checkout (or package) root: src/lab and dist/lab are both two levels down. */
export const PACKAGE_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export type ProgramSource = "sources" | "built";

export const defaultProgramSource: ProgramSource = import.meta.url.endsWith(".ts") ? "sources" : "built";

/** `node [--import tsx] FILE` for a module given relative to src/ (or dist/), without extension. */
export function nodeEntry(modulePath: string, source: ProgramSource = defaultProgramSource): string[] {
  // tsx is resolved from the working directory: children run with cwd PACKAGE_ROOT.
  return source === "sources"
    ? [process.execPath, "--import", "tsx", join(PACKAGE_ROOT, "src", `${modulePath}.ts`)]
    : [process.execPath, join(PACKAGE_ROOT, "dist", `${modulePath}.js`)];
}

/** The `ironlb` command line. */
export const ironlbCommand = (source?: ProgramSource): string[] => nodeEntry("cli/main", source);
