import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  INITIAL_STATE,
  OPEN_SENT_HOLD_TIME_MS,
  step,
  type FsmAction,
  type FsmConfig,
  type FsmContext,
  type FsmEvent,
  type FsmState,
  type SessionState,
} from "../../../src/bgp/fsm.js";
import { negotiate, type Negotiated } from "../../../src/bgp/negotiation.js";
import {
  buildOpen,
  encodeCapability,
  encodeShutdownCommunication,
  IPV4_UNICAST,
  IPV6_UNICAST,
  protocolError,
  type Capability,
  type OpenMessage,
} from "../../../src/bgp/codec/index.js";

const LOCAL_AS = 64512;
const ROUTER_ID = 0xc000020a; // 192.0.2.10
const PEER_ID = 0xc0000201; // 192.0.2.1

const config: FsmConfig = {
  localAs: LOCAL_AS,
  peerAs: 64513,
  routerId: ROUTER_ID,
  holdTimeSeconds: 90,
  families: [IPV4_UNICAST, IPV6_UNICAST],
  passive: false,
  connectBackoff: { initialMs: 2000, maxMs: 60_000, multiplier: 2, jitter: 0.5 },
};
/** random() = 0 makes every backoff delay its un-jittered base. */
const ctx = (over: Partial<FsmConfig> = {}): FsmContext => ({
  config: { ...config, ...over },
  random: () => 0,
});

const peerCaps: Capability[] = [
  { kind: "multiprotocol", afi: 1, safi: 1 },
  { kind: "multiprotocol", afi: 2, safi: 1 },
  { kind: "routeRefresh" },
  { kind: "fourOctetAs", asn: 64513 },
];
const peerOpen = (over: Partial<OpenMessage> & { asn?: number } = {}): OpenMessage => ({
  ...buildOpen({ asn: over.asn ?? 64513, holdTime: 90, bgpId: PEER_ID, capabilities: peerCaps }),
  ...over,
});

function negotiatedWith(open: OpenMessage, c: FsmContext = ctx()): Negotiated {
  const v = negotiate(c.config, open);
  if (!v.ok) throw new Error(v.rejection.detail);
  return v.negotiated;
}

const NEGOTIATED = negotiatedWith(peerOpen());
const at = (state: SessionState, over: Partial<FsmState> = {}): FsmState => ({
  state,
  attempts: 0,
  autoRestart: true,
  ...(state === "OpenConfirm" || state === "Established" ? { negotiated: NEGOTIATED } : {}),
  ...over,
});

const STOP_ALL: FsmAction[] = [
  { type: "stopTimer", timer: "connectRetry" },
  { type: "stopTimer", timer: "hold" },
  { type: "stopTimer", timer: "keepalive" },
  { type: "stopTimer", timer: "idleHold" },
];
const drop: FsmAction = { type: "dropConnection" };
const notify = (code: number, subcode: number, data: Buffer = Buffer.alloc(0)): FsmAction => ({
  type: "sendNotification",
  code,
  subcode,
  data,
});
const timer = (t: "connectRetry" | "hold" | "keepalive" | "idleHold", ms: number): FsmAction => ({
  type: "startTimer",
  timer: t,
  ms,
});

interface Transition {
  description: string;
  from: FsmState;
  event: FsmEvent;
  context?: FsmContext;
  to: SessionState;
  actions: FsmAction[];
  /** Checks on the next state beyond its name. */
  check?: (next: FsmState) => void;
}

const v4only: Capability[] = [{ kind: "fourOctetAs", asn: 64513 }];
const hdrErr = protocolError(1, 2, "bad length", Buffer.from([0, 18]));
const updErr = protocolError(3, 1, "malformed attribute list");
const shutdown = encodeShutdownCommunication("maintenance");

