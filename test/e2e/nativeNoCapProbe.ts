// Run without CAP_NET_RAW (nativeSockets.test.ts starts it under setpriv): opening the raw
// sockets must fail with EPERM and a message naming the missing capability.
import { Icmp6Socket, PacketSocket } from "../../src/native/index.js";

const report: Record<string, unknown> = {};
const attempts: [string, () => { close(): void }][] = [
  ["packet", () => PacketSocket.open({ interface: "lo", etherType: 0x0806, onFrames: () => undefined })],
  ["icmp6", () => Icmp6Socket.open({ interface: "lo", icmpTypes: [135], onMessages: () => undefined })],
];
for (const [name, open] of attempts) {
  try {
    open().close();
    report[name] = "opened";
  } catch (error) {
    const e = error as { name?: string; code?: string; syscall?: string; message?: string };
    report[name] = { name: e.name, code: e.code, syscall: e.syscall, message: e.message };
  }
}
process.stdout.write(`${JSON.stringify(report)}\n`);
