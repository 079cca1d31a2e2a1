/**
 * SwimProtocol step by step: one member on a ManualClock, its packets recorded, the others
 * played by the test.
 */
import { describe, expect, it } from "vitest";
import { memberAddress, sameAddress, type MemberAddress } from "../../../src/membership/address.js";
import { DEFAULT_MEMBERSHIP_CONFIG, type MembershipConfig } from "../../../src/membership/config.js";
import type { Message, Update } from "../../../src/membership/messages.js";
import { SwimProtocol } from "../../../src/membership/protocol.js";
import { ManualClock, type Clock, type TimerHandle } from "../../../src/runtime/clock.js";
import { seededRandom } from "./simulation.js";

const addrOf = (i: number): MemberAddress => memberAddress(`192.0.2.${i}`, 7946);
const SELF = addrOf(1);

interface Sent {
  readonly to: MemberAddress;
  readonly message: Message;
}

interface SetupOptions {
  peers?: number;
  config?: Partial<MembershipConfig>;
  seeds?: MemberAddress[];
  /** Peers that ack every ping sent to them. */
  answering?: boolean;
}

function setup<C extends Clock = ManualClock>(options: SetupOptions = {}, clockIn?: C) {
  const clock = clockIn ?? (new ManualClock(1000) as unknown as C);
  const sent: Sent[] = [];
  const healthScores: number[] = [];
  const protocol = new SwimProtocol({
    name: "self",
    addr: SELF,
    seeds: options.seeds ?? [],
    clock,
    random: seededRandom(7),
    ...(options.config === undefined ? {} : { config: options.config }),
    transport: {
      send: (to, message) => {
        sent.push({ to, message });
        if (options.answering === true && message.type === "ping") {
          queueMicrotask(() => {
            protocol.receive(message.target, to, { type: "ack", seq: message.seq, updates: [] });
          });
        }
      },
    },
    observer: { localHealthChanged: (score) => healthScores.push(score) },
  });
  protocol.start();
  const peers = Array.from({ length: options.peers ?? 0 }, (_, i) => `peer-${i + 2}`);
  if (peers.length > 0) {
    protocol.receive("peer-2", addrOf(2), {
      type: "sync",
      wantReply: false,
      updates: peers.map((name, i) => ({ kind: "alive", name, incarnation: 0, addr: addrOf(i + 2) })),
    });
  }
  const drain = (): Sent[] => sent.splice(0, sent.length);
  drain();
  return { clock, protocol, sent, drain, peers, healthScores };
}

const ofType = <T extends Message["type"]>(sent: readonly Sent[], type: T) =>
  sent.filter((s) => s.message.type === type) as {
    to: MemberAddress;
    message: Extract<Message, { type: T }>;
  }[];

const updatesIn = (sent: readonly Sent[]): Update[] => sent.flatMap((s) => s.message.updates);

