import { join } from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import { DEFAULT_NAMESPACE } from "../api/schema/common.js";
import { DEFAULT_EXCLUDED_INTERFACES, parseExcludedInterfaces } from "../l2/interfaces.js";
import { loadKubeConfig } from "../k8s/client.js";
import { DEFAULT_MEMBERSHIP_PORT } from "../membership/address.js";
import { DEFAULT_LEASE_DURATION_SECONDS } from "../membership/lease.js";
import { DEFAULT_MEMBERSHIP_KEY_DIR } from "../membership/secret.js";
import { MEMBERSHIP_MODES, type MembershipMode } from "../membership/speakerMembership.js";
import { createLogger, parseLogLevel } from "../runtime/logger.js";
import { simulatedAnnouncerIO } from "../l2/announcerSimulated.js";
import { readSysfsLinks } from "../l2/interfacesSysfs.js";
import { runSpeaker, type SpeakerRunOptions } from "../speaker/run.js";
import type { StopMode } from "../bgp/manager.js";
import { BGP_STOP_MODES } from "../speaker/bgpKube.js";

export interface SpeakerFlags {
  readonly node?: string;
  readonly kubeconfig?: string;
  readonly namespace: string;
  readonly lbClass?: string;
  readonly metricsAddr: string;
  readonly healthAddr?: string;
  readonly logLevel: string;
  readonly excludeInterfaces?: string;
  readonly leaseDuration: number;
  readonly membership: MembershipMode;
  readonly membershipPort: number;
  readonly membershipBind: string;
  readonly membershipAdvertise?: string;
  readonly membershipKeyDir: string;
  readonly bgpStateDir?: string;
  readonly bgpStopMode: StopMode;
  /** Hidden: sysfs poll period for tests. */
  readonly linkPollMs?: number;
  /** Hidden, for tests: links from a sysfs-shaped folder, sockets that send nowhere. */
  readonly simulateNetwork?: string;
}

const port = (text: string): number => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new InvalidArgumentError(`expected a port (1-65535), got "${text}"`);
  }
  return value;
};

const positiveInteger = (text: string): number => {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`expected a positive whole number, got "${text}"`);
  }
  return value;
};

const HELP_AFTER = `
Answers ARP (IPv4) and NDP (IPv6) for the LoadBalancer addresses this node is chosen to announce
(Layer 2 mode): the L2Advertisements in --namespace say which pools, nodes and interfaces; among
the eligible nodes with a live speaker, a hash of the Service's first address picks one. Each
speaker keeps a Lease "ironlb-speaker-<node>" fresh in --namespace (renewed every third of
--lease-duration); a speaker is live while its Lease is. Writes ServiceL2Status objects and
"nodeAssigned" Events. Needs CAP_NET_RAW. On SIGTERM or SIGINT it stops answering and deletes
its Lease, so another node takes over at once.

Membership (--membership, default auto): when the ironlb-memberlist Secret is mounted at
--membership-key-dir, speakers also watch each other over UDP --membership-port (SWIM with
Lifeguard, every packet sealed with AES-256-GCM), so a dead node is noticed in under a second
and a stopped speaker at once; Leases then only cover speakers outside the membership. The
speakers find each other at their Nodes' InternalIPs (this one: --membership-advertise to
override). "swim" insists on the key; "lease" uses Leases only.

Without L2Advertisement.interfaces it answers on every link that is up, Ethernet, broadcast
capable and not a bridge or bond port, except those matching --exclude-interfaces: a comma list
of globs that replaces the default, or with a leading "+" adds to it. Default:
  ${DEFAULT_EXCLUDED_INTERFACES.join(",")}

BGP mode: with the BGPPeers whose nodeSelectors match this node, the speaker opens BGP sessions
(IPv4 and IPv6 unicast, 4-octet AS, TCP-MD5 from the peer's password or its kubernetes.io/basic-auth
Secret in --namespace) and advertises the addresses the BGPAdvertisements give this node. On
SIGTERM, --bgp-stop-mode restart (default) leaves graceful-restart peers our routes while the next
speaker starts (others get a Cease); shutdown withdraws everything at once.

Listen addresses are host:port, [v6]:port or :port (every interface).
`;

/**
 * A speaker that touches no network: links read from DIR/net (sysfs layout) and DIR/if_inet6,
 * sockets that send nowhere. For integration tests that run speakers in the host's namespace.
 */
function simulatedNetwork(dir: string): Pick<SpeakerRunOptions, "io" | "readLinks"> {
  return {
    io: simulatedAnnouncerIO,
    readLinks: () => readSysfsLinks({ sysClassNet: join(dir, "net"), ifInet6: join(dir, "if_inet6") }),
  };
}

