import { Option, type Command } from "commander";
import { DEFAULT_NAMESPACE } from "../api/schema/common.js";
import { alwaysLeader, runController, type WebhookStarter } from "../controller/controller.js";
import { leaseLeadership } from "../controller/leadership.js";
import { loadKubeConfig } from "../k8s/client.js";
import { parseListenAddress } from "../runtime/httpServer.js";
import { createLogger, parseLogLevel } from "../runtime/logger.js";
import { startWebhook } from "../webhook/index.js";

export interface ControllerFlags {
  readonly kubeconfig?: string;
  readonly namespace: string;
  readonly lbClass?: string;
  readonly metricsAddr: string;
  readonly healthAddr?: string;
  readonly webhookAddr?: string;
  readonly leaderElect: boolean;
  readonly logLevel: string;
  /** Hidden: election timings for tests (defaults 15 s / 10 s / 2 s). */
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
}

const milliseconds = (text: string): number => {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`expected a positive integer, got "${text}"`);
  return value;
};

/** The admission webhook of src/webhook, started on --webhook-addr with the controller's caches. */
const webhookStarter: WebhookStarter = (o) => {
  const webhook = startWebhook({
    listen: parseListenAddress(o.listen),
    namespace: o.namespace,
    kubeConfig: o.kubeConfig,
    configObjects: o.configObjects,
    logger: o.logger,
    signal: o.signal,
  });
  webhook.ready.then(
    () => {
      o.logger.info("admission webhook ready");
    },
    (error: unknown) => {
      o.logger.error({ err: error }, "admission webhook did not become ready");
    },
  );
  return Promise.resolve(webhook);
};

const HELP_AFTER = `
Gives LoadBalancer Services of its class addresses from the IronLB pools (ironlb.io IPAddressPool
objects in --namespace, and metallb.io objects when MetalLB's CRDs are installed). Writes Service
status, the ironlb.io/ip-allocated-from-pool annotation, the ironlb.io/IPAllocated condition,
Events, and IPAddressPool status. Stops cleanly on SIGTERM or SIGINT.

Listen addresses are host:port, [v6]:port or :port (every interface).
`;

export function registerController(program: Command): void {
  program
    .command("controller")
    .description("run the IronLB controller: address allocation for LoadBalancer Services")
    .option("--kubeconfig <path>", "kubeconfig file (default: $KUBECONFIG, else in-cluster)")
    .option("--namespace <namespace>", "namespace of IronLB's configuration and Lease", DEFAULT_NAMESPACE)
    .option("--lb-class <name>", "serve Services of this loadBalancerClass (default: those without a class)")
    .option(
      "--metrics-addr <addr>",
      "Prometheus /metrics (and /healthz, /readyz without --health-addr)",
      ":7472",
    )
    .option("--health-addr <addr>", "separate listener for /healthz and /readyz")
    .option("--webhook-addr <addr>", "serve the validating admission webhook (HTTPS) here")
    .option("--leader-elect", "elect one writing leader among replicas through a Lease", false)
    .option("--log-level <level>", "trace, debug, info, warn, error, fatal or silent", "info")
    .addOption(new Option("--lease-duration-ms <ms>").argParser(milliseconds).hideHelp())
    .addOption(new Option("--renew-deadline-ms <ms>").argParser(milliseconds).hideHelp())
    .addOption(new Option("--retry-period-ms <ms>").argParser(milliseconds).hideHelp())
    .addHelpText("after", HELP_AFTER)
    .action(async (flags: ControllerFlags) => {
      const logger = createLogger({ level: parseLogLevel(flags.logLevel), name: "controller" });
      const kubeConfig = loadKubeConfig({ kubeconfig: flags.kubeconfig });
      const leadership = flags.leaderElect
        ? leaseLeadership({
            kubeConfig,
            namespace: flags.namespace,
            logger,
            timings: {
              ...(flags.leaseDurationMs !== undefined && { leaseDurationMs: flags.leaseDurationMs }),
              ...(flags.renewDeadlineMs !== undefined && { renewDeadlineMs: flags.renewDeadlineMs }),
              ...(flags.retryPeriodMs !== undefined && { retryPeriodMs: flags.retryPeriodMs }),
            },
          })
        : alwaysLeader;
      const stop = new AbortController();
      const onSignal = (name: string) => () => {
        logger.info({ signal: name }, "shutting down");
        stop.abort();
      };
      process.once("SIGTERM", onSignal("SIGTERM"));
      process.once("SIGINT", onSignal("SIGINT"));
      await runController(
        {
          namespace: flags.namespace,
          lbClass: flags.lbClass,
          kubeConfig,
          logger,
          metricsAddr: flags.metricsAddr,
          healthAddr: flags.healthAddr,
          webhookAddr: flags.webhookAddr,
          startWebhook: webhookStarter,
          leadership,
        },
        stop.signal,
      );
      logger.flush();
      // Idle keep-alive sockets and timers must not hold the process after a clean stop.
      process.exit(0);
    });
}
