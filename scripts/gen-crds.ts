/**
 * Writes one CustomResourceDefinition per IronLB kind into deploy/crds/ from the TypeBox schemas
 * in src/api, and removes generated files of kinds that no longer exist.
 * test/unit/api/crd.test.ts fails when the committed files differ from what this writes.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderCRDs } from "../src/api/crd.js";

const outDir = join(dirname(fileURLToPath(import.meta.url)), "..", "deploy", "crds");
mkdirSync(outDir, { recursive: true });
const rendered = renderCRDs();
const wanted = new Set(rendered.map((r) => r.fileName));
for (const file of readdirSync(outDir)) {
  if (file.startsWith("ironlb.io_") && file.endsWith(".yaml") && !wanted.has(file)) {
    rmSync(join(outDir, file));
    process.stdout.write(`removed ${file}\n`);
  }
}
for (const { fileName, yaml } of rendered) {
  writeFileSync(join(outDir, fileName), yaml);
  process.stdout.write(`wrote deploy/crds/${fileName}\n`);
}
