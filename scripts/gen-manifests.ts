/**
 * Writes deploy/ironlb.yaml (chart defaults rendered by src/deploy), the chart's generated
 * templates (RBAC, webhook configuration) and the Grafana dashboard; test/unit/deploy fails when
 * any is stale. The chart's crds/ is a link to deploy/crds (npm run gen:crds), so it never is.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { rbacTemplate, webhookTemplate } from "../src/deploy/chartTemplates.js";
import { dashboardText } from "../src/deploy/grafana.js";
import { defaultManifest } from "../src/deploy/manifest.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
writeFileSync(join(root, "deploy", "ironlb.yaml"), defaultManifest());
process.stdout.write("wrote deploy/ironlb.yaml\n");

const templates = join(root, "charts", "ironlb", "templates");
writeFileSync(join(templates, "rbac.yaml"), rbacTemplate());
writeFileSync(join(templates, "webhook.yaml"), webhookTemplate());
process.stdout.write("wrote charts/ironlb/templates/rbac.yaml and webhook.yaml\n");

mkdirSync(join(root, "deploy", "grafana"), { recursive: true });
writeFileSync(join(root, "deploy", "grafana", "ironlb.json"), dashboardText());
process.stdout.write("wrote deploy/grafana/ironlb.json\n");
