/**
 * The client's instrument for Layer 2: raw ARP requests and Neighbor Solicitations sent from the
 * client namespace, and every ARP reply / Neighbor Advertisement seen there, with the Ethernet
 * source MAC and a monotonic timestamp. It bypasses the client's neighbour cache on purpose (the
 * tests use the kernel's own resolution separately); benchmarks use it to time answers.
 * Runs inside a namespace (see l2ProbeMain.ts); needs the native addon and CAP_NET_RAW.
 */
import { encodeArp, decodeArp } from "../l2/codec/arp.js";
import { decodeEthernet, encodeEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV6 } from "../l2/codec/ethernet.js";
import { solicitedNodeAddress } from "../l2/codec/ipv6.js";
import { BROADCAST_MAC, ZERO_MAC } from "../l2/codec/mac.js";
import {
  decodeNdpPacket,
  encodeNeighborSolicitation,
  ICMPV6_NEIGHBOR_ADVERTISEMENT,
} from "../l2/codec/ndp.js";
import { Icmp6Socket, PacketSocket, type ReceivedFrame } from "../native/index.js";
import { formatIP, parseIP, type IPAddr } from "../net/ip.js";

/** One answer seen on the wire. */
export interface SeenAnswer {
  readonly kind: "arp-reply" | "arp-gratuitous" | "na";
  /** The address answered for (ARP sender IP, NA target). */
  readonly ip: string;
  /** Ethernet source of the frame. */
  readonly mac: string;
  /** The MAC the answer claims (ARP sender MAC, NA target link-layer option). */
  readonly claimedMac: string | undefined;
  /** NA flags. */
  readonly solicited?: boolean;
  readonly override?: boolean;
  /** process.hrtime.bigint() at delivery to JavaScript, in ns. */
  readonly atNs: bigint;
  /** Wall clock at delivery (ms since the epoch), to compare with other processes. */
  readonly atMs: number;
}

export interface ProbeIdentity {
  readonly interface: string;
  /** The client's own addresses, used as sender/source. */
  readonly ipv4: string;
  readonly ipv6: string;
}

const wallNow = (): number => performance.timeOrigin + performance.now();

function answerOf(frame: ReceivedFrame, atNs: bigint, atMs: number): SeenAnswer | undefined {
  const ethernet = decodeEthernet(frame.data);
  if (!ethernet.ok) return undefined;
  const { source, etherType, payload } = ethernet.value;
  if (etherType === ETHERTYPE_ARP) {
    const arp = decodeArp(payload);
    if (!arp.ok) return undefined;
    const packet = arp.value;
    const gratuitous = packet.senderIp.value === packet.targetIp.value;
    if (packet.operation === "request" && !gratuitous) return undefined;
    return {
      kind: gratuitous ? "arp-gratuitous" : "arp-reply",
      ip: formatIP(packet.senderIp),
      mac: source,
      claimedMac: packet.senderMac,
      atNs,
      atMs,
    };
  }
  if (etherType === ETHERTYPE_IPV6) {
    const ndp = decodeNdpPacket(payload);
    if (!ndp.ok || ndp.value.kind !== "neighbor-advertisement") return undefined;
    return {
      kind: "na",
      ip: formatIP(ndp.value.target),
      mac: source,
      claimedMac: ndp.value.targetLinkLayer,
      solicited: ndp.value.solicited,
      override: ndp.value.override,
      atNs,
      atMs,
    };
  }
  return undefined;
}

/**
 * Sends ARP requests / NSs out of one interface and reports every answer it sees. Keep one per
 * process: the sockets are bound to the interface until close().
 */
export class L2Probe {
  private readonly arpSocket: PacketSocket;
  private readonly ipv6Socket: PacketSocket;
  private readonly icmp: Icmp6Socket;
  private readonly listeners = new Set<(answer: SeenAnswer) => void>();
  private readonly sourceV4: IPAddr;
  private readonly sourceV6: IPAddr;

  constructor(identity: ProbeIdentity) {
    this.sourceV4 = parseIP(identity.ipv4);
    this.sourceV6 = parseIP(identity.ipv6);
    const onFrames = (frames: ReceivedFrame[]): void => {
      const atNs = process.hrtime.bigint();
      const atMs = wallNow();
      for (const frame of frames) {
        const answer = answerOf(frame, atNs, atMs);
        if (answer !== undefined) for (const listener of this.listeners) listener(answer);
      }
    };
    this.arpSocket = PacketSocket.open({ interface: identity.interface, etherType: ETHERTYPE_ARP, onFrames });
    this.ipv6Socket = PacketSocket.open({
      interface: identity.interface,
      etherType: ETHERTYPE_IPV6,
      onFrames,
    });
    // Only to send NSs (the kernel builds the IPv6 header); answers are read from ipv6Socket.
    this.icmp = Icmp6Socket.open({
      interface: identity.interface,
      icmpTypes: [ICMPV6_NEIGHBOR_ADVERTISEMENT],
      onMessages: () => undefined,
    });
  }

