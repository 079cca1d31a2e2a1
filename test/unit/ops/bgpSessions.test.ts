import { describe, expect, test } from "vitest";
import {
  BGP_SESSION_GRACE_SECONDS,
  bfdCell,
  bgpSessionFindings,
  bgpSessionRows,
  formatDuration,
  peerLabel,
} from "../../../src/ops/bgpSessions.js";
import { buildDoctorReport } from "../../../src/ops/doctor.js";
import { buildClusterModel } from "../../../src/ops/cluster.js";
import { buildStatusReport, renderStatusTable } from "../../../src/ops/status.js";
import { bgpSession, doctorInputs, NOW, NS, objects } from "./fixtures.js";

describe("BGP sessions from BGPSessionState objects", () => {
  test("rows are sorted by node then peer, and read what each object says", () => {
    const rows = bgpSessionRows([
      bgpSession("n2", "tor-a", { bgpStatus: "Active", lastError: "holdTimerExpired: no message" }),
      bgpSession("n1", "tor-b", { advertisedPrefixes: 3, bfdStatus: "Up", bfdProfile: "fast" }),
      bgpSession("n1", "tor-a", {}),
    ]);
    expect(rows.map((r) => [r.node, r.peer, r.state, r.advertisedPrefixes, r.bfdState])).toEqual([
      ["n1", "tor-a", "Established", 0, "N/A"],
      ["n1", "tor-b", "Established", 3, "Up"],
      ["n2", "tor-a", "Active", 0, "N/A"],
    ]);
    expect(rows[2]?.lastError).toBe("holdTimerExpired: no message");
    expect(rows[2]?.object).toBe(`${NS}/tor-a.n2`);
  });

  test("an object from an older speaker (no peerName, no bfdStatus) still makes a row", () => {
    const [row] = bgpSessionRows([
      {
        apiVersion: "ironlb.io/v1beta1",
        kind: "BGPSessionState",
        metadata: { namespace: NS, name: "x" },
        status: { node: "n1", peer: "192.0.2.1" },
      },
    ]);
    expect(row).toMatchObject({
      peer: "192.0.2.1",
      state: "Unknown",
      bfdState: "N/A",
      advertisedPrefixes: 0,
    });
    expect(row === undefined ? "" : peerLabel(row)).toBe("192.0.2.1");
  });

  const cells: { description: string; status: Record<string, unknown>; want: string }[] = [
    { description: "no profile, no BFD", status: {}, want: "-" },
    {
      description: "a running session with its profile",
      status: { bfdStatus: "Up", bfdProfile: "fast" },
      want: "Up (fast)",
    },
    {
      description: "Down with its profile",
      status: { bfdStatus: "Down", bfdProfile: "fast" },
      want: "Down (fast)",
    },
    { description: "a missing profile", status: { bfdProfile: "gone" }, want: "N/A (gone)" },
  ];
  test.each(cells)("BFD cell: $description", ({ status, want }) => {
    const [row] = bgpSessionRows([bgpSession("n1", "tor-a", status)]);
    expect(row === undefined ? "" : bfdCell(row)).toBe(want);
  });
});

