/**
 * Writes deploy/ironlb.yaml (chart defaults rendered by src/deploy) and copies the generated CRDs
 * into charts/ironlb/crds. test/unit/deploy/manifest.test.ts fails when either is stale.
 */
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { rbacTemplate, webhookTemplate } from "../src/deploy/chartTemplates.js";
import { dashboardText } from "../src/deploy/grafana.js";
import { defaultManifest } from "../src/deploy/manifest.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
writeFileSync(join(root, "deploy", "ironlb.yaml"), defaultManifest());
process.stdout.write("wrote deploy/ironlb.yaml\n");

const crdSource = join(root, "deploy", "crds");
const crdTarget = join(root, "charts", "ironlb", "crds");
mkdirSync(crdTarget, { recursive: true });
const wanted = new Set(readdirSync(crdSource).filter((f) => f.endsWith(".yaml")));
for (const file of readdirSync(crdTarget)) if (!wanted.has(file)) rmSync(join(crdTarget, file));
for (const file of wanted) copyFileSync(join(crdSource, file), join(crdTarget, file));
process.stdout.write(`copied ${wanted.size} CRDs into charts/ironlb/crds\n`);

const templates = join(root, "charts", "ironlb", "templates");
writeFileSync(join(templates, "rbac.yaml"), rbacTemplate());
writeFileSync(join(templates, "webhook.yaml"), webhookTemplate());
process.stdout.write("wrote charts/ironlb/templates/rbac.yaml and webhook.yaml\n");

mkdirSync(join(root, "deploy", "grafana"), { recursive: true });
writeFileSync(join(root, "deploy", "grafana", "ironlb.json"), dashboardText());
process.stdout.write("wrote deploy/grafana/ironlb.json\n");
