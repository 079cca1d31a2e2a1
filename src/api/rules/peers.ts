import { formatIP, tryParseIP, type IPAddr } from "../../net/ip.js";
import type { Findings } from "../configError.js";
import type { BFDProfileConfig, BGPPeerConfig, PeerAuth } from "../configTypes.js";
import { parseDurationMs } from "../duration.js";
import { nameProblem, type CheckedObject } from "../objects.js";
import { BGP_PEER_DEFAULTS, type BGPPeerSpec } from "../schema/bgpPeer.js";
import { SecretValue } from "../secret.js";
import { nodeSelectorsMayOverlap } from "../selection.js";
import { checkSelectors } from "./common.js";

const KIND = "BGPPeer";
const MAX_HOLD_SECONDS = 65535;

interface Timers {
  holdTimeSeconds: number;
  keepaliveTimeSeconds: number;
  connectTimeSeconds: number;
}

/** RFC 4271 timers: hold 0 or 3..65535 s; keepalive at most hold (a third of it by default). */
function checkTimers(obj: CheckedObject<BGPPeerSpec>, findings: Findings): Timers | undefined {
  const { holdTime, keepaliveTime, connectTime } = obj.spec;
  const err = (path: string, value: string, message: string): void => {
    findings.error("InvalidTimer", KIND, obj.name, path, value, message);
  };
  let ok = true;
  // Like BGP itself, whole seconds: "90.5s" is 90 s.
  const seconds = (text: string | undefined) => {
    if (text === undefined) return undefined;
    const ms = parseDurationMs(text);
    return ms === undefined ? undefined : Math.floor(ms / 1000);
  };
  let hold = seconds(holdTime);
  let keepalive = seconds(keepaliveTime);
  if (holdTime !== undefined && hold !== undefined) {
    if (hold !== 0 && hold < 3) {
      err("spec.holdTime", holdTime, "must be 0 or at least 3s (RFC 4271)");
      ok = false;
    } else if (hold > MAX_HOLD_SECONDS) {
      err("spec.holdTime", holdTime, `must be at most ${MAX_HOLD_SECONDS}s`);
      ok = false;
    }
  }
  if (keepaliveTime !== undefined && keepalive !== undefined) {
    if (hold === undefined) {
      hold = Math.min(keepalive * 3, MAX_HOLD_SECONDS);
      if (keepalive > 0 && hold < 3) {
        err("spec.keepaliveTime", keepaliveTime, "implies a hold time under 3s; set holdTime too");
        ok = false;
      }
    } else if (keepalive > hold) {
      err("spec.keepaliveTime", keepaliveTime, `must not be longer than holdTime (${holdTime ?? ""})`);
      ok = false;
    } else if (keepalive === 0 && hold > 0) {
      err("spec.keepaliveTime", keepaliveTime, "must be at least 1s unless holdTime is 0");
      ok = false;
    }
  }
  hold ??= BGP_PEER_DEFAULTS.holdTimeSeconds;
  keepalive ??= Math.floor(hold / 3);
  let connect: number = BGP_PEER_DEFAULTS.connectTimeSeconds;
  if (connectTime !== undefined) {
    const ms = parseDurationMs(connectTime) ?? 0;
    if (ms % 1000 !== 0) {
      err("spec.connectTime", connectTime, "must be a whole number of seconds");
      ok = false;
    } else if (ms < 1000 || ms > 65535_000) {
      err("spec.connectTime", connectTime, "must be from 1s to 65535s");
      ok = false;
    }
    connect = Math.floor(ms / 1000);
  }
  return ok
    ? { holdTimeSeconds: hold, keepaliveTimeSeconds: keepalive, connectTimeSeconds: connect }
    : undefined;
}

function parseAddress(
  obj: CheckedObject<BGPPeerSpec>,
  field: "peerAddress" | "sourceAddress",
  findings: Findings,
) {
  const text = obj.spec[field];
  if (text === undefined) return undefined;
  const ip = tryParseIP(text);
  if (!ip)
    findings.error("InvalidAddress", KIND, obj.name, `spec.${field}`, text, "is not an IPv4 or IPv6 address");
  return ip;
}

function buildAuth(obj: CheckedObject<BGPPeerSpec>, findings: Findings): PeerAuth | undefined {
  const { password, passwordSecret } = obj.spec;
  if (password !== undefined && passwordSecret !== undefined) {
    // The password itself is never echoed back.
    findings.error(
      "ConflictingFields",
      KIND,
      obj.name,
      "spec.password",
      undefined,
      "set password or passwordSecret, not both",
    );
    return undefined;
  }
  if (passwordSecret !== undefined) {
    const problem = nameProblem(passwordSecret.name);
    if (problem) {
      findings.error("InvalidName", KIND, obj.name, "spec.passwordSecret.name", passwordSecret.name, problem);
      return undefined;
    }
    return {
      kind: "secret",
      secretName: passwordSecret.name,
      secretNamespace: passwordSecret.namespace ?? obj.namespace ?? "",
    };
  }
  if (password !== undefined && password !== "")
    return { kind: "password", password: new SecretValue(password) };
  return { kind: "none" };
}