describe("BGP session findings", () => {
  const cases: {
    description: string;
    status: Record<string, unknown>;
    want: { severity: string; code: string; title: RegExp; evidence: RegExp[] }[];
  }[] = [
    { description: "Established without BFD: nothing", status: {}, want: [] },
    {
      description: "Established with BFD Up: nothing",
      status: { bfdStatus: "Up", bfdProfile: "fast" },
      want: [],
    },
    {
      description: "Active with a recorded error: the node, peer, state and the error",
      status: { bgpStatus: "Active", lastError: "notificationReceived: Cease (administrative reset)" },
      want: [
        {
          severity: "error",
          code: "BGPSessionNotEstablished",
          title: /node n1 with peer tor-a \(192\.0\.2\.1\) is Active, not Established/,
          evidence: [
            /^BGPSessionState ironlb-system\/tor-a\.n1 status\.bgpStatus: Active$/,
            /status\.lastError: notificationReceived: Cease \(administrative reset\)$/,
            /status\.advertisedPrefixes: 0$/,
          ],
        },
      ],
    },
    {
      description: "Connect without an error recorded: no lastError line",
      status: { bgpStatus: "Connect" },
      want: [
        {
          severity: "error",
          code: "BGPSessionNotEstablished",
          title: /is Connect, not Established/,
          evidence: [/status\.bgpStatus: Connect$/, /status\.advertisedPrefixes: 0$/],
        },
      ],
    },
    {
      description: "BFD Down with a profile while BGP is Established",
      status: { bfdStatus: "Down", bfdProfile: "fast" },
      want: [
        {
          severity: "warning",
          code: "BFDSessionNotUp",
          title: /BFD with peer tor-a \(192\.0\.2\.1\) from node n1 is Down, not Up/,
          evidence: [
            /status\.bfdProfile: fast$/,
            /status\.bfdStatus: Down$/,
            /status\.bgpStatus: Established$/,
          ],
        },
      ],
    },
    {
      description: "BFD Init counts as not Up",
      status: { bfdStatus: "Init", bfdProfile: "fast" },
      want: [
        {
          severity: "warning",
          code: "BFDSessionNotUp",
          title: /is Init, not Up/,
          evidence: [/fast$/, /bfdStatus: Init$/, /Established$/],
        },
      ],
    },
    {
      description: "BGP down and BFD Down: both findings",
      status: { bgpStatus: "Idle", bfdStatus: "Down", bfdProfile: "fast" },
      want: [
        {
          severity: "error",
          code: "BGPSessionNotEstablished",
          title: /is Idle/,
          evidence: [/Idle$/, /: 0$/],
        },
        {
          severity: "warning",
          code: "BFDSessionNotUp",
          title: /is Down/,
          evidence: [/fast$/, /Down$/, /Idle$/],
        },
      ],
    },
    {
      description: "the router's AdminDown: information, not a problem",
      status: { bfdStatus: "AdminDown", bfdProfile: "fast" },
      want: [
        {
          severity: "info",
          code: "BFDSessionAdminDown",
          title: /administratively down/,
          evidence: [/fast$/, /AdminDown$/, /Established$/],
        },
      ],
    },
    {
      description: "a profile that does not exist: no BFD runs",
      status: { bfdStatus: "N/A", bfdProfile: "gone" },
      want: [
        {
          severity: "warning",
          code: "BFDProfileMissing",
          title: /BGPPeer tor-a names BFDProfile gone, which does not exist/,
          evidence: [/status\.bfdProfile: gone$/, /status\.bfdStatus: N\/A$/],
        },
      ],
    },
  ];
  test.each(cases)("$description", ({ status, want }) => {
    const findings = bgpSessionFindings(bgpSessionRows([bgpSession("n1", "tor-a", status)]), NOW);
    expect(findings.map((f) => [f.severity, f.code])).toEqual(want.map((w) => [w.severity, w.code]));
    findings.forEach((f, i) => {
      const w = want[i];
      expect(f.title).toMatch(w?.title ?? /^$/);
      expect(f.evidence).toHaveLength(w?.evidence.length ?? 0);
      f.evidence.forEach((line, j) => {
        expect(line).toMatch(w?.evidence[j] ?? /^$/);
      });
      expect(f.fix).not.toBe("");
    });
  });

  test("a missing profile is one finding per BGPPeer, every node's session as evidence", () => {
    const rows = bgpSessionRows([
      bgpSession("n1", "tor-a", { bfdProfile: "gone" }),
      bgpSession("n2", "tor-a", { bfdProfile: "gone" }),
    ]);
    const findings = bgpSessionFindings(rows, NOW);
    expect(findings.map((f) => f.code)).toEqual(["BFDProfileMissing"]);
    expect(findings[0]?.evidence.filter((e) => e.endsWith("bfdProfile: gone"))).toEqual([
      `BGPSessionState ${NS}/tor-a.n1 status.bfdProfile: gone`,
      `BGPSessionState ${NS}/tor-a.n2 status.bfdProfile: gone`,
    ]);
  });
});

