import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DASHBOARD_ROWS, dashboard, dashboardText, metricNames } from "../../../src/deploy/grafana.js";

const root = join(import.meta.dirname, "..", "..", "..");

/** Every metric name registered in src (prom-client `name: "ironlb_…"`). */
function registeredMetrics(): Set<string> {
  const names = new Set<string>();
  const files = readdirSync(join(root, "src"), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".ts"));
  for (const file of files)
    for (const m of readFileSync(join(root, "src", file), "utf8").matchAll(/name: "(ironlb_[a-z0-9_]+)"/g))
      names.add(m[1] ?? "");
  return names;
}

describe("Grafana dashboard", () => {
  it("deploy/grafana/ironlb.json is current (npm run gen:manifests)", () => {
    expect(readFileSync(join(root, "deploy", "grafana", "ironlb.json"), "utf8")).toBe(dashboardText());
  });

  const registered = registeredMetrics();
  const queries = DASHBOARD_ROWS.flatMap((row) =>
    row.panels.flatMap((panel) => panel.targets.map((t) => ({ panel: panel.title, expr: t.expr }))),
  );
  it.each(queries)("$panel: every metric queried is exported by the code", ({ expr }) => {
    const names = metricNames(expr);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(registered, name).toContain(name);
  });

  it("covers pool usage, allocation failures, announcements, BGP sessions and failovers", () => {
    const all = queries.map((q) => q.expr).join("\n");
    for (const metric of [
      "ironlb_allocator_addresses_in_use_total",
      "ironlb_allocator_allocation_failures_total",
      "ironlb_speaker_announced",
      "ironlb_bgp_session_up",
      "ironlb_controller_leader",
    ])
      expect(all).toContain(metric);
  });

  it("gives panels unique ids and keeps them inside the 24-column grid", () => {
    const panels = dashboard().panels as { id: number; gridPos: { x: number; w: number } }[];
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const p of panels) expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
  });

  it("metricNames finds each name once", () => {
    expect(metricNames("a(ironlb_x_total) / ironlb_x_total + ironlb_y")).toEqual([
      "ironlb_x_total",
      "ironlb_y",
    ]);
  });
});
