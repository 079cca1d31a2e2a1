import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { DEFAULT_NAMESPACE } from "../api/schema/common.js";
import { MigrateInputError, migrateYaml, renderObjects } from "../compat/migrate.js";
import type { ConversionIssue } from "../compat/types.js";

/** Exit codes of `ironlb migrate`, also printed by its --help. */
export const MIGRATE_EXIT = {
  ok: 0,
  /** Unreadable input, YAML syntax error, bad usage. */
  inputError: 1,
  /** Something could not be converted (see stderr); the printed objects lack it. */
  dropped: 2,
  /** The converted configuration does not validate (see stderr). */
  invalid: 3,
} as const;

export interface MigrateRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

function issueLine(issue: ConversionIssue): string {
  const path = issue.path === "" ? "" : ` ${issue.path}:`;
  return `${issue.severity}: ${issue.source}:${path} ${issue.message}\n`;
}

/** The whole command as a function of its input text: IronLB YAML out, problems on stderr. */
export function runMigrate(text: string, options: { namespace: string }): MigrateRun {
  let result;
  try {
    result = migrateYaml(text, options);
  } catch (err) {
    if (!(err instanceof MigrateInputError)) throw err;
    return { stdout: "", stderr: `ironlb migrate: ${err.message}\n`, exitCode: MIGRATE_EXIT.inputError };
  }
  const { objects, issues, validation } = result;
  let stderr = issues.map(issueLine).join("");
  for (const warning of validation.warnings) stderr += `warning: ${warning.toString()}\n`;
  if (!validation.ok) for (const error of validation.errors) stderr += `invalid: ${error.toString()}\n`;
  const dropped = issues.filter((i) => i.severity === "dropped").length;
  const invalid = validation.ok ? 0 : validation.errors.length;
  if (dropped > 0 || invalid > 0 || objects.length === 0) {
    stderr += `ironlb migrate: converted ${objects.length} object${objects.length === 1 ? "" : "s"}; ${dropped} not converted, ${invalid} validation error${invalid === 1 ? "" : "s"}\n`;
  }
  const exitCode = invalid > 0 ? MIGRATE_EXIT.invalid : dropped > 0 ? MIGRATE_EXIT.dropped : MIGRATE_EXIT.ok;
  return { stdout: renderObjects(objects), stderr, exitCode };
}

async function readInput(file: string): Promise<string> {
  if (file !== "-") return readFile(file, "utf8");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const HELP_AFTER = `
Reads MetalLB custom resources (metallb.io/v1beta1, v1beta2), MetalLB's legacy ConfigMap
(data.config with address-pools, peers, bgp-communities, bfd-profiles) and IronLB objects, and
prints the equivalent ironlb.io/v1beta1 objects as multi-document YAML. What could not be
converted, and every validation error of the result, goes to stderr.

Exit codes:
  ${MIGRATE_EXIT.ok}  everything converted and the result is valid
  ${MIGRATE_EXIT.inputError}  the input could not be read or is not YAML
  ${MIGRATE_EXIT.dropped}  something could not be converted (listed on stderr as "dropped: ...")
  ${MIGRATE_EXIT.invalid}  the converted configuration is invalid (listed on stderr as "invalid: ...")

Example:
  ironlb migrate -f metallb-config.yaml > ironlb.yaml && kubectl apply -f ironlb.yaml
  kubectl get -n metallb-system ipaddresspools,l2advertisements -o yaml | ironlb migrate -f -
`;

export function registerMigrate(program: Command): void {
  program
    .command("migrate")
    .description("convert a MetalLB configuration (CRs or the legacy ConfigMap) to IronLB objects")
    .requiredOption("-f, --filename <file>", "multi-document YAML to convert; - reads stdin")
    .option(
      "-n, --namespace <namespace>",
      "namespace of the IronLB objects made from MetalLB ones",
      DEFAULT_NAMESPACE,
    )
    .addHelpText("after", HELP_AFTER)
    .action(async (opts: { filename: string; namespace: string }) => {
      let text: string;
      try {
        text = await readInput(opts.filename);
      } catch (err) {
        process.stderr.write(
          `ironlb migrate: cannot read ${opts.filename}: ${err instanceof Error ? err.message : String(err)}\n`,
        );
        process.exitCode = MIGRATE_EXIT.inputError;
        return;
      }
      const run = runMigrate(text, { namespace: opts.namespace });
      process.stdout.write(run.stdout);
      process.stderr.write(run.stderr);
      process.exitCode = run.exitCode;
    });
}