  get mac(): string {
    return this.arpSocket.mac;
  }

  /** Calls `listener` with every answer seen; returns a remover. */
  onAnswer(listener: (answer: SeenAnswer) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A broadcast "who has `target`?" from the client; returns the send time (hrtime ns). */
  sendArpRequest(target: string): bigint {
    const frame = encodeEthernet({
      destination: BROADCAST_MAC,
      source: this.mac,
      etherType: ETHERTYPE_ARP,
      payload: encodeArp({
        operation: "request",
        senderMac: this.mac,
        senderIp: this.sourceV4,
        targetMac: ZERO_MAC,
        targetIp: parseIP(target),
      }),
    });
    const at = process.hrtime.bigint();
    this.arpSocket.send(frame);
    return at;
  }

  /** A multicast Neighbor Solicitation for `target` (to its solicited-node group, with SLLA). */
  sendNeighborSolicitation(target: string): bigint {
    const targetIp = parseIP(target);
    const destination = solicitedNodeAddress(targetIp);
    const message = encodeNeighborSolicitation(
      { target: targetIp, sourceLinkLayer: this.mac },
      { source: this.sourceV6, destination },
    );
    const at = process.hrtime.bigint();
    this.icmp.send(message, destination, this.sourceV6);
    return at;
  }

  /** ARP request or NS by the target's family. */
  solicit(target: string): bigint {
    return target.includes(":") ? this.sendNeighborSolicitation(target) : this.sendArpRequest(target);
  }

  close(): void {
    this.arpSocket.close();
    this.ipv6Socket.close();
    this.icmp.close();
    this.listeners.clear();
  }
}

/** Is `answer` a reply to a solicitation for `target` (not a gratuitous announcement)? */
export const answersFor = (answer: SeenAnswer, target: string): boolean =>
  answer.ip === target &&
  (answer.kind === "arp-reply" || (answer.kind === "na" && answer.solicited === true));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface LatencySample {
  readonly target: string;
  /** Request to first answer, ns; undefined when none came within the timeout. */
  readonly latencyNs: number | undefined;
}

/**
 * Ping-pong: for `rounds` rounds, solicit each target in turn (the order alternates per round so
 * neither goes first systematically) and wait for its first answer or `timeoutMs`.
 */
export async function measureLatency(
  probe: L2Probe,
  targets: readonly string[],
  options: { rounds: number; timeoutMs: number; gapMs: number },
): Promise<LatencySample[]> {
  const samples: LatencySample[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      let resolveAnswer: (atNs: bigint) => void = () => undefined;
      const answered = new Promise<bigint>((resolve) => {
        resolveAnswer = resolve;
      });
      const remove = probe.onAnswer((answer) => {
        if (answersFor(answer, target)) resolveAnswer(answer.atNs);
      });
      const sentAt = probe.solicit(target);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => {
          resolve(undefined);
        }, options.timeoutMs);
      });
      const at = await Promise.race([answered, timedOut]);
      clearTimeout(timer);
      remove();
      samples.push({ target, latencyNs: at === undefined ? undefined : Number(at - sentAt) });
      if (options.gapMs > 0) await sleep(options.gapMs);
    }
  }
  return samples;
}

export interface FloodResult {
  readonly sent: number;
  readonly answered: number;
  readonly durationMs: number;
}

/**
 * Closed-loop load: keeps `window` requests for `target` outstanding for `durationMs` (a request
 * unanswered after 100 ms frees its slot), and counts answers.
 */
export async function flood(
  probe: L2Probe,
  target: string,
  options: { window: number; durationMs: number },
): Promise<FloodResult> {
  let sent = 0;
  let answered = 0;
  let outstanding = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const pending: number[] = [];
  let wake: () => void = () => undefined;
  const remove = probe.onAnswer((answer) => {
    if (!answersFor(answer, target)) return;
    answered += 1;
    if (outstanding > 0) outstanding -= 1;
    pending.shift();
    wake();
  });
  try {
    while (performance.now() < deadline) {
      // Requests older than 100 ms are counted lost and free their slot.
      const now = performance.now();
      while (pending.length > 0 && now - (pending[0] ?? now) > 100) {
        pending.shift();
        outstanding -= 1;
      }
      while (outstanding < options.window) {
        probe.solicit(target);
        pending.push(performance.now());
        sent += 1;
        outstanding += 1;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await sleep(100);
  } finally {
    remove();
  }
  return { sent, answered, durationMs: performance.now() - started };
}
