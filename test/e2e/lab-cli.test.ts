// `ironlb lab up | status | down` as a user runs them: separate invocations that find each other
// through the state file. A 1-node lab under its own prefix and state directory, so a user's
// default lab on the same machine is never touched.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { ironlbCommand, PACKAGE_ROOT } from "../../src/lab/entries.js";
import { Lab } from "../../src/lab/lab.js";
import { deleteNamespacesSync, namespacesWithPrefix } from "../../src/lab/netns.js";
import { recordAlive } from "../../src/lab/processes.js";
import { readState } from "../../src/lab/state.js";
import { onExitCleanup } from "../../src/testenv/exitCleanup.js";
import { describeWithLabPrereqs } from "./labSupport.js";

const prefix = `ilb-c${process.pid}-`;
const stateDir = mkdtempSync(join(tmpdir(), "ironlb-lab-cli-"));

interface Result {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function ironlb(args: readonly string[], asUser?: string): Result {
  const [command = "", ...rest] = ironlbCommand();
  const argv =
    asUser === undefined
      ? [command, ...rest, ...args]
      : ["setpriv", "--reuid", asUser, "--regid", asUser, "--clear-groups", command, ...rest, ...args];
  const result = spawnSync(argv[0] ?? "", argv.slice(1), {
    cwd: PACKAGE_ROOT,
    encoding: "utf8",
    timeout: 600_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Whatever the CLI left, removed by PID and name (the processes are detached: they outlive us). */
function sweep(): void {
  const state = readState(stateDir);
  for (const record of state?.processes ?? []) {
    if (recordAlive(record)) process.kill(record.pid, "SIGKILL");
  }
  deleteNamespacesSync(namespacesWithPrefix(prefix));
}

describeWithLabPrereqs("ironlb lab up | status | down (separate invocations)", () => {
  const unregister = onExitCleanup(sweep);
  afterAll(async () => {
    await Lab.attach(stateDir)?.stop();
    sweep();
    unregister();
  });

  it("up, up again, status, down — and nothing is left", () => {
    const up = ironlb(["lab", "up", "--nodes", "1", "--state-dir", stateDir, "--prefix", prefix]);
    expect(up.stderr).toBe("");
    expect(up.status).toBe(0);
    expect(up.stdout).toMatch(/lab up in [\d.]+ s: 1 nodes/);
    const curl = up.stdout.split("\n").find((line) => line.includes("curl http://192.0.2.200/"));
    expect(curl?.trim()).toBe(`ip netns exec ${prefix}client curl http://192.0.2.200/`);
    expect(up.stdout).toContain(`ip netns exec ${prefix}client curl 'http://[2001:db8:1::200]/'`);
    const reached = spawnSync(
      "ip",
      ["netns", "exec", `${prefix}client`, "curl", "-sS", "--max-time", "5", "http://192.0.2.200/"],
      {
        encoding: "utf8",
      },
    );
    expect(reached.stdout.trim()).toBe("ilb-node1");

    const again = ironlb(["lab", "up", "--nodes", "1", "--state-dir", stateDir, "--prefix", prefix]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain("already up (nothing changed)");
    const other = ironlb(["lab", "up", "--nodes", "2", "--state-dir", stateDir, "--prefix", prefix]);
    expect(other.status).toBe(1);
    expect(other.stderr).toMatch(/a lab is already up in .* `ironlb lab down` removes it/);

    const status = ironlb(["lab", "status", "--state-dir", stateDir]);
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(
      /default\/demo {2}192\.0\.2\.200, 2001:db8:1::200 .* announced by ilb-node1 \(ilb-eth0\)/,
    );
    expect(status.stdout).toMatch(/speaker-ilb-node1 +pid \d+ +\S+ +running/);

    const records = readState(stateDir)?.processes ?? [];
    expect(records.map((r) => r.name).sort()).toEqual([
      "agent-ilb-node1",
      "control-plane",
      "controller",
      "speaker-ilb-node1",
    ]);
    const down = ironlb(["lab", "down", "--state-dir", stateDir]);
    expect(down.status).toBe(0);
    expect(down.stdout).toMatch(/lab down in [\d.]+ s: processes stopped, 4 namespaces removed/);
    expect(records.filter(recordAlive)).toEqual([]);
    expect(namespacesWithPrefix(prefix)).toEqual([]);
    expect(() => readFileSync(join(stateDir, "state.json"))).toThrow();

    const gone = ironlb(["lab", "status", "--state-dir", stateDir]);
    expect(gone.status).toBe(3);
    expect(gone.stdout).toContain("no lab in");
  });

  it("refuses to run without root, saying why", () => {
    const refused = ironlb(["lab", "up", "--state-dir", join(stateDir, "65534")], "65534");
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("run it as root");
  });
});
