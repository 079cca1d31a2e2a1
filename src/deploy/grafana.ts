/**
 * The Grafana dashboard for IronLB's metrics (deploy/grafana/ironlb.json): pool usage, allocation
 * failures, announcements per node, BGP sessions, failovers, API errors. Panels are data; the
 * dashboard JSON is built from them so a test can check every metric a query names exists.
 */

export interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly type: "timeseries" | "stat" | "table";
  readonly unit?: string;
  /** PromQL, one per series, with its legend. */
  readonly targets: readonly { readonly expr: string; readonly legend: string }[];
}

export interface RowSpec {
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

export const DASHBOARD_ROWS: readonly RowSpec[] = [
  {
    title: "Address pools",
    panels: [
      {
        title: "Pool usage",
        description: "Share of each pool's addresses assigned to Services, per family.",
        type: "timeseries",
        unit: "percentunit",
        targets: [
          {
            expr:
              "max by (pool, family) (ironlb_allocator_addresses_in_use_total)" +
              " / max by (pool, family) (ironlb_allocator_addresses_total > 0)",
            legend: "{{pool}} {{family}}",
          },
        ],
      },
      {
        title: "Addresses in use",
        description: "Assigned and total addresses per pool (the leader's view).",
        type: "table",
        targets: [
          { expr: "max by (pool, family) (ironlb_allocator_addresses_in_use_total)", legend: "in use" },
          { expr: "max by (pool, family) (ironlb_allocator_addresses_total)", legend: "total" },
        ],
      },
      {
        title: "Allocation failures",
        description:
          "Services that could not get an address, by reason (pool exhausted, no pool matches, …).",
        type: "timeseries",
        unit: "short",
        targets: [
          {
            expr: "sum by (reason) (increase(ironlb_allocator_allocation_failures_total[$__rate_interval]))",
            legend: "{{reason}}",
          },
        ],
      },
    ],
  },
  {
    title: "Announcements",
    panels: [
      {
        title: "Addresses announced per node (Layer 2)",
        description: "Service addresses each node answers ARP/NDP for.",
        type: "timeseries",
        unit: "short",
        targets: [{ expr: "sum by (node) (ironlb_speaker_announced)", legend: "{{node}}" }],
      },
      {
        title: "Failovers",
        description: "Announcements that moved between nodes (an address announced or withdrawn by a node).",
        type: "timeseries",
        unit: "short",
        targets: [
          {
            expr: "sum by (node) (changes(ironlb_speaker_announced[$__rate_interval]))",
            legend: "{{node}}",
          },
          {
            expr: "sum(changes(ironlb_controller_leader[$__rate_interval]))",
            legend: "controller leader changes",
          },
        ],
      },
      {
        title: "ARP/NDP replies sent",
        description: "Replies and Neighbor Advertisements sent per address.",
        type: "timeseries",
        unit: "pps",
        targets: [
          { expr: "sum by (ip) (rate(ironlb_layer2_responses_sent[$__rate_interval]))", legend: "{{ip}}" },
        ],
      },
      {
        title: "Live speakers",
        description: "Nodes whose speaker is alive, as each speaker sees it (should agree).",
        type: "timeseries",
        unit: "short",
        targets: [{ expr: "ironlb_speaker_live_speakers", legend: "{{instance}}" }],
      },
    ],
  },
  {
    title: "BGP",
    panels: [
      {
        title: "Sessions up",
        description: "1 while the session with the peer is Established.",
        type: "timeseries",
        unit: "short",
        targets: [
          { expr: "min by (peer, instance) (ironlb_bgp_session_up)", legend: "{{instance}} → {{peer}}" },
        ],
      },
      {
        title: "Prefixes advertised",
        description: "Prefixes currently advertised to each peer.",
        type: "timeseries",
        unit: "short",
        targets: [{ expr: "sum by (peer) (ironlb_bgp_announced_prefixes_total)", legend: "{{peer}}" }],
      },
    ],
  },
  {
    title: "Health",
    panels: [
      {
        title: "Kubernetes API errors",
        description: "Failed API calls by HTTP status; 403 means the RBAC grants miss something.",
        type: "timeseries",
        unit: "short",
        targets: [
          {
            expr: "sum by (code) (increase(ironlb_k8s_api_errors_total[$__rate_interval]))",
            legend: "{{code}}",
          },
        ],
      },
      {
        title: "Stale configuration",
        description: "1 where the current configuration is invalid and the last valid one is in force.",
        type: "stat",
        targets: [{ expr: "max(ironlb_config_stale)", legend: "stale" }],
      },
    ],
  },
];

/** The metric names a PromQL expression mentions. */
export function metricNames(expr: string): string[] {
  return [...new Set(expr.match(/\bironlb_[a-z0-9_]+/g) ?? [])];
}

const WIDTH = 24;
const PANEL_WIDTH = 8;
const PANEL_HEIGHT = 8;

/** Grafana dashboard JSON (schema 39) with a Prometheus data source variable. */
export function dashboard(rows: readonly RowSpec[] = DASHBOARD_ROWS): Record<string, unknown> {
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const row of rows) {
    panels.push({
      id: id++,
      type: "row",
      title: row.title,
      collapsed: false,
      gridPos: { x: 0, y, w: WIDTH, h: 1 },
    });
    y += 1;
    row.panels.forEach((panel, index) => {
      const x = (index * PANEL_WIDTH) % WIDTH;
      if (index > 0 && x === 0) y += PANEL_HEIGHT;
      panels.push({
        id: id++,
        type: panel.type,
        title: panel.title,
        description: panel.description,
        datasource: { type: "prometheus", uid: "${datasource}" },
        gridPos: { x, y, w: PANEL_WIDTH, h: PANEL_HEIGHT },
        fieldConfig: { defaults: { unit: panel.unit ?? "short" }, overrides: [] },
        options: {},
        targets: panel.targets.map((t, n) => ({
          refId: String.fromCharCode(65 + n),
          datasource: { type: "prometheus", uid: "${datasource}" },
          expr: t.expr,
          legendFormat: t.legend,
          ...(panel.type === "table" && { format: "table", instant: true }),
        })),
      });
    });
    y += PANEL_HEIGHT;
  }
  return {
    title: "IronLB",
    uid: "ironlb-overview",
    tags: ["ironlb", "loadbalancer"],
    timezone: "browser",
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: "30s",
    time: { from: "now-6h", to: "now" },
    templating: {
      list: [
        {
          name: "datasource",
          label: "Data source",
          type: "datasource",
          query: "prometheus",
          current: {},
          hide: 0,
        },
      ],
    },
    panels,
  };
}

export const dashboardText = (): string => `${JSON.stringify(dashboard(), null, 2)}\n`;