export function registerSpeaker(program: Command): void {
  program
    .command("speaker")
    .description("run the IronLB speaker on a node: answer ARP/NDP for the Service addresses it announces")
    .option("--node <name>", "this node's name (default: $NODE_NAME)")
    .option("--kubeconfig <path>", "kubeconfig file (default: $KUBECONFIG, else in-cluster)")
    .option(
      "--namespace <namespace>",
      "namespace of IronLB's configuration, Leases and status objects",
      DEFAULT_NAMESPACE,
    )
    .option("--lb-class <name>", "serve Services of this loadBalancerClass (default: those without a class)")
    .option(
      "--metrics-addr <addr>",
      "Prometheus /metrics (and /healthz, /readyz without --health-addr)",
      ":7472",
    )
    .option("--health-addr <addr>", "separate listener for /healthz and /readyz")
    .option("--log-level <level>", "trace, debug, info, warn, error, fatal or silent", "info")
    .option(
      "--exclude-interfaces <globs>",
      'interfaces never chosen automatically ("+globs" adds to the default)',
    )
    .addOption(
      new Option("--lease-duration <seconds>", "seconds a speaker stays live without renewing its Lease")
        .argParser(positiveInteger)
        .default(DEFAULT_LEASE_DURATION_SECONDS),
    )
    .addOption(
      new Option("--membership <mode>", "speaker liveness: swim (needs the key), lease, or auto")
        .choices(MEMBERSHIP_MODES)
        .default("auto"),
    )
    .addOption(
      new Option("--membership-port <port>", "UDP port of the membership protocol")
        .argParser(port)
        .default(DEFAULT_MEMBERSHIP_PORT),
    )
    .option("--membership-bind <addr>", "address the membership socket listens on", "::")
    .option(
      "--membership-advertise <ip>",
      "address the other speakers reach this one at (default: Node InternalIP)",
    )
    .option("--membership-key-dir <dir>", "the mounted ironlb-memberlist Secret", DEFAULT_MEMBERSHIP_KEY_DIR)
    .option("--bgp-state-dir <dir>", "where BGP graceful restart remembers a restart (e.g. an emptyDir)")
    .addOption(
      new Option(
        "--bgp-stop-mode <mode>",
        "on SIGTERM: restart (graceful-restart peers keep the routes) or shutdown (Cease: withdraw at once)",
      )
        .choices(BGP_STOP_MODES)
        .default("restart"),
    )
    .addOption(new Option("--link-poll-ms <ms>").argParser(positiveInteger).hideHelp())
    .addOption(new Option("--simulate-network <dir>").hideHelp())
    .addHelpText("after", HELP_AFTER)
    .action(async (flags: SpeakerFlags) => {
      const node = flags.node ?? process.env["NODE_NAME"];
      if (node === undefined || node === "") {
        program.error("ironlb speaker: --node is required (or set NODE_NAME)", { exitCode: 2 });
      }
      const excludedInterfaces =
        flags.excludeInterfaces === undefined ? undefined : parseExcludedInterfaces(flags.excludeInterfaces);
      const logger = createLogger({ level: parseLogLevel(flags.logLevel), name: "speaker" }).child({ node });
      const kubeConfig = loadKubeConfig({ kubeconfig: flags.kubeconfig });
      const stop = new AbortController();
      const onSignal = (name: string) => () => {
        logger.info({ signal: name }, "shutting down");
        stop.abort();
      };
      process.once("SIGTERM", onSignal("SIGTERM"));
      process.once("SIGINT", onSignal("SIGINT"));
      await runSpeaker(
        {
          node,
          kubeConfig,
          namespace: flags.namespace,
          lbClass: flags.lbClass,
          logger,
          metricsAddr: flags.metricsAddr,
          healthAddr: flags.healthAddr,
          ...(excludedInterfaces === undefined ? {} : { excludedInterfaces }),
          leaseDurationSeconds: flags.leaseDuration,
          membership: {
            mode: flags.membership,
            port: flags.membershipPort,
            bindAddress: flags.membershipBind,
            keyDir: flags.membershipKeyDir,
            ...(flags.membershipAdvertise === undefined
              ? {}
              : { advertiseAddress: flags.membershipAdvertise }),
          },
          ...(flags.bgpStateDir === undefined ? {} : { bgpStateDir: flags.bgpStateDir }),
          bgpStopMode: flags.bgpStopMode,
          ...(flags.linkPollMs === undefined ? {} : { linkPollMs: flags.linkPollMs }),
          ...(flags.simulateNetwork === undefined ? {} : simulatedNetwork(flags.simulateNetwork)),
        },
        stop.signal,
      );
      logger.flush();
      // Idle keep-alive sockets and timers must not hold the process after a clean stop.
      process.exit(0);
    });
}
