/**
 * The speaker's BGP part for one node: on every reconcile, the pure BGP decision for this node
 * (src/announce/bgp.ts) and the BGPPeers selected for it become the desired sessions and
 * advertisements of the node's BgpManager, which opens, keeps and closes sessions and sends only
 * the differences. Free of Kubernetes: the snapshot, the node's addresses and the Secret lookup are
 * inputs, so a YAML file or a test can drive it as well as the informers.
 */
import { bgpPlanForNode, sessionsForNode, type BGPNodePlan } from "../announce/bgp.js";
import type { AnnouncementSnapshot } from "../announce/snapshot.js";
import { describeDiag } from "../bfd/packet.js";
import { describeNotification } from "../bgp/codec/constants.js";
import type { BgpMessage } from "../bgp/codec/message.js";
import type { PeerEndpoint } from "../bgp/peerDialer.js";
import type { ConnectFailure } from "../bgp/session.js";
import type {
  BgpManager,
  DesiredPeer,
  ManagerObserver,
  PeerSessionStatus,
  StopMode,
} from "../bgp/manager.js";
import { formatCIDR, formatIP } from "../net/ip.js";
import type { Logger } from "../runtime/logger.js";
import { peerSpecFor, type NodeIdentity, type PasswordLookup } from "./bgpPeers.js";

export interface BgpPeerProblem {
  readonly peer: string;
  readonly reason: string;
}

export interface BgpReconcileResult {
  readonly plan: BGPNodePlan;
  /** Peers selected for this node that have no session, and why (e.g. a missing password Secret). */
  readonly problems: readonly BgpPeerProblem[];
}

export interface BgpSessionView extends PeerSessionStatus {
  /** Prefixes the peer currently has from us, sorted as advertised. */
  readonly prefixes: readonly string[];
  /** The BFDProfile the BGPPeer names, when it names one (`bfdState` is absent if it is missing). */
  readonly bfdProfile?: string;
  /** The session's last error (SessionErrors), when one was seen. */
  readonly lastError?: string;
}

/** What this node's BGP speaker is doing: the per-node status object. */
export interface BgpNodeStatus {
  readonly node: string;
  readonly sessions: readonly BgpSessionView[];
  readonly problems: readonly BgpPeerProblem[];
}

export interface BgpSpeakerOptions {
  readonly node: string;
  readonly manager: Pick<BgpManager, "sync" | "status" | "advertised" | "stop">;
  /** This node's addresses, read at every reconcile (they come from its Node object). */
  readonly identity: () => NodeIdentity;
  readonly passwords: PasswordLookup;
  /** Each session's last error; without it only why a session last left Established is known. */
  readonly errors?: Pick<SessionErrors, "get">;
  readonly logger?: Logger;
}

export class BgpSpeaker {
  private lastPlan: BGPNodePlan | undefined;
  /** BGPPeer name → the bfdProfile it names, from the last reconcile. */
  private bfdProfiles: ReadonlyMap<string, string> = new Map();
  private problems: readonly BgpPeerProblem[] = [];
  private lastProblemsText = "[]";

  constructor(private readonly options: BgpSpeakerOptions) {}

  /** Makes the sessions and advertisements follow `snapshot`. */
  reconcile(snapshot: AnnouncementSnapshot): BgpReconcileResult {
    const { node, manager } = this.options;
    const identity = this.options.identity();
    const plan = bgpPlanForNode(snapshot, node);
    const byPeer = new Map(plan.peers.map((p) => [p.peer, p.advertisements]));
    const desired: DesiredPeer[] = [];
    const problems: BgpPeerProblem[] = [];
    // A node missing from the snapshot opens no session (bgpPlanForNode gives it no peers either).
    const me = snapshot.nodes.find((n) => n.name === node);
    const peers = me === undefined ? [] : sessionsForNode(snapshot.config, me);
    for (const peer of peers) {
      const result = peerSpecFor(peer, identity, this.options.passwords, snapshot.config.bfdProfiles);
      if (!result.ok) {
        problems.push({ peer: result.peer, reason: result.reason });
        continue;
      }
      desired.push({ spec: result.spec, advertisements: byPeer.get(peer.name) ?? [] });
    }
    manager.sync(desired);
    this.bfdProfiles = new Map(
      peers.flatMap((p) => (p.bfdProfile === undefined ? [] : [[p.name, p.bfdProfile] as const])),
    );
    this.reportProblems(problems);
    this.lastPlan = plan;
    return { plan, problems };
  }

  plan(): BGPNodePlan | undefined {
    return this.lastPlan;
  }

  status(): BgpNodeStatus {
    const { manager, node } = this.options;
    return {
      node,
      sessions: manager.status().map((s) => {
        const bfdProfile = this.bfdProfiles.get(s.name);
        const lastError = this.options.errors?.get(s.name);
        return {
          ...s,
          prefixes: [...manager.advertised(s.name).values()].map((r) => formatCIDR(r.prefix)),
          ...(bfdProfile === undefined ? {} : { bfdProfile }),
          ...(lastError === undefined ? {} : { lastError }),
        };
      }),
      problems: this.problems,
    };
  }

  /** "shutdown": withdraw everything now (Cease); "restart": graceful-restart peers keep our routes. */
  stop(mode: StopMode, message?: string): Promise<void> {
    return this.options.manager.stop({ mode, ...(message === undefined ? {} : { message }) });
  }

