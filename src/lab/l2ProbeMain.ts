/**
 * Entry point of the client-side Layer 2 probe (run inside the client namespace). JSON lines on
 * stdout, the first one {"event":"ready","mac":…} once the sockets are open:
 *
 *   l2ProbeMain watch    --interface IF --ipv4 A --ipv6 B
 *       every ARP reply, gratuitous ARP and NA seen: {"event":"answer",…} until SIGTERM
 *   l2ProbeMain solicit  … --target IP --count N --interval-ms I
 *       solicits IP N times and prints every answer as it comes, then {"event":"done","sent":N}
 *   l2ProbeMain latency  … --targets IP,IP --rounds N --timeout-ms T --gap-ms G
 *       {"event":"latency","samples":[{"target","latencyNs"}…]}
 *   l2ProbeMain flood    … --target IP --window W --duration-ms D
 *       {"event":"flood","sent","answered","durationMs"}
 */
import { parseArgs } from "node:util";
import { flood, L2Probe, measureLatency, type SeenAnswer } from "./l2Probe.js";

const [mode = "", ...rest] = process.argv.slice(2);
const { values } = parseArgs({
  args: rest,
  options: {
    interface: { type: "string" },
    ipv4: { type: "string" },
    ipv6: { type: "string" },
    target: { type: "string" },
    targets: { type: "string" },
    count: { type: "string", default: "1" },
    "interval-ms": { type: "string", default: "100" },
    rounds: { type: "string", default: "100" },
    "timeout-ms": { type: "string", default: "100" },
    "gap-ms": { type: "string", default: "2" },
    window: { type: "string", default: "32" },
    "duration-ms": { type: "string", default: "3000" },
  },
});

const print = (line: Record<string, unknown>): void => {
  process.stdout.write(
    `${JSON.stringify(line, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))}\n`,
  );
};
const answerLine = (answer: SeenAnswer): Record<string, unknown> => ({ event: "answer", ...answer });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const probe = new L2Probe({
  interface: values.interface ?? "ilb-eth0",
  ipv4: values.ipv4 ?? "192.0.2.2",
  ipv6: values.ipv6 ?? "2001:db8:1::2",
});
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    probe.close();
    process.exit(0);
  });
}
print({ event: "ready", mac: probe.mac });

switch (mode) {
  case "watch": {
    probe.onAnswer((answer) => {
      print(answerLine(answer));
    });
    break;
  }
  case "solicit": {
    probe.onAnswer((answer) => {
      print(answerLine(answer));
    });
    const target = values.target ?? "";
    const count = Number(values.count);
    for (let i = 0; i < count; i++) {
      probe.solicit(target);
      await sleep(Number(values["interval-ms"]));
    }
    print({ event: "done", sent: count });
    probe.close();
    break;
  }
  case "latency": {
    const samples = await measureLatency(probe, (values.targets ?? "").split(","), {
      rounds: Number(values.rounds),
      timeoutMs: Number(values["timeout-ms"]),
      gapMs: Number(values["gap-ms"]),
    });
    print({ event: "latency", samples });
    probe.close();
    break;
  }
  case "flood": {
    const result = await flood(probe, values.target ?? "", {
      window: Number(values.window),
      durationMs: Number(values["duration-ms"]),
    });
    print({ event: "flood", ...result });
    probe.close();
    break;
  }
  default:
    process.stderr.write(`unknown mode ${JSON.stringify(mode)}: watch, solicit, latency or flood\n`);
    probe.close();
    process.exitCode = 2;
}