function buildPeer(
  obj: CheckedObject<BGPPeerSpec>,
  bfdProfiles: ReadonlySet<string>,
  findings: Findings,
): BGPPeerConfig | undefined {
  const { spec, name } = obj;
  let ok = true;
  if (spec.peerASN !== undefined && spec.dynamicASN !== undefined) {
    findings.error(
      "ConflictingFields",
      KIND,
      name,
      "spec.dynamicASN",
      spec.dynamicASN,
      "set peerASN or dynamicASN, not both",
    );
    ok = false;
  } else if (spec.peerASN === undefined && spec.dynamicASN === undefined) {
    findings.error("ConflictingFields", KIND, name, "spec.peerASN", undefined, "set peerASN or dynamicASN");
    ok = false;
  }
  const peerAddress = parseAddress(obj, "peerAddress", findings);
  const sourceAddress = parseAddress(obj, "sourceAddress", findings);
  if (peerAddress && sourceAddress && peerAddress.family !== sourceAddress.family) {
    findings.error(
      "InvalidAddress",
      KIND,
      name,
      "spec.sourceAddress",
      spec.sourceAddress,
      `is ${sourceAddress.family} but peerAddress is ${peerAddress.family}`,
    );
    ok = false;
  }
  let routerID: IPAddr | undefined;
  if (spec.routerID !== undefined) {
    routerID = tryParseIP(spec.routerID);
    if (routerID?.family !== "IPv4") {
      findings.error("InvalidAddress", KIND, name, "spec.routerID", spec.routerID, "must be an IPv4 address");
      ok = false;
    }
  }
  const timers = checkTimers(obj, findings);
  const auth = buildAuth(obj, findings);
  if (spec.bfdProfile !== undefined && !bfdProfiles.has(spec.bfdProfile)) {
    findings.error(
      "UnknownReference",
      KIND,
      name,
      "spec.bfdProfile",
      spec.bfdProfile,
      "no BFDProfile has this name",
    );
    ok = false;
  }
  const peerASN = spec.peerASN ?? spec.dynamicASN ?? "external";
  const ibgp = typeof peerASN === "number" ? peerASN === spec.myASN : peerASN === "internal";
  const ebgpMultiHop = spec.ebgpMultiHop ?? BGP_PEER_DEFAULTS.ebgpMultiHop;
  if (ebgpMultiHop && ibgp) {
    findings.error(
      "ConflictingFields",
      KIND,
      name,
      "spec.ebgpMultiHop",
      true,
      "applies to eBGP only; this is an iBGP session (peer AS equals myASN)",
    );
    ok = false;
  }
  if (!checkSelectors(spec.nodeSelectors, "spec.nodeSelectors", KIND, name, findings)) ok = false;
  if (!ok || !peerAddress || !timers || !auth || (spec.sourceAddress !== undefined && !sourceAddress))
    return undefined;
  return {
    name,
    myASN: spec.myASN,
    peerASN,
    sessionType: ibgp ? "ibgp" : "ebgp",
    peerAddress,
    ...(sourceAddress ? { sourceAddress } : {}),
    peerPort: spec.peerPort ?? BGP_PEER_DEFAULTS.peerPort,
    ...timers,
    ...(routerID ? { routerID: formatIP(routerID) } : {}),
    nodeSelectors: spec.nodeSelectors ?? [],
    auth,
    ...(spec.bfdProfile !== undefined ? { bfdProfile: spec.bfdProfile } : {}),
    ebgpMultiHop,
    enableGracefulRestart: spec.enableGracefulRestart ?? BGP_PEER_DEFAULTS.enableGracefulRestart,
  };
}

/** Cross-peer rules: no two sessions to the same address and port from the same nodes. */
function checkAcrossPeers(peers: readonly BGPPeerConfig[], findings: Findings): void {
  const seen = new Map<string, BGPPeerConfig>();
  for (const peer of peers) {
    const key = `${formatIP(peer.peerAddress)}|${peer.peerPort}|${JSON.stringify(peer.nodeSelectors)}`;
    const first = seen.get(key);
    if (first) {
      findings.error(
        "DuplicateName",
        KIND,
        peer.name,
        "spec.peerAddress",
        formatIP(peer.peerAddress),
        `BGPPeer "${first.name}" already peers with this address and port from the same nodes`,
      );
    } else {
      seen.set(key, peer);
    }
  }
  for (const peer of peers) {
    const other = peers.find(
      (p) =>
        p !== peer && p.myASN !== peer.myASN && nodeSelectorsMayOverlap(p.nodeSelectors, peer.nodeSelectors),
    );
    if (other && other.name < peer.name) {
      findings.warn(
        "Inconsistent",
        KIND,
        peer.name,
        "spec.myASN",
        peer.myASN,
        `differs from BGPPeer "${other.name}" (${other.myASN}); a node speaks BGP with one AS number`,
      );
    }
  }
}

function warnEchoOnMultiHop(
  peers: readonly BGPPeerConfig[],
  bfd: ReadonlyMap<string, BFDProfileConfig>,
  findings: Findings,
) {
  for (const peer of peers) {
    const profile = peer.bfdProfile === undefined ? undefined : bfd.get(peer.bfdProfile);
    if (peer.ebgpMultiHop && profile?.echoMode) {
      findings.warn(
        "Inconsistent",
        KIND,
        peer.name,
        "spec.bfdProfile",
        peer.bfdProfile,
        "BFD echo mode works on single-hop sessions only; it is not used with ebgpMultiHop",
      );
    }
  }
}

export function buildPeers(
  objects: readonly CheckedObject<BGPPeerSpec>[],
  bfdProfiles: ReadonlyMap<string, BFDProfileConfig>,
  bfdNames: ReadonlySet<string>,
  findings: Findings,
): BGPPeerConfig[] {
  const peers: BGPPeerConfig[] = [];
  for (const obj of [...objects].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const peer = buildPeer(obj, bfdNames, findings);
    if (peer) peers.push(peer);
  }
  checkAcrossPeers(peers, findings);
  warnEchoOnMultiHop(peers, bfdProfiles, findings);
  return peers;
}