const transitions: Transition[] = [
  // Idle (RFC 4271 8.2.2)
  {
    description: "Idle + ManualStart → Connect: connect and arm ConnectRetryTimer",
    from: INITIAL_STATE,
    event: { type: "ManualStart" },
    to: "Connect",
    actions: [{ type: "stopTimer", timer: "idleHold" }, { type: "connect" }, timer("connectRetry", 2000)],
    check: (n) => {
      expect(n.autoRestart).toBe(true);
    },
  },
  {
    description: "Idle + ManualStart, passive → Active without connecting",
    from: INITIAL_STATE,
    event: { type: "ManualStart" },
    context: ctx({ passive: true }),
    to: "Active",
    actions: [{ type: "stopTimer", timer: "idleHold" }],
  },
  {
    description: "Idle + ManualStart resets the attempt count",
    from: at("Idle", { attempts: 4 }),
    event: { type: "ManualStart" },
    to: "Connect",
    actions: [{ type: "stopTimer", timer: "idleHold" }, { type: "connect" }, timer("connectRetry", 2000)],
    check: (n) => {
      expect(n.attempts).toBe(0);
    },
  },
  {
    description: "Idle + IdleHoldTimer expires with auto restart → Connect with the backed-off delay",
    from: at("Idle", { attempts: 2 }),
    event: { type: "IdleHoldTimerExpires" },
    to: "Connect",
    actions: [{ type: "stopTimer", timer: "idleHold" }, { type: "connect" }, timer("connectRetry", 8000)],
  },
  {
    description: "Idle + IdleHoldTimer expires after ManualStop → stays Idle",
    from: INITIAL_STATE,
    event: { type: "IdleHoldTimerExpires" },
    to: "Idle",
    actions: [],
  },
  {
    description: "Idle + AutomaticStart → Connect",
    from: INITIAL_STATE,
    event: { type: "AutomaticStart" },
    to: "Connect",
    actions: [{ type: "stopTimer", timer: "idleHold" }, { type: "connect" }, timer("connectRetry", 2000)],
  },
  {
    description: "Idle + ManualStop cancels a pending restart",
    from: at("Idle", { attempts: 3 }),
    event: { type: "ManualStop" },
    to: "Idle",
    actions: STOP_ALL,
    check: (n) => {
      expect(n).toEqual(INITIAL_STATE);
    },
  },
  {
    description: "Idle refuses a TCP connection",
    from: INITIAL_STATE,
    event: { type: "TcpConnectionConfirmed" },
    to: "Idle",
    actions: [drop],
  },
  {
    description: "Idle ignores a KEEPALIVE",
    from: INITIAL_STATE,
    event: { type: "KeepAliveMsg" },
    to: "Idle",
    actions: [],
  },
  // Connect
  {
    description: "Connect + TcpConnectionConfirmed → OpenSent: send OPEN, hold timer 4 min",
    from: at("Connect"),
    event: { type: "TcpConnectionConfirmed" },
    to: "OpenSent",
    actions: [
      { type: "stopTimer", timer: "connectRetry" },
      { type: "sendOpen" },
      timer("hold", OPEN_SENT_HOLD_TIME_MS),
    ],
  },
  {
    description: "Connect + TcpConnectionFails → Active, retry after backoff",
    from: at("Connect"),
    event: { type: "TcpConnectionFails" },
    to: "Active",
    actions: [drop, timer("connectRetry", 4000)],
    check: (n) => {
      expect(n.attempts).toBe(1);
    },
  },
  {
    description: "Connect + ConnectRetryTimer expires → abandon and reconnect with a longer delay",
    from: at("Connect", { attempts: 1 }),
    event: { type: "ConnectRetryTimerExpires" },
    to: "Connect",
    actions: [drop, { type: "connect" }, timer("connectRetry", 8000)],
  },
  {
    description: "Connect + ManualStop → Idle, no NOTIFICATION without a BGP connection",
    from: at("Connect"),
    event: { type: "ManualStop" },
    to: "Idle",
    actions: [drop, ...STOP_ALL],
  },
  {
    description: "Connect + AutomaticStop → Idle with a restart scheduled",
    from: at("Connect"),
    event: { type: "AutomaticStop", ceaseSubcode: 6 },
    to: "Idle",
    actions: [drop, ...STOP_ALL, timer("idleHold", 2000)],
  },
  {
    description: "Connect + a stray BGP message → Idle",
    from: at("Connect"),
    event: { type: "KeepAliveMsg" },
    to: "Idle",
    actions: [drop, ...STOP_ALL, timer("idleHold", 2000)],
  },
  // Active
  {
    description: "Active + ConnectRetryTimer expires → Connect",
    from: at("Active", { attempts: 1 }),
    event: { type: "ConnectRetryTimerExpires" },
    to: "Connect",
    actions: [{ type: "connect" }, timer("connectRetry", 4000)],
  },
  {
    description: "Active, passive + ConnectRetryTimer expires → stays Active",
    from: at("Active"),
    context: ctx({ passive: true }),
    event: { type: "ConnectRetryTimerExpires" },
    to: "Active",
    actions: [],
  },
  {
    description: "Active + TcpConnectionConfirmed (inbound) → OpenSent",
    from: at("Active"),
    event: { type: "TcpConnectionConfirmed" },
    to: "OpenSent",
    actions: [
      { type: "stopTimer", timer: "connectRetry" },
      { type: "sendOpen" },
      timer("hold", OPEN_SENT_HOLD_TIME_MS),
    ],
  },
  {
    description: "Active + ManualStop → Idle",
    from: at("Active"),
    event: { type: "ManualStop" },
    to: "Idle",
    actions: [drop, ...STOP_ALL],
  },
  // OpenSent
  {
    description: "OpenSent + valid OPEN → OpenConfirm: KEEPALIVE, keepalive 30 s, hold 90 s",
    from: at("OpenSent"),
    event: { type: "BGPOpen", open: peerOpen() },
    to: "OpenConfirm",
    actions: [
      { type: "stopTimer", timer: "connectRetry" },
      { type: "sendKeepalive" },
      timer("keepalive", 30_000),
      timer("hold", 90_000),
    ],
    check: (n) => {
      expect(n.negotiated).toEqual(NEGOTIATED);
    },
  },
  {
    description: "OpenSent + OPEN with hold time 0 → no keepalive, no hold timer",
    from: at("OpenSent"),
    event: { type: "BGPOpen", open: peerOpen({ holdTime: 0 }) },
    to: "OpenConfirm",
    actions: [
      { type: "stopTimer", timer: "connectRetry" },
      { type: "sendKeepalive" },
      { type: "stopTimer", timer: "hold" },
    ],
  },
  {
    description: "OpenSent + OPEN with hold time 9 → keepalive 3 s",
    from: at("OpenSent"),
    event: { type: "BGPOpen", open: peerOpen({ holdTime: 9 }) },
    to: "OpenConfirm",
    actions: [
      { type: "stopTimer", timer: "connectRetry" },
      { type: "sendKeepalive" },
      timer("keepalive", 3000),
      timer("hold", 9000),
    ],
  },
  {
    description: "OpenSent + OPEN with hold time 2 → OPEN error / Unacceptable Hold Time",
    from: at("OpenSent"),
    event: { type: "BGPOpen", open: peerOpen({ holdTime: 2 }) },
    to: "Idle",
    actions: [notify(2, 6), drop, ...STOP_ALL, timer("idleHold", 2000)],
  },
  {
    description: "OpenSent + OPEN with hold time 1 → Unacceptable Hold Time",
    from: at("OpenSent"),
    event: { type: "BGPOpen", open: peerOpen({ holdTime: 1 }) },
    to: "Idle",
    actions: [notify(2, 6), drop, ...STOP_ALL, timer("idleHold", 2000)],
  },
  {
    description: "OpenSent + OPEN from the wrong AS → Bad Peer AS",
    from: at("OpenSent"),
    event: {
      type: "BGPOpen",
      open: {
        ...buildOpen({
          asn: 64999,
          holdTime: 90,
          bgpId: PEER_ID,
          capabilities: [{ kind: "fourOctetAs", asn: 64999 }],
        }),
      },
    },
    to: "Idle",
    actions: [notify(2, 2), drop, ...STOP_ALL, timer("idleHold", 2000)],
  },
  {
    description: "OpenSent + OPEN with BGP identifier 0 → Bad BGP Identifier",
    from: at("OpenSent"),
    event: { type: "BGPOpen", open: peerOpen({ bgpId: 0 }) },
    to: "Idle",
    actions: [notify(2, 3), drop, ...STOP_ALL, timer("idleHold", 2000)],
  },
  {
    description: "iBGP OPEN carrying our own identifier → Bad BGP Identifier",
    from: at("OpenSent"),
    context: ctx({ peerAs: LOCAL_AS }),
    event: {
      type: "BGPOpen",
      open: buildOpen({
        asn: LOCAL_AS,
        holdTime: 90,
        bgpId: ROUTER_ID,
        capabilities: [{ kind: "fourOctetAs", asn: LOCAL_AS }],
      }),
    },
    to: "Idle",
    actions: [notify(2, 3), drop, ...STOP_ALL, timer("idleHold", 2000)],
  },
  {
    description: "eBGP OPEN carrying our own identifier is accepted (RFC 6286)",
    from: at("OpenSent"),
    event: { type: "BGPOpen", open: peerOpen({ bgpId: ROUTER_ID }) },
    to: "OpenConfirm",
    actions: [
      { type: "stopTimer", timer: "connectRetry" },
      { type: "sendKeepalive" },
      timer("keepalive", 30_000),
      timer("hold", 90_000),
    ],
  },
  {
    description: "OPEN with no common family → Unsupported Capability listing ours",
    from: at("OpenSent"),
    context: ctx({ families: [IPV6_UNICAST] }),
    event: { type: "BGPOpen", open: peerOpen({ capabilities: v4only }) },
    to: "Idle",
    actions: [
      notify(2, 7, encodeCapability({ kind: "multiprotocol", afi: 2, safi: 1 })),
      drop,
      ...STOP_ALL,
      timer("idleHold", 2000),
    ],
  },
  {
    description: "OpenSent + HoldTimer expires → NOTIFICATION Hold Timer Expired",
    from: at("OpenSent"),
    event: { type: "HoldTimerExpires" },
    to: "Idle",
    actions: [notify(4, 0), drop, ...STOP_ALL, timer("idleHold", 2000)],
  },
  {
    description: "OpenSent + TcpConnectionFails → Active with ConnectRetryTimer",
    from: at("OpenSent"),
    event: { type: "TcpConnectionFails" },
    to: "Active",
    actions: [drop, ...STOP_ALL, timer("connectRetry", 4000)],
  },
  {
    description: "OpenSent + KEEPALIVE → FSM Error / unexpected message in OpenSent",
    from: at("OpenSent"),
    event: { type: "KeepAliveMsg" },
    to: "Idle",
    actions: [notify(5, 1), drop, ...STOP_ALL, timer("idleHold", 2000)],
  },
  {
    description: "OpenSent + UPDATE → FSM Error subcode 1",
    from: at("OpenSent"),
    event: { type: "UpdateMsg" },
    to: "Idle",
    actions: [notify(5, 1), drop, ...STOP_ALL, timer("idleHold", 2000)],
  },
  {
    description: "OpenSent + header error → its NOTIFICATION",
    from: at("OpenSent"),
    event: { type: "BGPHeaderErr", error: hdrErr },
    to: "Idle",
    actions: [notify(1, 2, Buffer.from([0, 18])), drop, ...STOP_ALL, timer("idleHold", 2000)],
  },
  {
    description: "OpenSent + OPEN decoding error → its NOTIFICATION",
    from: at("OpenSent"),
    event: { type: "BGPOpenMsgErr", error: protocolError(2, 1, "version", Buffer.from([0, 4])) },
    to: "Idle",
    actions: [notify(2, 1, Buffer.from([0, 4])), drop, ...STOP_ALL, timer("idleHold", 2000)],
  },
  {
    description: "OpenSent + NOTIFICATION → Idle without answering it",
    from: at("OpenSent"),
    event: {
      type: "NotifMsg",
      notification: { type: "notification", code: 6, subcode: 5, data: Buffer.alloc(0) },
    },
    to: "Idle",
    actions: [drop, ...STOP_ALL, timer("idleHold", 2000)],
    check: (n) => {
      expect(n.attempts).toBe(1);
    },
  },
  {
    description: "OpenSent + NOTIFICATION version error → Idle, not counted as a failed attempt",
    from: at("OpenSent"),
    event: {
      type: "NotifMsg",
      notification: { type: "notification", code: 2, subcode: 1, data: Buffer.from([0, 4]) },
    },
    to: "Idle",
    actions: [drop, ...STOP_ALL, timer("idleHold", 2000)],
    check: (n) => {
      expect(n.attempts).toBe(0);
    },
  },
  {
    description: "OpenSent + OpenCollisionDump → Cease / Connection Collision Resolution",
    from: at("OpenSent"),
    event: { type: "OpenCollisionDump" },
    to: "Idle",
    actions: [notify(6, 7), drop, ...STOP_ALL, timer("idleHold", 2000)],
  },
  {
    description: "OpenSent + ManualStop → Cease / Administrative Shutdown with the message",
    from: at("OpenSent"),
    event: { type: "ManualStop", shutdownMessage: "maintenance" },
    to: "Idle",
    actions: [notify(6, 2, shutdown), drop, ...STOP_ALL],
    check: (n) => {
      expect(n.autoRestart).toBe(false);
    },
  },
  // OpenConfirm
  {
    description: "OpenConfirm + KEEPALIVE → Established: hold restarted, established(negotiated)",
    from: at("OpenConfirm", { attempts: 3 }),
    event: { type: "KeepAliveMsg" },
    to: "Established",
    actions: [timer("hold", 90_000), { type: "established", negotiated: NEGOTIATED }],
    check: (n) => {
      expect(n.attempts).toBe(0);
    },
  },
  {
    description: "OpenConfirm + KeepaliveTimer expires → KEEPALIVE and re-arm",
    from: at("OpenConfirm"),
    event: { type: "KeepaliveTimerExpires" },
    to: "OpenConfirm",
    actions: [{ type: "sendKeepalive" }, timer("keepalive", 30_000)],
  },
  {
    description: "OpenConfirm + UPDATE → FSM Error / unexpected message in OpenConfirm",
    from: at("OpenConfirm"),
    event: { type: "UpdateMsg" },
    to: "Idle",
    actions: [notify(5, 2), drop, ...STOP_ALL, timer("idleHold", 2000)],
  },
  {
    description: "OpenConfirm + second OPEN → FSM Error subcode 2",
    from: at("OpenConfirm"),
    event: { type: "BGPOpen", open: peerOpen() },
    to: "Idle",
    actions: [notify(5, 2), drop, ...STOP_ALL, timer("idleHold", 2000)],
  },
  {
    description: "OpenConfirm + HoldTimer expires → Hold Timer Expired",
    from: at("OpenConfirm"),
    event: { type: "HoldTimerExpires" },
    to: "Idle",
    actions: [notify(4, 0), drop, ...STOP_ALL, timer("idleHold", 2000)],
  },
  {
    description: "OpenConfirm + TcpConnectionFails → Idle",
    from: at("OpenConfirm"),
    event: { type: "TcpConnectionFails" },
    to: "Idle",
    actions: [drop, ...STOP_ALL, timer("idleHold", 2000)],
  },
  {
    description: "OpenConfirm + OpenCollisionDump → Cease 7",
    from: at("OpenConfirm"),
    event: { type: "OpenCollisionDump" },
    to: "Idle",
    actions: [notify(6, 7), drop, ...STOP_ALL, timer("idleHold", 2000)],
  },
  // Established
  {
    description: "Established + KEEPALIVE → hold timer restarted",
    from: at("Established"),
    event: { type: "KeepAliveMsg" },
    to: "Established",
    actions: [timer("hold", 90_000)],
  },
  {
    description: "Established + UPDATE → hold timer restarted",
    from: at("Established"),
    event: { type: "UpdateMsg" },
    to: "Established",
    actions: [timer("hold", 90_000)],
  },
  {
    description: "Established with hold time 0 + KEEPALIVE → no timer",
    from: at("Established", { negotiated: { ...NEGOTIATED, holdTimeMs: 0, keepaliveMs: 0 } }),
    event: { type: "KeepAliveMsg" },
    to: "Established",
    actions: [],
  },
  {
    description: "Established + KeepaliveTimer expires → KEEPALIVE and re-arm",
    from: at("Established"),
    event: { type: "KeepaliveTimerExpires" },
    to: "Established",
    actions: [{ type: "sendKeepalive" }, timer("keepalive", 30_000)],
  },
  {
    description: "Established + ROUTE-REFRESH for a negotiated family → resend routes",
    from: at("Established"),
    event: { type: "RouteRefreshMsg", family: IPV6_UNICAST },
    to: "Established",
    actions: [timer("hold", 90_000), { type: "resendRoutes", family: IPV6_UNICAST }],
  },
  {
    description: "Established + ROUTE-REFRESH for another family → ignored",
    from: at("Established"),
    event: { type: "RouteRefreshMsg", family: { afi: 1, safi: 128 } },
    to: "Established",
    actions: [timer("hold", 90_000)],
  },
  {
    description: "Established + malformed UPDATE → its NOTIFICATION, session down",
    from: at("Established"),
    event: { type: "UpdateMsgErr", error: updErr },
    to: "Idle",
    actions: [
      notify(3, 1),
      drop,
      ...STOP_ALL,
      {
        type: "sessionDown",
        reason: {
          kind: "notificationSent",
          detail: updErr.message,
          notification: { code: 3, subcode: 1, data: Buffer.alloc(0) },
        },
      },
      timer("idleHold", 2000),
    ],
  },
  {
    description:
      "Established + ManualStop → Cease / Administrative Shutdown + shutdown communication, no restart",
    from: at("Established"),
    event: { type: "ManualStop", shutdownMessage: "maintenance" },
    to: "Idle",
    actions: [
      notify(6, 2, shutdown),
      drop,
      ...STOP_ALL,
      {
        type: "sessionDown",
        reason: {
          kind: "manualStop",
          detail: "maintenance",
          notification: { code: 6, subcode: 2, data: shutdown },
        },
      },
    ],
    check: (n) => {
      expect(n.autoRestart).toBe(false);
    },
  },
  {
    description: "Established + AutomaticStop (BFD down) → Cease / BFD Down, restart later",
    from: at("Established"),
    event: { type: "AutomaticStop", ceaseSubcode: 10 },
    to: "Idle",
    actions: [
      notify(6, 10),
      drop,
      ...STOP_ALL,
      {
        type: "sessionDown",
        reason: {
          kind: "automaticStop",
          detail: "stopped automatically",
          notification: { code: 6, subcode: 10, data: Buffer.alloc(0) },
        },
      },
      timer("idleHold", 2000),
    ],
  },
  {
    description: "Established + HoldTimer expires → Hold Timer Expired, session down",
    from: at("Established"),
    event: { type: "HoldTimerExpires" },
    to: "Idle",
    actions: [
      notify(4, 0),
      drop,
      ...STOP_ALL,
      {
        type: "sessionDown",
        reason: {
          kind: "holdTimerExpired",
          detail: "no message from the peer within the hold time",
          notification: { code: 4, subcode: 0, data: Buffer.alloc(0) },
        },
      },
      timer("idleHold", 2000),
    ],
  },
  {
    description: "Established + TcpConnectionFails → session down, restart later",
    from: at("Established"),
    event: { type: "TcpConnectionFails" },
    to: "Idle",
    actions: [
      drop,
      ...STOP_ALL,
      { type: "sessionDown", reason: { kind: "connectionLost", detail: "TCP connection closed" } },
      timer("idleHold", 2000),
    ],
  },
  {
    description: "Established + NOTIFICATION → session down carrying the peer's notification",
    from: at("Established"),
    event: { type: "NotifMsg", notification: { type: "notification", code: 6, subcode: 2, data: shutdown } },
    to: "Idle",
    actions: [
      drop,
      ...STOP_ALL,
      {
        type: "sessionDown",
        reason: {
          kind: "notificationReceived",
          detail: "the peer sent a NOTIFICATION",
          notification: { code: 6, subcode: 2, data: shutdown },
        },
      },
      timer("idleHold", 2000),
    ],
  },
  {
    description: "Established + OPEN → FSM Error / unexpected message in Established",
    from: at("Established"),
    event: { type: "BGPOpen", open: peerOpen() },
    to: "Idle",
    actions: [
      notify(5, 3),
      drop,
      ...STOP_ALL,
      expect.objectContaining({ type: "sessionDown" }) as FsmAction,
      timer("idleHold", 2000),
    ],
  },
];

