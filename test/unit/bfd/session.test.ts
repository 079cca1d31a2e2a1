import { describe, expect, it } from "vitest";
import { BfdDiag, BfdState } from "../../../src/bfd/packet.js";
import { ManualClock, peerPacket, probe, startedPair } from "./fakes.js";

const states = (changes: readonly { from: string; to: string }[]): string[] =>
  changes.map((c) => `${c.from}>${c.to}`);

describe("BFD session: bring-up", () => {
  it("two active sessions complete the three-way handshake and reach Up", () => {
    const clock = new ManualClock();
    const { a, b } = startedPair(clock);
    clock.advance(10);
    expect(a.session.state).toBe("Up");
    expect(b.session.state).toBe("Up");
    // Each side passes through Init (both start Down and see the other's Down), or jumps Down>Up
    // when the other's Init arrives first.
    for (const p of [a, b]) expect(states(p.changes).at(-1)).toMatch(/>Up$/);
    // The first packets know nothing of the peer.
    expect(a.sent[0]?.packet).toMatchObject({
      state: BfdState.Down,
      yourDiscriminator: 0,
      myDiscriminator: 0x1111,
    });
  });

  it("walks Down → Init → Up on the peer's Down then Up, learning its discriminator", () => {
    const clock = new ManualClock();
    const p = probe(clock, { localDiscriminator: 7 });
    p.session.start();
    p.session.receive(peerPacket({ state: BfdState.Down }));
    expect(p.session.state).toBe("Init");
    expect(p.sent.at(-1)?.packet).toMatchObject({ state: BfdState.Init, yourDiscriminator: 0x9999 });
    p.session.receive(peerPacket({ state: BfdState.Up, yourDiscriminator: 7 }));
    expect(p.session.state).toBe("Up");
    expect(states(p.changes)).toEqual(["Down>Init", "Init>Up"]);
  });

  it.each([
    { description: "Down + peer Init → Up", peer: BfdState.Init, want: "Up" },
    { description: "Down + peer Up → stays Down (§6.8.6)", peer: BfdState.Up, want: "Down" },
    { description: "Down + peer AdminDown → stays Down", peer: BfdState.AdminDown, want: "Down" },
  ])("$description", ({ peer, want }) => {
    const clock = new ManualClock();
    const p = probe(clock, { localDiscriminator: 7 });
    p.session.start();
    p.session.receive(peerPacket({ state: peer, yourDiscriminator: 7 }));
    expect(p.session.state).toBe(want);
  });

  it("sends at the slow rate (≥ 1 s advertised, 0.75–1 s apart) while not Up", () => {
    const clock = new ManualClock();
    const p = probe(clock, { localDiscriminator: 7 }, undefined, () => 0);
    p.session.start();
    clock.advance(5000);
    const times = p.sent.map((s) => s.at);
    expect(times).toEqual([0, 750, 1500, 2250, 3000, 3750, 4500]);
    for (const s of p.sent) expect(s.packet.desiredMinTxUs).toBe(1_000_000);
    expect(p.sent[0]?.packet.requiredMinRxUs).toBe(300_000);
  });

  it("a passive session stays silent until the peer's first packet, then answers", () => {
    const clock = new ManualClock();
    const p = probe(clock, { localDiscriminator: 7, passive: true });
    p.session.start();
    clock.advance(5000);
    expect(p.sent).toEqual([]);
    p.session.receive(peerPacket({ state: BfdState.Down }));
    expect(p.sent.length).toBeGreaterThan(0);
    expect(p.session.state).toBe("Init");
  });

  it("two passive sessions never come up (one side must be active)", () => {
    const clock = new ManualClock();
    const { a, b } = startedPair(clock, { passive: true }, { passive: true });
    clock.advance(5000);
    expect([a.sent.length, b.sent.length, a.session.state]).toEqual([0, 0, "Down"]);
  });

  it("an active session brings up a passive one", () => {
    const clock = new ManualClock();
    const { a, b } = startedPair(clock, {}, { passive: true });
    clock.advance(3000);
    expect([a.session.state, b.session.state]).toEqual(["Up", "Up"]);
  });
});