describe("SwimProtocol", () => {
  it("joins by sending its table to every seed but itself, asking for theirs", () => {
    const clock = new ManualClock();
    const sent: Sent[] = [];
    const member = new SwimProtocol({
      name: "self",
      addr: SELF,
      seeds: [addrOf(2), SELF, addrOf(3)],
      clock,
      transport: { send: (to, message) => sent.push({ to, message }) },
    });
    member.start();
    const syncs = ofType(sent, "sync");
    expect(syncs.map((s) => s.to)).toEqual([addrOf(2), addrOf(3)]);
    expect(syncs[0]?.message.wantReply).toBe(true);
    expect(syncs[0]?.message.updates).toEqual([{ kind: "alive", name: "self", incarnation: 0, addr: SELF }]);
    expect(member.alive()).toEqual(new Set(["self"]));
  });

  it("learns members from a sync and reports the live set through onChange", () => {
    const { protocol } = setup();
    const seen: string[][] = [];
    protocol.onChange((live) => seen.push([...live].sort()));
    protocol.receive("peer-2", addrOf(2), {
      type: "sync",
      wantReply: false,
      updates: [
        { kind: "alive", name: "peer-2", incarnation: 3, addr: addrOf(2) },
        { kind: "left", name: "peer-9", incarnation: 1 },
      ],
    });
    expect(seen).toEqual([["peer-2", "self"]]);
    expect(protocol.members().get("peer-2")).toEqual({ state: "alive", incarnation: 3, addr: addrOf(2) });
    expect(protocol.members().has("peer-9")).toBe(false); // news of strangers' deaths is not kept
  });

  it("answers a sync that wants a reply with its whole table, split to fit packets", () => {
    const { protocol, drain } = setup({ config: { maxPacketBytes: 512 } });
    const many: Update[] = Array.from({ length: 40 }, (_, i) => ({
      kind: "alive",
      name: `member-with-a-longish-name-${i}`,
      incarnation: 0,
      addr: addrOf(i + 10),
    }));
    protocol.receive("peer-2", addrOf(2), { type: "sync", wantReply: false, updates: many });
    drain();
    protocol.receive("peer-3", addrOf(3), { type: "sync", wantReply: true, updates: [] });
    const replies = ofType(drain(), "sync");
    expect(replies.length).toBeGreaterThan(1);
    expect(replies.every((r) => sameAddress(r.to, addrOf(3)) && !r.message.wantReply)).toBe(true);
    const names = replies.flatMap((r) => r.message.updates.map((u) => u.name));
    expect(new Set(names)).toEqual(new Set(["self", ...many.map((u) => u.name)]));
  });

  it("acks a ping addressed to it and ignores one meant for another member", () => {
    const { protocol, drain } = setup({ peers: 1 });
    protocol.receive("peer-2", addrOf(2), { type: "ping", seq: 77, target: "self", updates: [] });
    protocol.receive("peer-2", addrOf(2), { type: "ping", seq: 78, target: "someone-else", updates: [] });
    expect(ofType(drain(), "ack").map((a) => [a.to, a.message.seq])).toEqual([[addrOf(2), 77]]);
  });

  it("a probe answered in time: no ping-req, no suspicion", async () => {
    const { clock, protocol, drain } = setup({ peers: 4 });
    await clock.advance(200); // a round ends, the next one pings someone
    const [ping] = ofType(drain(), "ping");
    expect(ping).toBeDefined();
    protocol.receive(ping?.message.target ?? "", ping?.to ?? SELF, {
      type: "ack",
      seq: ping?.message.seq ?? 0,
      updates: [],
    });
    await clock.advance(199);
    expect(ofType(drain(), "ping-req")).toEqual([]);
    expect([...protocol.members().values()].every((m) => m.state === "alive")).toBe(true);
  });

  it("an unanswered probe: ping-req to k members after the timeout, suspicion at the round's end", async () => {
    const { clock, protocol, drain, healthScores } = setup({ peers: 5 });
    await clock.advance(200);
    const [ping] = ofType(drain(), "ping");
    const target = ping?.message.target ?? "";
    await clock.advance(DEFAULT_MEMBERSHIP_CONFIG.probeTimeoutMs);
    const requests = ofType(drain(), "ping-req");
    expect(requests).toHaveLength(3);
    expect(requests.every((r) => r.message.target === target && r.message.seq === ping?.message.seq)).toBe(
      true,
    );
    expect(new Set(requests.map((r) => r.to.ip)).size).toBe(3);
    // One helper answers with a nack; two say nothing.
    protocol.receive("peer-x", requests[0]?.to ?? SELF, {
      type: "nack",
      seq: ping?.message.seq ?? 0,
      updates: [],
    });
    await clock.advance(100);
    expect(protocol.members().get(target)?.state).toBe("suspect");
    // The accused hears it directly, and the news is gossiped.
    const sent = drain();
    const direct = sent.filter((s) => s.to === ping?.to && s.message.type === "gossip");
    expect(updatesIn(direct)).toContainEqual({ kind: "suspect", name: target, incarnation: 0, from: "self" });
    // Lifeguard: two missing nacks count against our own health.
    expect(healthScores.at(-1)).toBe(2);
    expect(protocol.localHealth).toBe(2);
  });

  it("all nacks received: the failure is the target's, our health does not suffer", async () => {
    const { clock, protocol, drain } = setup({ peers: 5 });
    await clock.advance(200);
    const [ping] = ofType(drain(), "ping");
    await clock.advance(100);
    for (const request of ofType(drain(), "ping-req")) {
      protocol.receive("helper", request.to, { type: "nack", seq: request.message.seq, updates: [] });
    }
    await clock.advance(100);
    expect(protocol.members().get(ping?.message.target ?? "")?.state).toBe("suspect");
    expect(protocol.localHealth).toBe(0);
  });

  it("an ack relayed by a helper counts: no suspicion", async () => {
    const { clock, protocol, drain } = setup({ peers: 5 });
    await clock.advance(200);
    const [ping] = ofType(drain(), "ping");
    await clock.advance(100);
    const [request] = ofType(drain(), "ping-req");
    protocol.receive("helper", request?.to ?? SELF, {
      type: "ack",
      seq: request?.message.seq ?? 0,
      updates: [],
    });
    await clock.advance(100);
    expect(protocol.members().get(ping?.message.target ?? "")?.state).toBe("alive");
  });

  it("relays a ping-req: pings the target, forwards its ack with the requester's seq, or nacks at 80% of the timeout", async () => {
    const { clock, protocol, drain } = setup({ peers: 3 });
    protocol.receive("peer-2", addrOf(2), {
      type: "ping-req",
      seq: 500,
      target: "peer-3",
      addr: addrOf(3),
      updates: [],
    });
    const [relayed] = ofType(drain(), "ping");
    expect(relayed?.to).toEqual(addrOf(3));
    expect(relayed?.message.target).toBe("peer-3");
    protocol.receive("peer-3", addrOf(3), { type: "ack", seq: relayed?.message.seq ?? 0, updates: [] });
    expect(ofType(drain(), "ack").map((a) => [a.to, a.message.seq])).toEqual([[addrOf(2), 500]]);

    protocol.receive("peer-2", addrOf(2), {
      type: "ping-req",
      seq: 501,
      target: "peer-4",
      addr: addrOf(4),
      updates: [],
    });
    drain();
    await clock.advance(79);
    expect(ofType(drain(), "nack")).toEqual([]);
    await clock.advance(1);
    expect(ofType(drain(), "nack").map((n) => [n.to, n.message.seq])).toEqual([[addrOf(2), 501]]);
  });

  it("refutes a suspicion of itself with a higher incarnation, sent straight back", () => {
    const { protocol, drain, healthScores } = setup({ peers: 3 });
    protocol.receive("peer-3", addrOf(3), {
      type: "gossip",
      updates: [{ kind: "suspect", name: "self", incarnation: 0, from: "peer-4" }],
    });
    expect(protocol.currentIncarnation).toBe(1);
    const sent = drain();
    const back = sent.filter((s) => sameAddress(s.to, addrOf(3)));
    expect(updatesIn(back)).toContainEqual({ kind: "alive", name: "self", incarnation: 1, addr: SELF });
    expect(healthScores).toEqual([1]);
    // A death at a higher incarnation (an older life of ours) is outbid too.
    protocol.receive("peer-3", addrOf(3), {
      type: "gossip",
      updates: [{ kind: "dead", name: "self", incarnation: 5, from: "peer-4" }],
    });
    expect(protocol.currentIncarnation).toBe(6);
  });

  it("answers a stale accusation by repeating its current alive record, without a new incarnation", () => {
    const { protocol, drain } = setup({ peers: 3 });
    protocol.receive("peer-3", addrOf(3), {
      type: "gossip",
      updates: [{ kind: "suspect", name: "self", incarnation: 0, from: "peer-4" }],
    });
    drain();
    protocol.receive("peer-4", addrOf(4), {
      type: "gossip",
      updates: [{ kind: "suspect", name: "self", incarnation: 0, from: "peer-4" }],
    });
    expect(protocol.currentIncarnation).toBe(1);
    expect(updatesIn(drain().filter((s) => sameAddress(s.to, addrOf(4))))).toContainEqual({
      kind: "alive",
      name: "self",
      incarnation: 1,
      addr: SELF,
    });
  });

  const precedence: {
    description: string;
    first: Update;
    second: Update;
    state: string;
    incarnation: number;
  }[] = [
    {
      description: "a suspicion of the same incarnation beats alive",
      first: { kind: "alive", name: "peer-2", incarnation: 0, addr: addrOf(2) },
      second: { kind: "suspect", name: "peer-2", incarnation: 0, from: "peer-3" },
      state: "suspect",
      incarnation: 0,
    },
    {
      description: "alive with a higher incarnation clears a suspicion",
      first: { kind: "suspect", name: "peer-2", incarnation: 0, from: "peer-3" },
      second: { kind: "alive", name: "peer-2", incarnation: 1, addr: addrOf(2) },
      state: "alive",
      incarnation: 1,
    },
    {
      description: "alive with the same incarnation does not clear a suspicion",
      first: { kind: "suspect", name: "peer-2", incarnation: 0, from: "peer-3" },
      second: { kind: "alive", name: "peer-2", incarnation: 0, addr: addrOf(2) },
      state: "suspect",
      incarnation: 0,
    },
    {
      description: "death beats suspicion at the same incarnation",
      first: { kind: "suspect", name: "peer-2", incarnation: 0, from: "peer-3" },
      second: { kind: "dead", name: "peer-2", incarnation: 0, from: "peer-3" },
      state: "dead",
      incarnation: 0,
    },
    {
      description: "an old suspicion does not touch a newer alive",
      first: { kind: "alive", name: "peer-2", incarnation: 4, addr: addrOf(2) },
      second: { kind: "suspect", name: "peer-2", incarnation: 3, from: "peer-3" },
      state: "alive",
      incarnation: 4,
    },
    {
      description: "a leave beats a death at the same incarnation",
      first: { kind: "dead", name: "peer-2", incarnation: 0, from: "peer-3" },
      second: { kind: "left", name: "peer-2", incarnation: 0 },
      state: "left",
      incarnation: 0,
    },
    {
      description: "a newer alive brings a departed member back",
      first: { kind: "left", name: "peer-2", incarnation: 0 },
      second: { kind: "alive", name: "peer-2", incarnation: 1, addr: addrOf(2) },
      state: "alive",
      incarnation: 1,
    },
  ];
  for (const { description, first, second, state, incarnation } of precedence) {
    it(`precedence: ${description}`, () => {
      const { protocol } = setup({ peers: 3 });
      protocol.receive("peer-3", addrOf(3), { type: "gossip", updates: [first] });
      protocol.receive("peer-3", addrOf(3), { type: "gossip", updates: [second] });
      expect(protocol.members().get("peer-2")).toMatchObject({ state, incarnation });
    });
  }

  it("a death in someone's table becomes only a suspicion here (partition merge)", () => {
    const { protocol } = setup({ peers: 3 });
    protocol.receive("peer-3", addrOf(3), {
      type: "sync",
      wantReply: false,
      updates: [{ kind: "dead", name: "peer-2", incarnation: 0, from: "peer-3" }],
    });
    expect(protocol.members().get("peer-2")?.state).toBe("suspect");
    expect(protocol.alive().has("peer-2")).toBe(true);
  });

  it("suspicion expires at Smax alone and at Smin once K members confirm", async () => {
    // The peers answer pings, so our own probes confirm nothing.
    const lone = setup({ peers: 6, answering: true }); // n = 7: K = 3
    lone.protocol.receive("peer-3", addrOf(3), {
      type: "gossip",
      updates: [{ kind: "suspect", name: "peer-2", incarnation: 0, from: "peer-3" }],
    });
    await lone.clock.advance(1199);
    expect(lone.protocol.members().get("peer-2")?.state).toBe("suspect");
    await lone.clock.advance(1);
    expect(lone.protocol.members().get("peer-2")?.state).toBe("dead");

    const confirmed = setup({ peers: 6, answering: true });
    for (const from of ["peer-3", "peer-4", "peer-5", "peer-6"]) {
      confirmed.protocol.receive(from, addrOf(3), {
        type: "gossip",
        updates: [{ kind: "suspect", name: "peer-2", incarnation: 0, from }],
      });
    }
    await confirmed.clock.advance(399);
    expect(confirmed.protocol.members().get("peer-2")?.state).toBe("suspect");
    await confirmed.clock.advance(1);
    expect(confirmed.protocol.members().get("peer-2")?.state).toBe("dead");
    expect(confirmed.protocol.alive().has("peer-2")).toBe(false);
    // The death is gossiped at once.
    expect(updatesIn(confirmed.drain())).toContainEqual({
      kind: "dead",
      name: "peer-2",
      incarnation: 0,
      from: "self",
    });
  });

  it("a member that finds its own timers late refrains from suspecting and raises its health score", async () => {
    const clock = new StallClock();
    const { protocol, drain } = setup({ peers: 4 }, clock);
    await clock.advance(200);
    const [ping] = ofType(drain(), "ping");
    expect(ping).toBeDefined();
    // Our loop stalls past the probe timeout and the round's end; the timers then fire late.
    clock.stall(450);
    const afterStall = drain();
    expect(protocol.members().get(ping?.message.target ?? "")?.state).toBe("alive");
    expect(ofType(afterStall, "ping-req")).toEqual([]);
    expect(protocol.localHealth).toBe(1);
    // The next round has begun; with a score of 1 its timeout is twice as long.
    expect(ofType(afterStall, "ping")).toHaveLength(1);
    await clock.advance(199);
    expect(ofType(drain(), "ping-req")).toEqual([]);
    await clock.advance(1);
    expect(ofType(drain(), "ping-req")).toHaveLength(3);
  });

  it("leaves: tells every live member, twice, then stops answering", async () => {
    const { clock, protocol, drain, peers } = setup({ peers: 3 });
    const left = protocol.leave();
    expect(protocol.alive().has("self")).toBe(false);
    await clock.advance(20);
    await left;
    const notices = ofType(drain(), "gossip").filter((g) =>
      g.message.updates.some((u) => u.kind === "left" && u.name === "self"),
    );
    expect(notices).toHaveLength(peers.length * 2);
    protocol.receive("peer-2", addrOf(2), { type: "ping", seq: 1, target: "self", updates: [] });
    await clock.advance(1000);
    expect(drain()).toEqual([]);
    expect(protocol.members().get("self")?.state).toBe("left");
  });

  it("exchanges tables with a member that talks to it but is not live in its table", async () => {
    const { clock, protocol, drain } = setup({ peers: 2 });
    protocol.receive("stranger", addrOf(9), { type: "ping", seq: 3, target: "self", updates: [] });
    protocol.receive("stranger", addrOf(9), { type: "ping", seq: 4, target: "self", updates: [] });
    expect(ofType(drain(), "sync").filter((s) => sameAddress(s.to, addrOf(9)))).toHaveLength(1); // rate-limited
    await clock.advance(DEFAULT_MEMBERSHIP_CONFIG.reconnectIntervalMs);
    drain();
    protocol.receive("stranger", addrOf(9), { type: "ping", seq: 5, target: "self", updates: [] });
    expect(ofType(drain(), "sync").filter((s) => sameAddress(s.to, addrOf(9)))).toHaveLength(1);
  });

  it("probes the member it has heard from least recently", async () => {
    const { clock, protocol, drain } = setup({ peers: 3 });
    await clock.advance(200);
    const first = ofType(drain(), "ping")[0];
    const target = first?.message.target ?? "";
    // Everyone but `quiet` talks to us.
    const quiet = ["peer-2", "peer-3", "peer-4"].find((p) => p !== target) ?? "";
    for (const peer of ["peer-2", "peer-3", "peer-4"].filter((p) => p !== quiet)) {
      protocol.receive(peer, addrOf(Number(peer.slice(5))), { type: "gossip", updates: [] });
    }
    protocol.receive(target, first?.to ?? SELF, { type: "ack", seq: first?.message.seq ?? 0, updates: [] });
    await clock.advance(200);
    expect(ofType(drain(), "ping")[0]?.message.target).toBe(quiet);
  });
});