describe("FSM transitions (RFC 4271 8.2.2)", () => {
  for (const t of transitions) {
    it(t.description, () => {
      const r = step(t.context ?? ctx(), t.from, t.event);
      expect(r.state.state).toBe(t.to);
      expect(r.actions).toEqual(t.actions);
      t.check?.(r.state);
    });
  }
});

describe("OPEN negotiation", () => {
  const holdCases: {
    description: string;
    ours: number;
    keepalive?: number;
    theirs: number;
    hold: number;
    ka: number;
  }[] = [
    { description: "ours is smaller", ours: 90, theirs: 180, hold: 90_000, ka: 30_000 },
    { description: "theirs is smaller: keepalive follows it", ours: 90, theirs: 9, hold: 9_000, ka: 3_000 },
    {
      description: "configured keepalive below hold/3 is kept",
      ours: 90,
      keepalive: 10,
      theirs: 90,
      hold: 90_000,
      ka: 10_000,
    },
    {
      description: "configured keepalive above negotiated hold/3 is lowered",
      ours: 90,
      keepalive: 60,
      theirs: 30,
      hold: 30_000,
      ka: 10_000,
    },
    { description: "our 0 disables hold and keepalive", ours: 0, theirs: 90, hold: 0, ka: 0 },
    { description: "their 0 disables hold and keepalive", ours: 90, theirs: 0, hold: 0, ka: 0 },
    { description: "the minimum 3 s gives 1 s keepalives", ours: 3, theirs: 3, hold: 3_000, ka: 1_000 },
  ];
  for (const c of holdCases) {
    it(`hold time: ${c.description}`, () => {
      const n = negotiatedWith(
        peerOpen({ holdTime: c.theirs }),
        ctx({
          holdTimeSeconds: c.ours,
          ...(c.keepalive === undefined ? {} : { keepaliveSeconds: c.keepalive }),
        }),
      );
      expect([n.holdTimeMs, n.keepaliveMs]).toEqual([c.hold, c.ka]);
    });
  }

  const asCases: { description: string; spec: FsmConfig["peerAs"]; peer: number; accepted: boolean }[] = [
    { description: "fixed AS matches", spec: 64513, peer: 64513, accepted: true },
    { description: "fixed AS differs", spec: 64513, peer: 64514, accepted: false },
    { description: "dynamic internal accepts our AS", spec: "internal", peer: LOCAL_AS, accepted: true },
    { description: "dynamic internal refuses another AS", spec: "internal", peer: 64513, accepted: false },
    {
      description: "dynamic external accepts another AS",
      spec: "external",
      peer: 4200000001,
      accepted: true,
    },
    { description: "dynamic external refuses our AS", spec: "external", peer: LOCAL_AS, accepted: false },
  ];
  for (const c of asCases) {
    it(`peer AS: ${c.description}`, () => {
      const open = buildOpen({
        asn: c.peer,
        holdTime: 90,
        bgpId: PEER_ID,
        capabilities: [{ kind: "fourOctetAs", asn: c.peer }],
      });
      const v = negotiate(ctx({ peerAs: c.spec }).config, open);
      expect(v.ok).toBe(c.accepted);
      if (!v.ok) expect([v.rejection.code, v.rejection.subcode]).toEqual([2, 2]);
    });
  }

  it("a peer without multiprotocol capabilities gets IPv4 unicast only (RFC 4760)", () => {
    expect(negotiatedWith(peerOpen({ capabilities: v4only })).families).toEqual([IPV4_UNICAST]);
  });

  it("families are the intersection of both sides", () => {
    const open = peerOpen({
      capabilities: [
        { kind: "multiprotocol", afi: 2, safi: 1 },
        { kind: "multiprotocol", afi: 1, safi: 128 },
      ],
    });
    expect(negotiatedWith(open).families).toEqual([IPV6_UNICAST]);
  });

  it("records 4-octet AS, route refresh and the peer's graceful restart capability", () => {
    const gr: Capability = {
      kind: "gracefulRestart",
      restartState: false,
      notification: true,
      restartTimeSeconds: 120,
      families: [{ afi: 1, safi: 1, forwardingState: true }],
    };
    const n = negotiatedWith(peerOpen({ capabilities: [...peerCaps, gr] }));
    expect(n).toMatchObject({
      fourOctetAs: true,
      routeRefresh: true,
      peerGracefulRestart: gr,
      external: true,
      peerAs: 64513,
      peerRouterId: PEER_ID,
    });
  });

  it("a 2-octet peer without the capabilities is negotiated down", () => {
    const n = negotiatedWith(peerOpen({ capabilities: [] }));
    expect(n).toMatchObject({ fourOctetAs: false, routeRefresh: false, families: [IPV4_UNICAST] });
  });
});

