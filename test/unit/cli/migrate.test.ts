import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { MIGRATE_EXIT, runMigrate } from "../../../src/cli/migrate.js";
import { buildProgram } from "../../../src/cli/program.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const legacyExample = readFileSync(join(root, "examples", "metallb-legacy-configmap.yaml"), "utf8");

const pool = (name: string, addresses: string) =>
  `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: ${name}, namespace: metallb-system}
spec: {addresses: [${addresses}]}
`;

describe("ironlb migrate", () => {
  it.each([
    {
      description: "a clean conversion",
      input: pool("lan", "192.168.1.240/28"),
      exitCode: MIGRATE_EXIT.ok,
      stderr: [],
    },
    {
      description: "a field that cannot be converted",
      input: `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor}
spec: {myASN: 64501, peerASN: 64500, peerAddress: 203.0.113.1, vrf: red}
`,
      exitCode: MIGRATE_EXIT.dropped,
      stderr: [
        'dropped: metallb.io/v1beta2 BGPPeer "tor": spec.vrf: VRFs are not supported: the session would use the default VRF; not converted',
        "ironlb migrate: converted 1 object; 1 not converted, 0 validation errors",
      ],
    },
    {
      description: "a result that does not validate",
      input: pool("a", "198.51.100.0/24") + "---\n" + pool("b", "198.51.100.128/25"),
      exitCode: MIGRATE_EXIT.invalid,
      stderr: [
        'invalid: IPAddressPool "b": spec.addresses[0]: "198.51.100.128/25": overlaps IPAddressPool "a" spec.addresses[0] (198.51.100.0/24)',
        "ironlb migrate: converted 2 objects; 0 not converted, 1 validation error",
      ],
    },
    {
      description: "text that is not YAML",
      input: "a: [1,\n",
      exitCode: MIGRATE_EXIT.inputError,
      stderr: [expect.stringMatching(/^ironlb migrate: the input is not valid YAML: /) as unknown as string],
    },
    {
      description: "nothing to convert",
      input: "",
      exitCode: MIGRATE_EXIT.ok,
      stderr: ["ironlb migrate: converted 0 objects; 0 not converted, 0 validation errors"],
    },
  ])("exits $exitCode for $description", ({ input, exitCode, stderr }) => {
    const run = runMigrate(input, { namespace: "ironlb-system" });
    expect(run.exitCode).toBe(exitCode);
    expect(run.stderr.split("\n").filter((l) => l !== "")).toEqual(stderr);
  });

  it("prints multi-document IronLB YAML in the chosen namespace", () => {
    const run = runMigrate(legacyExample, { namespace: "lb" });
    expect(run.exitCode).toBe(0);
    const docs = parseAllDocuments(run.stdout);
    if (!Array.isArray(docs)) throw new Error("no documents");
    const objects = docs.map((d) => d.toJS() as { apiVersion: string; metadata: { namespace: string } });
    expect(objects).toHaveLength(6);
    expect(new Set(objects.map((o) => `${o.apiVersion} ${o.metadata.namespace}`))).toEqual(
      new Set(["ironlb.io/v1beta1 lb"]),
    );
  });

  it("is a subcommand of ironlb", () => {
    const migrate = buildProgram().commands.find((c) => c.name() === "migrate");
    expect(migrate?.options.map((o) => o.flags)).toEqual([
      "-f, --filename <file>",
      "-n, --namespace <namespace>",
    ]);
  });

  it("reads stdin with -f -, writes stdout, documents its exit codes and returns them", () => {
    const cli = (args: string[], input = "") =>
      spawnSync(process.execPath, ["--import", "tsx", join(root, "src/cli/main.ts"), "migrate", ...args], {
        cwd: root,
        input,
        encoding: "utf8",
        timeout: 60_000,
      });
    const ok = cli(["-f", "-"], legacyExample);
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain("kind: BGPPeer");
    const dropped = cli(["-f", "-"], "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n");
    expect(dropped.status).toBe(MIGRATE_EXIT.dropped);
    expect(dropped.stderr).toContain('dropped: v1 Service "web"');
    const missing = cli(["-f", join(root, "examples", "does-not-exist.yaml")]);
    expect(missing.status).toBe(MIGRATE_EXIT.inputError);
    const help = cli(["--help"]);
    expect(help.stdout).toMatch(/Exit codes:\n\s+0 .*\n\s+1 .*\n\s+2 .*\n\s+3 /);
  }, 120_000); // four Node processes with the TypeScript loader, on a shared machine
});
