/**
 * BGP sessions as the speakers report them (one BGPSessionState per node and BGPPeer), for
 * `ironlb status` (a row per session) and `ironlb doctor` (a session that has not been Established
 * for longer than a grace period, a BFD session that is not Up, a BFDProfile that does not exist).
 * Pure: the objects come listed, the time comes in.
 */
import type { CustomObject } from "../controller/objects.js";
import type { Finding } from "./findings.js";

/** What a BGPSessionState object says, fields missing from an older speaker left out. */
export interface BgpSessionRow {
  /** The object's namespace/name, for evidence. */
  readonly object: string;
  readonly node: string;
  /** The BGPPeer's name (its address when an older speaker did not write the name). */
  readonly peer: string;
  readonly address: string;
  /** The BGP FSM state: Idle, Connect, Active, OpenSent, OpenConfirm or Established. */
  readonly state: string;
  readonly advertisedPrefixes: number;
  /** Up, Down, Init, AdminDown, or N/A when no BFD session runs. */
  readonly bfdState: string;
  readonly bfdProfile: string | undefined;
  readonly lastError: string | undefined;
  /** status.stateSince as written (RFC 3339), when present. */
  readonly stateSince: string | undefined;
}

/**
 * A session out of Established for less than this is still connecting (a speaker that has just
 * started, a peer that has just been added), not a problem: doctor reports it as info.
 */
export const BGP_SESSION_GRACE_SECONDS = 60;

const ESTABLISHED = "Established";
const NO_BFD = "N/A";

const text = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;

/** A row per BGPSessionState, sorted by node then peer. */
export function bgpSessionRows(objects: readonly CustomObject[]): BgpSessionRow[] {
  const rows = objects.map((o): BgpSessionRow => {
    const s = (o.status ?? {}) as Record<string, unknown>;
    const address = text(s["peer"]) ?? "";
    const prefixes = s["advertisedPrefixes"];
    return {
      object: `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`,
      node: text(s["node"]) ?? "",
      peer: text(s["peerName"]) ?? address,
      address,
      state: text(s["bgpStatus"]) ?? "Unknown",
      advertisedPrefixes: typeof prefixes === "number" && Number.isInteger(prefixes) ? prefixes : 0,
      bfdState: text(s["bfdStatus"]) ?? NO_BFD,
      bfdProfile: text(s["bfdProfile"]),
      lastError: text(s["lastError"]),
      stateSince: text(s["stateSince"]),
    };
  });
  return rows.sort((a, b) => a.node.localeCompare(b.node) || a.peer.localeCompare(b.peer));
}

/** "router (192.0.2.1)", or the address alone when the peer has no other name. */
export function peerLabel(row: BgpSessionRow): string {
  return row.peer === row.address || row.address === "" ? row.peer : `${row.peer} (${row.address})`;
}

/** The BFD cell of the status table: "Up (fast)", or "-" when the peer has no BFD. */
export function bfdCell(row: BgpSessionRow): string {
  if (row.bfdProfile === undefined) return row.bfdState === NO_BFD ? "-" : row.bfdState;
  return `${row.bfdState} (${row.bfdProfile})`;
}

function sessionEvidence(row: BgpSessionRow, fields: readonly (keyof BgpSessionRow)[]): string[] {
  const names: Partial<Record<keyof BgpSessionRow, string>> = {
    state: "bgpStatus",
    bfdState: "bfdStatus",
    bfdProfile: "bfdProfile",
    lastError: "lastError",
    stateSince: "stateSince",
    advertisedPrefixes: "advertisedPrefixes",
  };
  return fields.flatMap((f) => {
    const value = row[f];
    if (value === undefined) return [];
    return [`BGPSessionState ${row.object} status.${names[f] ?? f}: ${String(value)}`];
  });
}

/** "45 s", "1 min 5 s", "12 min", "3 h 5 min", "2 d 4 h": how long, to the unit that matters. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${String(s)} s`;
  const min = Math.floor(s / 60);
  // Seconds still matter near the grace period; past ten minutes they are noise.
  if (min < 10 && s % 60 !== 0) return `${String(min)} min ${String(s % 60)} s`;
  if (min < 60) return `${String(min)} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return min % 60 === 0 ? `${String(h)} h` : `${String(h)} h ${String(min % 60)} min`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${String(d)} d` : `${String(d)} d ${String(h % 24)} h`;
}

/**
 * How long the session has been out of Established at `now`; undefined when the speaker did not
 * say (an older speaker, or a value that is not a time). A time ahead of `now` (clock skew between
 * the node and this machine) counts as just now.
 */
