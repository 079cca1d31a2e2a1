import type { Command } from "commander";
import { addClusterOptions, connect, failUsage, OPS_EXIT, parseOutput, type ClusterFlags } from "./status.js";

interface DoctorFlags extends ClusterFlags {
  readonly kubeProxyConfigmap: string;
  readonly metallbConfigmap: string;
  readonly webhookSecret: string;
}

function splitRef(text: string): { namespace: string; name: string } | undefined {
  const [namespace, name, ...rest] = text.split("/");
  if (namespace === undefined || name === undefined || namespace === "" || name === "" || rest.length > 0)
    return undefined;
  return { namespace, name };
}

async function runDoctor(target: string | undefined, flags: DoctorFlags): Promise<void> {
  const format = parseOutput(flags.output);
  if (format === undefined) {
    failUsage("doctor", `unknown output format "${flags.output}" (table, json or yaml)`);
    return;
  }
  if (target !== undefined && splitRef(target) === undefined) {
    failUsage("doctor", `"${target}" is not NAMESPACE/SERVICE`);
    return;
  }
  const kubeProxy = splitRef(flags.kubeProxyConfigmap);
  const metallb = splitRef(flags.metallbConfigmap);
  if (kubeProxy === undefined || metallb === undefined) {
    failUsage("doctor", "--kube-proxy-configmap and --metallb-configmap take NAMESPACE/NAME");
    return;
  }
  const [{ buildDoctorReport }, { renderFindings }, { probeWebhooks }, { coreResources }, { stringify }] =
    await Promise.all([
      import("../ops/doctor.js"),
      import("../ops/findings.js"),
      import("../ops/webhookProbe.js"),
      import("../k8s/resource.js"),
      import("yaml"),
    ]);
  let report;
  try {
    const reader = await connect(flags);
    const vwcRef = {
      group: "admissionregistration.k8s.io",
      version: "v1",
      plural: "validatingwebhookconfigurations",
      kind: "ValidatingWebhookConfiguration",
      namespaced: false,
    } as const;
    const [objects, kubeProxyMap, metallbMap, configurations, secret] = await Promise.all([
      reader.clusterObjects(flags.namespace),
      reader.configMap(kubeProxy.namespace, kubeProxy.name),
      reader.configMap(metallb.namespace, metallb.name),
      reader.list<import("@kubernetes/client-node").V1ValidatingWebhookConfiguration>(vwcRef),
      reader.get<{ data?: Record<string, string> }>(
        coreResources.secrets,
        flags.webhookSecret,
        flags.namespace,
      ),
    ]);
    const certificate = secret?.data?.["tls.crt"];
    const webhooks = await probeWebhooks({
      configurations,
      services: objects.services,
      endpointSlices: objects.endpointSlices,
      servingCertificatePem:
        certificate === undefined ? undefined : Buffer.from(certificate, "base64").toString("utf8"),
      certificateSource: `Secret ${flags.namespace}/${flags.webhookSecret} tls.crt`,
    });
    report = buildDoctorReport(
      { ...objects, kubeProxyConfigMap: kubeProxyMap, metallbConfigMap: metallbMap, webhooks },
      { namespace: flags.namespace, lbClass: flags.lbClass, now: Date.now(), target },
    );
  } catch (error) {
    failUsage("doctor", error);
    return;
  }
  if (format === "table") process.stdout.write(renderFindings(report.findings));
  else if (format === "json") process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(stringify(report));
  process.exitCode = report.problems > 0 ? OPS_EXIT.problems : OPS_EXIT.ok;
}

const HELP_AFTER = `
Names the reason for every LoadBalancer Service that is pending or not announced (or for the one
Service given), and checks the cluster for the classic traps: no pool matches, pool exhausted,
requested address outside the pools or taken, sharing conflicts, a class IronLB does not serve, no
eligible node (nodeSelectors, exclusion label, NetworkUnavailable, externalTrafficPolicy Local
without a ready endpoint, no live speaker), kube-proxy IPVS without strictARP, an unreachable or
mistrusted webhook, an invalid IronLB configuration, pools (IronLB's or MetalLB's) claiming the
same addresses, BGP sessions that are not Established (node, peer, state, last error), and BFD
sessions that are not Up, or a bfdProfile that does not exist, for BGPPeers with a bfdProfile (from
the BGPSessionState objects). Each finding shows its evidence and the fix.

Exit codes: ${String(OPS_EXIT.ok)} healthy, ${String(OPS_EXIT.problems)} a problem was found, ${String(OPS_EXIT.usage)} bad usage or the cluster could not be read.
`;

export function registerDoctor(program: Command): void {
  addClusterOptions(
    program
      .command("doctor")
      .description("find why Services are pending or not announced, and common misconfigurations")
      .argument("[NAMESPACE/SERVICE]", "diagnose only this Service"),
    "output format: table (human), json or yaml",
  )
    .option("--kube-proxy-configmap <ns/name>", "kube-proxy's ConfigMap", "kube-system/kube-proxy")
    .option("--metallb-configmap <ns/name>", "MetalLB's legacy ConfigMap", "metallb-system/config")
    .option(
      "--webhook-secret <name>",
      "the webhook certificate Secret in IronLB's namespace",
      "ironlb-webhook-cert",
    )
    .addHelpText("after", HELP_AFTER)
    .action(async (target: string | undefined, flags: DoctorFlags) => {
      await runDoctor(target, flags);
      process.exit(process.exitCode ?? 0);
    });
}