describe("FSM invariants over random event sequences", () => {
  const notification = { type: "notification" as const, code: 6, subcode: 2, data: Buffer.alloc(0) };
  const arbEvent: fc.Arbitrary<FsmEvent> = fc.constantFrom<FsmEvent>(
    { type: "ManualStart" },
    { type: "ManualStop" },
    { type: "AutomaticStart" },
    { type: "AutomaticStop", ceaseSubcode: 6 },
    { type: "ConnectRetryTimerExpires" },
    { type: "HoldTimerExpires" },
    { type: "KeepaliveTimerExpires" },
    { type: "IdleHoldTimerExpires" },
    { type: "TcpConnectionConfirmed" },
    { type: "TcpConnectionFails" },
    { type: "BGPOpen", open: peerOpen() },
    { type: "BGPOpen", open: peerOpen({ holdTime: 1 }) },
    { type: "BGPHeaderErr", error: hdrErr },
    { type: "OpenCollisionDump" },
    { type: "NotifMsg", notification },
    { type: "KeepAliveMsg" },
    { type: "UpdateMsg" },
    { type: "UpdateMsgErr", error: updErr },
    { type: "RouteRefreshMsg", family: IPV4_UNICAST },
  );

  it("established/sessionDown pair up, NOTIFICATIONs only on a BGP connection, ManualStop never restarts", () => {
    fc.assert(
      fc.property(fc.array(arbEvent, { maxLength: 60 }), fc.boolean(), (events, passive) => {
        const c = ctx({ passive });
        let s: FsmState = INITIAL_STATE;
        for (const e of events) {
          const r = step(c, s, e);
          const types = r.actions.map((a) => a.type);
          if (types.includes("established"))
            expect([s.state, r.state.state]).toEqual(["OpenConfirm", "Established"]);
          expect(types.includes("sessionDown")).toBe(
            s.state === "Established" && r.state.state !== "Established",
          );
          if (types.includes("sendNotification"))
            expect(["OpenSent", "OpenConfirm", "Established"]).toContain(s.state);
          if (e.type === "ManualStop") {
            expect(r.state).toEqual(INITIAL_STATE);
            expect(r.actions.filter((a) => a.type === "startTimer")).toEqual([]);
          }
          if (passive) expect(types).not.toContain("connect");
          if (r.state.state === "Idle") expect(types).not.toContain("connect");
          for (const a of r.actions) if (a.type === "startTimer") expect(a.ms).toBeGreaterThan(0);
          s = r.state;
        }
      }),
      { numRuns: 500 },
    );
  });
});