export function outOfEstablishedMs(row: BgpSessionRow, now: number): number | undefined {
  if (row.stateSince === undefined) return undefined;
  const since = Date.parse(row.stateSince);
  return Number.isNaN(since) ? undefined : Math.max(0, now - since);
}

function notEstablished(row: BgpSessionRow, downMs: number | undefined): Finding {
  const grace = `${String(BGP_SESSION_GRACE_SECONDS)} s`;
  const how =
    downMs === undefined
      ? "not Established"
      : `not Established for ${formatDuration(downMs)} (longer than the ${grace} grace period)`;
  return {
    severity: "error",
    code: "BGPSessionNotEstablished",
    title: `BGP session of node ${row.node} with peer ${peerLabel(row)} is ${row.state}, ${how}: the peer has none of this node's routes`,
    evidence: sessionEvidence(row, ["state", "stateSince", "lastError", "advertisedPrefixes"]),
    fix:
      "check that the router has this node's address as a neighbor with the BGPPeer's ASNs (myASN/peerASN), " +
      "the same password, and that TCP port 179 (or peerPort) is reachable from the node; " +
      "the speaker's log on that node (component bgp) names each failure",
  };
}

function stillConnecting(row: BgpSessionRow, downMs: number): Finding {
  return {
    severity: "info",
    code: "BGPSessionConnecting",
    title: `BGP session of node ${row.node} with peer ${peerLabel(row)} is ${row.state} for ${formatDuration(downMs)}: still connecting (an error after ${String(BGP_SESSION_GRACE_SECONDS)} s out of Established)`,
    evidence: sessionEvidence(row, ["state", "stateSince", "lastError"]),
    fix: "none needed yet: a speaker that has just started or a peer that has just been added takes a few seconds; run ironlb doctor again in a minute",
  };
}

function bfdNotUp(row: BgpSessionRow, profile: string): Finding {
  const adminDown = row.bfdState === "AdminDown";
  return {
    severity: adminDown ? "info" : "warning",
    code: adminDown ? "BFDSessionAdminDown" : "BFDSessionNotUp",
    title: adminDown
      ? `BFD with peer ${peerLabel(row)} from node ${row.node} is administratively down at the router: BGP runs without fast failure detection`
      : `BFD with peer ${peerLabel(row)} from node ${row.node} is ${row.bfdState}, not Up: a failure is noticed only at the BGP hold time`,
    evidence: sessionEvidence(row, ["bfdProfile", "bfdState", "state"]),
    fix: adminDown
      ? "enable BFD for this neighbor on the router, or remove bfdProfile from the BGPPeer"
      : `run BFD for this node on the router (BIRD: "bfd on" in the neighbor's protocol; FRR: "neighbor ADDRESS bfd"), ` +
        `allow UDP 3784 (single hop) or 4784 (multi hop) both ways, and for multi hop check BFDProfile ${profile} minimumTtl`,
  };
}

/** One finding per BGPPeer, with every node's session as evidence. */
function profileMissing(peer: string, profile: string, rows: readonly BgpSessionRow[]): Finding {
  return {
    severity: "warning",
    code: "BFDProfileMissing",
    title: `the BGPPeer ${peer} names BFDProfile ${profile}, which does not exist: its sessions run without BFD`,
    evidence: rows.flatMap((row) => sessionEvidence(row, ["bfdProfile", "bfdState"])),
    fix: `create the BFDProfile ${profile} in IronLB's namespace, or correct bfdProfile on the BGPPeer`,
  };
}

/** Findings about the sessions the speakers report, at `now` (ms since the epoch). */
export function bgpSessionFindings(rows: readonly BgpSessionRow[], now: number): Finding[] {
  const findings: Finding[] = [];
  const missing = new Map<string, { peer: string; profile: string; rows: BgpSessionRow[] }>();
  for (const row of rows) {
    if (row.state !== ESTABLISHED) {
      const downMs = outOfEstablishedMs(row, now);
      const young = downMs !== undefined && downMs <= BGP_SESSION_GRACE_SECONDS * 1000;
      findings.push(young ? stillConnecting(row, downMs) : notEstablished(row, downMs));
    }
    const profile = row.bfdProfile;
    if (profile === undefined) continue;
    if (row.bfdState === NO_BFD) {
      const key = JSON.stringify([row.peer, profile]);
      const entry = missing.get(key) ?? { peer: row.peer, profile, rows: [] };
      entry.rows.push(row);
      missing.set(key, entry);
    } else if (row.bfdState !== "Up") findings.push(bfdNotUp(row, profile));
  }
  for (const m of missing.values()) findings.push(profileMissing(m.peer, m.profile, m.rows));
  return findings;
}
