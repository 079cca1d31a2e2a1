/**
 * Benchmark runner: `npm run bench [-- NAME...]` runs every bench/*.bench.ts (or those whose
 * file name contains one of NAME) one after another and prints one JSON line per figure.
 * Each bench module's default export receives `emit` and reports its figures through it.
 */
import { readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";

export interface BenchFigure {
  bench: string;
  figure: string;
  value: number;
  unit: string;
  [extra: string]: unknown;
}

export type Emit = (figure: BenchFigure) => void;
export type BenchModule = { default: (emit: Emit) => Promise<void> };

const dir = path.dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filters.length === 0 || filters.some((name) => f.includes(name)))
  .sort();

const emit: Emit = (figure) => {
  process.stdout.write(`${JSON.stringify(figure)}\n`);
};

for (const file of files) {
  const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as BenchModule;
  await mod.default(emit);
}