describe("BFD session: going down", () => {
  function upPair() {
    const clock = new ManualClock();
    const pair = startedPair(clock);
    clock.advance(3000);
    expect(pair.a.session.state).toBe("Up");
    return { clock, ...pair };
  }

  it("declares Down with diag 1 one detection time after the last packet when the peer goes silent", () => {
    const { clock, a, b, cut } = upPair();
    cut.bToA = true;
    const lastFromB = b.sent.at(-1)?.at ?? 0;
    clock.advance(3000);
    const down = a.changes.find((c) => c.to === "Down");
    expect(down).toMatchObject({
      from: "Up",
      diag: BfdDiag.ControlDetectionTimeExpired,
      peerAdminDown: false,
    });
    // Detection time: B's detect mult 3 × max(A's required RX 300, B's desired TX 300) = 900 ms,
    // counted from the last packet A received (1 ms link).
    const atMs = down?.at ?? 0;
    expect(atMs - lastFromB).toBeGreaterThan(900 - 300);
    expect(atMs - lastFromB).toBeLessThanOrEqual(900 + 1);
    expect(a.session.status().detectionTimeMs).toBe(900);
    // A's next packets say Down with the diag and forget B's discriminator.
    const after = a.sent.filter((s) => s.at > atMs);
    expect(after[0]?.packet).toMatchObject({ state: BfdState.Down, diag: 1 });
    expect(a.sent.at(-1)?.packet.yourDiscriminator).toBe(0);
    // B hears A's Down and goes down too, with diag 3.
    expect(b.changes.find((c) => c.to === "Down")).toMatchObject({
      diag: BfdDiag.NeighborSignaledSessionDown,
    });
  });

  it("comes back Up when the link heals", () => {
    const { clock, a, b, cut } = upPair();
    cut.bToA = true;
    clock.advance(3000);
    expect(a.session.state).toBe("Down");
    cut.bToA = false;
    clock.advance(5000);
    expect([a.session.state, b.session.state]).toEqual(["Up", "Up"]);
  });

  it("the peer's AdminDown takes us Down with diag 3 and marks it as administrative", () => {
    const { clock, a, b } = upPair();
    b.session.adminDown();
    expect(b.sent.at(-1)?.packet).toMatchObject({
      state: BfdState.AdminDown,
      diag: BfdDiag.AdministrativelyDown,
    });
    const sentBefore = b.sent.length;
    clock.advance(5);
    expect(a.changes.at(-1)).toMatchObject({
      from: "Up",
      to: "Down",
      diag: BfdDiag.NeighborSignaledSessionDown,
      peerAdminDown: true,
    });
    // B is quiet after its AdminDown and A does not declare a detection failure on top.
    clock.advance(5000);
    expect(b.sent.length).toBe(sentBefore);
    expect(a.changes.filter((c) => c.to === "Down")).toHaveLength(1);
  });

  it("the peer's Down while Up takes us Down with diag 3, not administrative", () => {
    const clock = new ManualClock();
    const p = probe(clock, { localDiscriminator: 7 });
    p.session.start();
    p.session.receive(peerPacket({ state: BfdState.Init, yourDiscriminator: 7 }));
    p.session.receive(peerPacket({ state: BfdState.Down, yourDiscriminator: 7, diag: 1 }));
    expect(p.changes.at(-1)).toMatchObject({ from: "Up", to: "Down", diag: 3, peerAdminDown: false });
  });

  it("stop() goes quiet without reporting a state change", () => {
    const { clock, a } = upPair();
    const n = a.sent.length;
    const changes = a.changes.length;
    a.session.stop();
    clock.advance(5000);
    expect([a.sent.length, a.changes.length]).toEqual([n, changes]);
  });
});

