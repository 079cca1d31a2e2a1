import { CommanderError, type Command } from "commander";
import { DEFAULT_NAMESPACE } from "../api/schema/common.js";

/** Exit codes of `ironlb status` and `ironlb doctor`. */
export const OPS_EXIT = {
  ok: 0,
  /** doctor: a problem was found. */
  problems: 1,
  /** Bad usage, no kubeconfig, or the API server could not be read. */
  usage: 2,
} as const;

export type OutputFormat = "table" | "json" | "yaml";

export interface ClusterFlags {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly namespace: string;
  readonly lbClass?: string;
  readonly output: string;
}

export function parseOutput(text: string): OutputFormat | undefined {
  return text === "table" || text === "json" || text === "yaml" ? text : undefined;
}

/** --kubeconfig, --context, --namespace, --lb-class, -o: the flags status and doctor share. */
export function addClusterOptions(command: Command, outputs: string): Command {
  return command
    .option("--kubeconfig <file>", "kubeconfig to use (default: $KUBECONFIG, else in-cluster)")
    .option("--context <name>", "kubeconfig context to use")
    .option(
      "-n, --namespace <namespace>",
      "IronLB's namespace (configuration, Leases, status objects)",
      DEFAULT_NAMESPACE,
    )
    .option("--lb-class <class>", "the loadBalancerClass IronLB serves (default: Services without a class)")
    .option("-o, --output <format>", outputs, "table")
    .exitOverride((err) => {
      // Usage errors exit with 2 so scripts can tell them from "problems found" (1).
      if (err.exitCode === 0) throw err;
      throw new CommanderError(OPS_EXIT.usage, err.code, err.message);
    });
}

/** Prints an error and sets the usage/connection exit code. */
export function failUsage(command: string, error: unknown): void {
  process.stderr.write(`ironlb ${command}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = OPS_EXIT.usage;
}

/** The kube connection and reader; loaded only when a command runs (client-node is large). */
export async function connect(flags: ClusterFlags): Promise<import("../ops/read.js").ClusterReader> {
  const [{ loadKubeConfig }, { ClusterReader }] = await Promise.all([
    import("../k8s/client.js"),
    import("../ops/read.js"),
  ]);
  const config = loadKubeConfig({ kubeconfig: flags.kubeconfig, context: flags.context });
  return new ClusterReader(config, AbortSignal.timeout(120_000));
}

async function runStatus(flags: ClusterFlags): Promise<void> {
  const format = parseOutput(flags.output);
  if (format === undefined) {
    failUsage("status", `unknown output format "${flags.output}" (table, json or yaml)`);
    return;
  }
  const [{ buildClusterModel }, { buildStatusReport, renderStatusTable }, { stringify }] = await Promise.all([
    import("../ops/cluster.js"),
    import("../ops/status.js"),
    import("yaml"),
  ]);
  let objects;
  try {
    const reader = await connect(flags);
    objects = await reader.clusterObjects(flags.namespace);
  } catch (error) {
    failUsage("status", error);
    return;
  }
  const model = buildClusterModel(objects, {
    namespace: flags.namespace,
    lbClass: flags.lbClass,
    now: Date.now(),
  });
  const report = buildStatusReport(objects, model);
  if (format === "table") process.stdout.write(renderStatusTable(report));
  else if (format === "json") process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(stringify(report));
  process.exitCode = OPS_EXIT.ok;
}

const HELP_AFTER = `
Lists every IronLB pool (addresses assigned/total per family, from IPAddressPool.status or, when
absent, computed from the Services' addresses) and every LoadBalancer Service: addresses, pool,
sharing key, who announces it (ServiceL2Status node, ServiceBGPStatus node and peers) and its
state: allocated, pending (reason), not-announced (reason) or other-class. With BGP, every node's
sessions from its BGPSessionState objects: peer, state, prefixes advertised and BFD state.

Reads with one paginated list per resource; never one call per Service.

Exit codes: ${String(OPS_EXIT.ok)} success, ${String(OPS_EXIT.usage)} bad usage or the cluster could not be read.
`;

export function registerStatus(program: Command): void {
  addClusterOptions(
    program.command("status").description("pools and LoadBalancer Services at a glance"),
    "output format: table, json or yaml",
  )
    .addHelpText("after", HELP_AFTER)
    .action(async (flags: ClusterFlags) => {
      await runStatus(flags);
      // Idle keep-alive connections must not hold the process.
      process.exit(process.exitCode ?? 0);
    });
}
