/**
 * BFD costs. (1) Control packets encoded + decoded per second (pure codec). (2) CPU of 100 BFD
 * sessions at 300 ms × 3 over real UDP on loopback: one BfdManager on 127.0.0.1 with 100 peers
 * (127.0.1.1–127.0.1.100), and a second manager playing the 100 peers, both in this process; the
 * CPU time of the process over a steady-state window, and what one side costs (half of it).
 * Loopback addresses only; an unprivileged port instead of 3784.
 */
import { BfdManager, type BfdHandle, type BfdRequest } from "../src/bfd/manager.js";
import { BfdState, decodeControlPacket, encodeControlPacket } from "../src/bfd/packet.js";
import { udpTransport } from "../src/bfd/udp.js";
import { parseIP } from "../src/net/ip.js";
import { peerPacket } from "../test/unit/bfd/fakes.js";
import type { Emit } from "./run.js";

const MEASURE_MS = 1000;
const SESSIONS = 100;
const STEADY_MS = Number(process.env["IRONLB_BENCH_BFD_SECONDS"] ?? "10") * 1000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function codec(emit: Emit): void {
  const packet = peerPacket({
    state: BfdState.Up,
    myDiscriminator: 0x01020304,
    yourDiscriminator: 0x0a0b0c0d,
  });
  let n = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  let elapsedMs = 0;
  while (elapsedMs < MEASURE_MS) {
    for (let i = 0; i < 10_000; i++) {
      const d = decodeControlPacket(encodeControlPacket({ ...packet, yourDiscriminator: i + 1 }));
      if (d.ok) sink += d.packet.detectMult;
    }
    n += 10_000;
    elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  }
  if (sink !== n * 3) throw new Error("codec round trip lost packets");
  emit({
    bench: "bfd",
    figure: "packets encoded+decoded per second",
    value: Math.round((n / elapsedMs) * 1000),
    unit: "packets/s",
  });
}

async function sessions(emit: Emit): Promise<void> {
  const port = 30_000 + (process.pid % 20_000);
  const timers = { desiredMinTxMs: 300, requiredMinRxMs: 300, detectMult: 3 };
  const base = { multiHop: false, passive: false, minimumTtl: 254, timers };
  const counts = { sent: 0, received: 0 };
  const observer = {
    packetSent: () => {
      counts.sent++;
    },
    packetReceived: () => {
      counts.received++;
    },
  };
  const node = new BfdManager({ transport: udpTransport({ singleHopPort: port }), observer });
  const routers = new BfdManager({ transport: udpTransport({ singleHopPort: port }), observer });
  const handles: BfdHandle[] = [];
  try {
    for (let i = 1; i <= SESSIONS; i++) {
      const peer = parseIP(`127.0.1.${String(i)}`);
      const local = parseIP("127.0.0.1");
      const toPeer: BfdRequest = { ...base, peer, local };
      const fromPeer: BfdRequest = { ...base, peer: local, local: peer };
      handles.push(
        node.acquire(toPeer, () => undefined),
        routers.acquire(fromPeer, () => undefined),
      );
    }
    const t0 = Date.now();
    while (!handles.every((h) => h.state() === "Up")) {
      if (Date.now() - t0 > 30_000) throw new Error("the sessions did not all come Up");
      await sleep(50);
    }
    emit({
      bench: "bfd",
      figure: `time until ${String(SESSIONS)} session pairs are Up`,
      value: Date.now() - t0,
      unit: "ms",
    });
    await sleep(1000); // past the poll sequences
    const sent0 = counts.sent;
    const received0 = counts.received;
    const cpu0 = process.cpuUsage();
    const w0 = process.hrtime.bigint();
    await sleep(STEADY_MS);
    const cpu = process.cpuUsage(cpu0);
    const wallMs = Number(process.hrtime.bigint() - w0) / 1e6;
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const downs = handles.filter((h) => h.state() !== "Up").length;
    emit({
      bench: "bfd",
      figure: `CPU, ${String(SESSIONS)} sessions at 300 ms, both ends in one process`,
      value: Math.round((cpuMs / wallMs) * 1000) / 10,
      unit: "% of one core",
      sessionsNotUp: downs,
    });
    emit({
      bench: "bfd",
      figure: `CPU, ${String(SESSIONS)} sessions at 300 ms, one end (half)`,
      value: Math.round((cpuMs / wallMs) * 500) / 10,
      unit: "% of one core",
    });
    emit({
      bench: "bfd",
      figure: "control packets sent per second (both ends)",
      value: Math.round(((counts.sent - sent0) / wallMs) * 1000),
      unit: "packets/s",
      receivedPerSecond: Math.round(((counts.received - received0) / wallMs) * 1000),
    });
  } finally {
    await Promise.all([node.stop(), routers.stop()]);
  }
}

export default async function bfdBench(emit: Emit): Promise<void> {
  codec(emit);
  await sessions(emit);
}