describe("a session out of Established: still connecting, or an error after the grace period", () => {
  const ago = (seconds: number): string => new Date(NOW - seconds * 1000).toISOString();
  const cases: {
    description: string;
    status: Record<string, unknown>;
    want: { severity: string; code: string; title: RegExp } | undefined;
  }[] = [
    {
      description: "Connect for 5 s (a speaker that has just started): info, still connecting",
      status: { bgpStatus: "Connect", stateSince: ago(5) },
      want: { severity: "info", code: "BGPSessionConnecting", title: /is Connect for 5 s: still connecting/ },
    },
    {
      description: "Active for exactly the grace period: still info",
      status: { bgpStatus: "Active", stateSince: ago(BGP_SESSION_GRACE_SECONDS) },
      want: {
        severity: "info",
        code: "BGPSessionConnecting",
        title: /is Active for 1 min: still connecting/,
      },
    },
    {
      description: "Active for 61 s: an error that names the time and the grace period",
      status: { bgpStatus: "Active", stateSince: ago(61) },
      want: {
        severity: "error",
        code: "BGPSessionNotEstablished",
        title: /is Active, not Established for 1 min 1 s \(longer than the 60 s grace period\)/,
      },
    },
    {
      description: "OpenSent for two days: an error",
      status: { bgpStatus: "OpenSent", stateSince: ago(2 * 86_400 + 3 * 3600) },
      want: { severity: "error", code: "BGPSessionNotEstablished", title: /not Established for 2 d 3 h / },
    },
    {
      description: "no stateSince (an older speaker): an error, as before",
      status: { bgpStatus: "Connect" },
      want: { severity: "error", code: "BGPSessionNotEstablished", title: /is Connect, not Established: / },
    },
    {
      description: "a stateSince that is not a time: an error without a duration",
      status: { bgpStatus: "Connect", stateSince: "yesterday" },
      want: { severity: "error", code: "BGPSessionNotEstablished", title: /is Connect, not Established: / },
    },
    {
      description: "a stateSince ahead of this machine's clock (skew): just now, info",
      status: { bgpStatus: "Connect", stateSince: ago(-30) },
      want: { severity: "info", code: "BGPSessionConnecting", title: /for 0 s: still connecting/ },
    },
    {
      description: "Established for a second: nothing (the grace period is for sessions that are down)",
      status: { bgpStatus: "Established", stateSince: ago(1) },
      want: undefined,
    },
  ];
  test.each(cases)("$description", ({ status, want }) => {
    const findings = bgpSessionFindings(bgpSessionRows([bgpSession("n1", "tor-a", status)]), NOW);
    expect(findings.map((f) => [f.severity, f.code])).toEqual(
      want === undefined ? [] : [[want.severity, want.code]],
    );
    if (want === undefined) return;
    expect(findings[0]?.title).toMatch(want.title);
    const since = status["stateSince"];
    if (typeof since === "string")
      expect(findings[0]?.evidence).toContain(`BGPSessionState ${NS}/tor-a.n1 status.stateSince: ${since}`);
  });

  const durations: { description: string; ms: number; want: string }[] = [
    { description: "under a minute", ms: 59_999, want: "59 s" },
    { description: "a whole minute", ms: 60_000, want: "1 min" },
    { description: "minutes and seconds under ten minutes", ms: 9 * 60_000 + 59_000, want: "9 min 59 s" },
    { description: "past ten minutes, no seconds", ms: 12 * 60_000 + 5000, want: "12 min" },
    { description: "whole hours", ms: 3 * 3_600_000, want: "3 h" },
    { description: "hours and minutes", ms: 3 * 3_600_000 + 5 * 60_000, want: "3 h 5 min" },
    { description: "days and hours", ms: 2 * 86_400_000 + 4 * 3_600_000, want: "2 d 4 h" },
    { description: "negative: zero", ms: -5000, want: "0 s" },
  ];
  test.each(durations)("formatDuration: $description", ({ ms, want }) => {
    expect(formatDuration(ms)).toBe(want);
  });
});

describe("status and doctor read the sessions", () => {
  const options = { namespace: NS, now: NOW };

  test("ironlb status prints a BGP SESSIONS table per node, and none without sessions", () => {
    const input = objects({
      bgpSessions: [
        bgpSession("n2", "tor-a", { bgpStatus: "Active" }),
        bgpSession("n1", "tor-a", { advertisedPrefixes: 2, bfdStatus: "Up", bfdProfile: "fast" }),
      ],
    });
    const report = buildStatusReport(input, buildClusterModel(input, options));
    expect(report.bgpSessions.map((s) => [s.node, s.state])).toEqual([
      ["n1", "Established"],
      ["n2", "Active"],
    ]);
    const table = renderStatusTable(report);
    const section = table.slice(table.indexOf("BGP SESSIONS"));
    expect(section.split("\n").map((l) => l.split(/\s{2,}/))).toEqual([
      ["BGP SESSIONS"],
      ["NODE", "PEER", "STATE", "PREFIXES", "BFD"],
      ["n1", "tor-a (192.0.2.1)", "Established", "2", "Up (fast)"],
      ["n2", "tor-a (192.0.2.1)", "Active", "0", "-"],
      [""],
    ]);
    const none = objects();
    expect(renderStatusTable(buildStatusReport(none, buildClusterModel(none, options)))).not.toContain(
      "BGP SESSIONS",
    );
  });

  test("ironlb doctor: a young session out of Established is info, not a problem", () => {
    const since = new Date(NOW - 10_000).toISOString();
    const report = buildDoctorReport(
      doctorInputs({ bgpSessions: [bgpSession("n1", "tor-a", { bgpStatus: "Connect", stateSince: since })] }),
      options,
    );
    const healthy = buildDoctorReport(
      doctorInputs({ bgpSessions: [bgpSession("n1", "tor-a", {})] }),
      options,
    );
    expect(report.findings.filter((f) => f.code.startsWith("BGP")).map((f) => [f.severity, f.code])).toEqual([
      ["info", "BGPSessionConnecting"],
    ]);
    expect(report.problems).toBe(healthy.problems);
  });

  test("ironlb doctor reports a session that is not Established as a problem", () => {
    const healthy = buildDoctorReport(
      doctorInputs({ bgpSessions: [bgpSession("n1", "tor-a", {})] }),
      options,
    );
    expect(healthy.findings.filter((f) => f.code.startsWith("BGP") || f.code.startsWith("BFD"))).toEqual([]);
    const report = buildDoctorReport(
      doctorInputs({ bgpSessions: [bgpSession("n1", "tor-a", { bgpStatus: "OpenSent" })] }),
      options,
    );
    expect(report.findings.map((f) => f.code)).toContain("BGPSessionNotEstablished");
    expect(report.problems).toBeGreaterThan(healthy.problems);
  });
});