/** A clock whose timers can fire late, the way they do after the event loop was blocked. */
class StallClock implements Clock {
  private current = 1000;
  private nextId = 1;
  private readonly timers = new Map<number, { dueAt: number; callback: () => void }>();

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { dueAt: this.current + Math.max(0, delayMs), callback });
    return id as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as unknown as number);
  }

  /** Time passes normally: timers fire at their due times. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      const due = this.earliest();
      if (due === undefined || due[1].dueAt > target) break;
      this.timers.delete(due[0]);
      this.current = due[1].dueAt;
      due[1].callback();
      await Promise.resolve();
    }
    this.current = target;
  }

  /** The loop was blocked for `ms`: every timer due meanwhile fires now, late, in due order. */
  stall(ms: number): void {
    this.current += ms;
    const overdue = [...this.timers.entries()]
      .filter(([, t]) => t.dueAt <= this.current)
      .sort(([a, x], [b, y]) => x.dueAt - y.dueAt || a - b);
    for (const [id, timer] of overdue) {
      if (!this.timers.delete(id)) continue;
      timer.callback();
    }
  }

  private earliest(): [number, { dueAt: number; callback: () => void }] | undefined {
    let best: [number, { dueAt: number; callback: () => void }] | undefined;
    for (const entry of this.timers) if (best === undefined || entry[1].dueAt < best[1].dueAt) best = entry;
    return best;
  }
}
