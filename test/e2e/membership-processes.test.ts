/**
 * Three membership members as separate processes on loopback (src/membership/standalone.ts):
 * SIGKILL one by PID and the others must see it dead within about a second; SIGTERM another and
 * the last must see it leave within about 200 ms. Times are compared on the epoch clock each
 * process stamps its events with.
 */
import { spawn, type ChildProcess } from "node:child_process";
import dgram from "node:dgram";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";

interface LiveEvent {
  readonly event: string;
  readonly t: number;
  readonly live?: string[];
}

interface Member {
  readonly name: string;
  readonly port: number;
  readonly child: ChildProcess;
  readonly events: LiveEvent[];
  readonly exited: Promise<number | null>;
}

const children: Member[] = [];
const KEY = "multi-process-membership-test-key";

afterAll(async () => {
  for (const member of children) {
    if (member.child.exitCode === null && member.child.signalCode === null) member.child.kill("SIGKILL");
    await member.exited;
  }
});

/** Free UDP ports on loopback (bound, read, released). */
async function freePorts(count: number): Promise<number[]> {
  const sockets = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<dgram.Socket>((resolve) => {
          const socket = dgram.createSocket("udp4");
          socket.bind(0, "127.0.0.1", () => {
            resolve(socket);
          });
        }),
    ),
  );
  const ports = sockets.map((s) => s.address().port);
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((resolve) =>
          s.close(() => {
            resolve();
          }),
        ),
    ),
  );
  return ports;
}

function spawnMember(name: string, port: number, seeds: number[]): Member {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "src/membership/standalone.ts",
      "--name",
      name,
      "--advertise",
      `127.0.0.1:${port}`,
      "--bind",
      "127.0.0.1",
      ...seeds.flatMap((seed) => ["--seed", `127.0.0.1:${seed}`]),
    ],
    {
      cwd: process.cwd(),
      env: { ...process.env, IRONLB_MEMBERSHIP_KEY: KEY },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const events: LiveEvent[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    events.push(JSON.parse(line) as LiveEvent);
  });
  child.stderr.on("data", (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk.toString()}`));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      resolve(code);
    }),
  );
  const member = { name, port, child, events, exited };
  children.push(member);
  return member;
}

const lastLive = (member: Member): string[] | undefined =>
  [...member.events].reverse().find((e) => e.live !== undefined)?.live;

/** Epoch ms of the first event at or after `since` whose live set equals `names`. */
const sawLive = (member: Member, names: string[], since: number): number | undefined =>
  member.events.find(
    (e) => e.t >= since && e.live !== undefined && e.live.join() === [...names].sort().join(),
  )?.t;

async function waitFor(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const epochNow = (): number => performance.timeOrigin + performance.now();

describe("membership among three processes on loopback", () => {
  // Behaviour only: detection speed is a benchmark figure (printed here, targeted by
  // `npm run bench:failover`), never a timed assertion that a loaded CI machine can trip.
  it("a SIGKILLed member is declared dead by the others; a SIGTERMed one leaves cleanly", async () => {
    const [pa, pb, pc] = (await freePorts(3)) as [number, number, number];
    const a = spawnMember("proc-a", pa, [pb, pc]);
    const b = spawnMember("proc-b", pb, [pa, pc]);
    const c = spawnMember("proc-c", pc, [pa, pb]);
    const all = ["proc-a", "proc-b", "proc-c"];
    await waitFor(
      "all three to see each other",
      () => [a, b, c].every((m) => lastLive(m)?.join() === all.join()),
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000)); // a few quiet rounds

    const killedAt = epochNow();
    process.kill(c.child.pid ?? 0, "SIGKILL");
    await waitFor(
      "c to be declared dead",
      () => [a, b].every((m) => sawLive(m, ["proc-a", "proc-b"], killedAt) !== undefined),
      10_000,
    );
    const detection = Math.max(
      ...[a, b].map((m) => (sawLive(m, ["proc-a", "proc-b"], killedAt) ?? 0) - killedAt),
    );
    console.log(JSON.stringify({ figure: "membership_process_sigkill_detection_ms", value: detection }));
    expect(detection).toBeGreaterThan(0);

    const termAt = epochNow();
    process.kill(b.child.pid ?? 0, "SIGTERM");
    await waitFor("b's leave", () => sawLive(a, ["proc-a"], termAt) !== undefined, 3000);
    const leaveSeen = (sawLive(a, ["proc-a"], termAt) ?? 0) - termAt;
    console.log(JSON.stringify({ figure: "membership_process_sigterm_leave_ms", value: leaveSeen }));
    expect(leaveSeen).toBeGreaterThanOrEqual(0);
    expect(await b.exited).toBe(0);
    expect(b.events.at(-1)?.event).toBe("left");
  });
});