describe("BFD session: timers", () => {
  it("transmits at max(our desired TX, their required RX) and detects at their mult × max(our RX, their TX)", () => {
    const clock = new ManualClock();
    const { a, b } = startedPair(
      clock,
      { desiredMinTxMs: 100, requiredMinRxMs: 200, detectMult: 3 },
      { desiredMinTxMs: 400, requiredMinRxMs: 500, detectMult: 5 },
    );
    clock.advance(5000);
    expect(a.session.status()).toMatchObject({
      state: "Up",
      transmitIntervalMs: 500,
      detectionTimeMs: 5 * 400,
    });
    expect(b.session.status()).toMatchObject({
      state: "Up",
      transmitIntervalMs: 400,
      detectionTimeMs: 3 * 500,
    });
    // Once Up, A's periodic packets are 75–100 % of 500 ms apart (random 0.5 → 437.5 ms).
    const gaps = a.sent
      .filter((s) => s.at > 3000 && !s.packet.final)
      .map((s, i, all) => (i === 0 ? undefined : s.at - (all[i - 1]?.at ?? 0)))
      .filter((g): g is number => g !== undefined);
    expect(gaps.length).toBeGreaterThan(3);
    for (const g of gaps) expect(g).toBeCloseTo(437.5, 5);
  });

  it.each([
    { description: "random 0 → 75 %", random: 0, mult: 3, gap: 225 },
    { description: "random ~1 → 100 %", random: 0.9999999, mult: 3, gap: 300 },
    { description: "detect mult 1, random ~1 → 90 %", random: 0.9999999, mult: 1, gap: 270 },
    { description: "detect mult 1, random 0 → 75 %", random: 0, mult: 1, gap: 225 },
  ])("jitter: $description", ({ random, mult, gap }) => {
    const clock = new ManualClock();
    const p = probe(clock, { localDiscriminator: 7, detectMult: mult }, undefined, () => random);
    p.session.start();
    p.session.receive(peerPacket({ state: BfdState.Init, yourDiscriminator: 7, requiredMinRxUs: 300_000 }));
    expect(p.session.state).toBe("Up");
    const from = p.sent.length;
    for (let i = 0; i < 3; i++) {
      clock.advance(300);
      p.session.receive(peerPacket({ state: BfdState.Up, yourDiscriminator: 7, final: true }));
    }
    const periodic = p.sent.slice(from).filter((s) => !s.packet.final);
    const gaps = periodic.slice(1).map((s, i) => s.at - (periodic[i]?.at ?? 0));
    expect(gaps.length).toBeGreaterThan(0);
    for (const g of gaps) expect(g).toBeCloseTo(gap, 3);
  });

  it("no periodic packets while the peer's Required Min RX is zero", () => {
    const clock = new ManualClock();
    const p = probe(clock, { localDiscriminator: 7 });
    p.session.start();
    p.session.receive(peerPacket({ state: BfdState.Down, requiredMinRxUs: 0 }));
    const n = p.sent.length;
    clock.advance(400);
    expect(p.sent.length).toBe(n);
  });
});