  private reportProblems(problems: readonly BgpPeerProblem[]): void {
    this.problems = problems;
    const text = JSON.stringify(problems);
    if (text === this.lastProblemsText) return;
    this.lastProblemsText = text;
    for (const p of problems) this.options.logger?.error(p, "BGP peer has no session");
  }
}

/**
 * The last error of each session, for its BGPSessionState: why it last left Established, the last
 * NOTIFICATION sent or received, which also explains a session that never got there (a bad peer
 * AS, a refused OPEN), or the last TCP connection that could not be opened (refused, unreachable,
 * timed out).
 */
export class SessionErrors {
  private readonly last = new Map<string, string>();

  get(name: string): string | undefined {
    return this.last.get(name);
  }

  observer(): ManagerObserver {
    const notification = (m: BgpMessage, direction: string): string | undefined =>
      m.type === "notification"
        ? `NOTIFICATION ${direction}: ${describeNotification(m.code, m.subcode)}`
        : undefined;
    return {
      forPeer: (spec) => ({
        messageSent: (m) => {
          this.set(spec.name, notification(m, "sent"));
        },
        messageReceived: (m) => {
          this.set(spec.name, notification(m, "received"));
        },
        down: (reason) => {
          const n = reason.notification;
          const detail = n === undefined ? "" : ` (${describeNotification(n.code, n.subcode)})`;
          this.set(spec.name, `${reason.kind}: ${reason.detail}${detail}`);
        },
        connectFailed: (failure) => {
          this.set(spec.name, describeConnectFailure(spec.endpoint, failure));
        },
      }),
      // A removed or changed peer starts afresh.
      removed: (spec) => {
        this.last.delete(spec.name);
      },
    };
  }

  private set(name: string, error: string | undefined): void {
    if (error !== undefined) this.last.set(name, error);
  }
}

/**
 * A failed connect as the status shows it. A timeout gets the peer and the likely causes: no
 * reply at all is what a peer with another TCP-MD5 password (or a firewall dropping SYNs) gives.
 */
export function describeConnectFailure(
  endpoint: Pick<PeerEndpoint, "address" | "port" | "password">,
  failure: ConnectFailure,
): string {
  if (failure.code === "ETIMEDOUT") {
    const address = formatIP(endpoint.address);
    const peer =
      endpoint.address.family === "IPv6"
        ? `[${address}]:${String(endpoint.port)}`
        : `${address}:${String(endpoint.port)}`;
    const hint =
      endpoint.password === undefined
        ? "nothing answers: the peer is down, or a firewall drops TCP port " + String(endpoint.port)
        : "a TCP-MD5 password mismatch looks like this";
    return `${failure.message.replace(/^connect /, `connect to ${peer} `)} (${hint})`;
  }
  const { code, message } = failure;
  return code === undefined || message.includes(code) ? message : `${message} (${code})`;
}

/** Session events as log lines (never the password: the spec's endpoint is not logged). */
export function bgpLogObserver(logger: Logger): ManagerObserver {
  return {
    forPeer(spec) {
      const peer = { peer: spec.name, address: formatIP(spec.endpoint.address) };
      let lastSkipped = "";
      let lastConnectError = "";
      return {
        connectFailed: (failure) => {
          // Retried every few seconds: a warning when the reason changes, the rest at debug.
          const text = describeConnectFailure(spec.endpoint, failure);
          const fields = { ...peer, code: failure.code, error: text };
          const message = "cannot open the TCP connection to the BGP peer";
          if (text === lastConnectError) logger.debug(fields, message);
          else logger.warn(fields, message);
          lastConnectError = text;
        },
        stateChanged: (from, to) => {
          logger.debug({ ...peer, from, to }, "BGP session state changed");
        },
        established: (n) => {
          lastConnectError = "";
          logger.info(
            {
              ...peer,
              peerAs: n.peerAs,
              holdTimeMs: n.holdTimeMs,
              gracefulRestart: n.peerGracefulRestart !== undefined,
            },
            "BGP session established",
          );
        },
        down: (reason) => {
          const n = reason.notification;
          logger.warn(
            {
              ...peer,
              kind: reason.kind,
              detail: reason.detail,
              ...(n === undefined ? {} : { notification: describeNotification(n.code, n.subcode) }),
            },
            "BGP session down",
          );
        },
        protocolError: (error) => {
          logger.warn({ ...peer, err: error }, "malformed BGP message from the peer");
        },
        updateProblems: (problems, treatAsWithdraw) => {
          logger.warn(
            { ...peer, treatAsWithdraw, problems: problems.map((p) => `${p.action}: ${p.detail}`) },
            "malformed attributes in an UPDATE from the peer (RFC 7606)",
          );
        },
        routesSkipped: (prefixes) => {
          // Reported on every table computation: log only when the set changes.
          const key = prefixes.map(formatCIDR).join(",");
          if (key === lastSkipped) return;
          lastSkipped = key;
          logger.warn(
            { ...peer, prefixes: prefixes.slice(0, 10).map(formatCIDR), count: prefixes.length },
            "prefixes not advertised: the session has no next hop or no family for them",
          );
        },
      };
    },
    bfdStateChanged(spec, change) {
      if (change.from !== "Up" || change.peerAdminDown) return;
      logger.warn(
        { peer: spec.name, address: formatIP(spec.endpoint.address), diag: describeDiag(change.diag) },
        "BFD session down: closing the BGP session now (RFC 5882)",
      );
    },
    removed(spec) {
      logger.info(
        { peer: spec.name, address: formatIP(spec.endpoint.address) },
        "BGP session closed (peer removed or changed)",
      );
    },
  };
}