describe("BFD session: poll sequence", () => {
  it("going Up (leaving the 1 s rate) polls; the peer answers with Final at once and the poll ends", () => {
    const clock = new ManualClock();
    const { a, b } = startedPair(clock);
    clock.advance(3000);
    const polls = a.sent.filter((s) => s.packet.poll);
    expect(polls.length).toBeGreaterThan(0);
    for (const s of polls) expect(s.packet.desiredMinTxUs).toBe(300_000);
    const firstPoll = polls[0]?.at ?? 0;
    const final = b.sent.find((s) => s.packet.final && s.at >= firstPoll);
    expect(final?.at).toBe(firstPoll + 1);
    expect(final?.packet.poll).toBe(false);
    expect(a.session.status().pollInProgress).toBe(false);
    expect(a.sent.filter((s) => s.at > firstPoll + 10).some((s) => s.packet.poll)).toBe(false);
  });

  it("a slower TX set while Up is advertised at once but used only after the Final", () => {
    const clock = new ManualClock();
    const p = probe(clock, { localDiscriminator: 7 });
    p.session.start();
    p.session.receive(peerPacket({ state: BfdState.Init, yourDiscriminator: 7, requiredMinRxUs: 10_000 }));
    p.session.receive(
      peerPacket({ state: BfdState.Up, yourDiscriminator: 7, final: true, requiredMinRxUs: 10_000 }),
    );
    expect(p.session.status()).toMatchObject({ transmitIntervalMs: 300, pollInProgress: false });
    p.session.setTimers({ desiredMinTxMs: 1000, requiredMinRxMs: 300, detectMult: 3 });
    expect(p.sent.at(-1)?.packet).toMatchObject({ poll: true, desiredMinTxUs: 1_000_000 });
    expect(p.session.status()).toMatchObject({ transmitIntervalMs: 300, pollInProgress: true });
    p.session.receive(
      peerPacket({ state: BfdState.Up, yourDiscriminator: 7, final: true, requiredMinRxUs: 10_000 }),
    );
    expect(p.session.status()).toMatchObject({ transmitIntervalMs: 1000, pollInProgress: false });
  });

  it("a smaller RX set while Up keeps the old detection time until the Final", () => {
    const clock = new ManualClock();
    const p = probe(clock, { localDiscriminator: 7, requiredMinRxMs: 500 });
    p.session.start();
    const peer = { yourDiscriminator: 7, desiredMinTxUs: 50_000 };
    p.session.receive(peerPacket({ ...peer, state: BfdState.Init }));
    p.session.receive(peerPacket({ ...peer, state: BfdState.Up, final: true }));
    expect(p.session.status().detectionTimeMs).toBe(1500);
    p.session.setTimers({ desiredMinTxMs: 300, requiredMinRxMs: 100, detectMult: 3 });
    p.session.receive(peerPacket({ ...peer, state: BfdState.Up }));
    expect(p.session.status().detectionTimeMs).toBe(1500);
    p.session.receive(peerPacket({ ...peer, state: BfdState.Up, final: true }));
    expect(p.session.status().detectionTimeMs).toBe(300);
  });

  it("answers the peer's Poll with a Final at once, without P", () => {
    const clock = new ManualClock();
    const p = probe(clock, { localDiscriminator: 7 });
    p.session.start();
    clock.advance(100);
    const n = p.sent.length;
    p.session.receive(peerPacket({ state: BfdState.Down, poll: true }));
    const finals = p.sent.slice(n).filter((s) => s.packet.final);
    expect(finals).toHaveLength(1);
    expect(finals[0]?.at).toBe(100);
    expect(finals[0]?.packet.poll).toBe(false);
  });

  it("setTimers while not Up changes the values without a poll", () => {
    const clock = new ManualClock();
    const p = probe(clock, { localDiscriminator: 7 });
    p.session.start();
    const n = p.sent.length;
    p.session.setTimers({ desiredMinTxMs: 100, requiredMinRxMs: 100, detectMult: 5 });
    clock.advance(1000);
    expect(p.sent.slice(n).some((s) => s.packet.poll)).toBe(false);
    expect(p.sent.at(-1)?.packet).toMatchObject({ detectMult: 5, requiredMinRxUs: 100_000 });
  });
});

describe("BFD session: AdminDown", () => {
  it("after adminDown() received packets are ignored and nothing more is sent", () => {
    const clock = new ManualClock();
    const p = probe(clock, { localDiscriminator: 7 });
    p.session.start();
    p.session.receive(peerPacket({ state: BfdState.Init, yourDiscriminator: 7 }));
    p.session.adminDown();
    expect(p.changes.at(-1)).toMatchObject({ from: "Up", to: "AdminDown", diag: 7 });
    const n = p.sent.length;
    p.session.receive(peerPacket({ state: BfdState.Up, yourDiscriminator: 7, poll: true }));
    clock.advance(5000);
    expect(p.sent.length).toBe(n);
    expect(p.session.state).toBe("AdminDown");
  });

  it("a passive session that never heard the peer sends no AdminDown", () => {
    const clock = new ManualClock();
    const p = probe(clock, { localDiscriminator: 7, passive: true });
    p.session.start();
    p.session.adminDown();
    expect(p.sent).toEqual([]);
  });
});
