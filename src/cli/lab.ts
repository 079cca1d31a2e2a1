import { Option, type Command } from "commander";
import { MAX_NODES } from "../lab/addressing.js";
import { DEFAULT_STATE_DIR } from "../lab/state.js";
import type { StateFlags, UpFlags } from "../lab/commands.js";

const HELP_AFTER = `
The lab is a small Layer 2 network of network namespaces on this machine (all named ilb-…, only
documentation addresses, nothing routed outside): a switch (a Linux bridge), a control plane
(etcd, kube-apiserver, ironlb controller) at 192.0.2.10, a client at 192.0.2.2, and nodes at
192.0.2.11… each running ironlb speaker and an HTTP backend that answers with its node's name.
Service IPs come from 192.0.2.200-192.0.2.250 and 2001:db8:1::200-2001:db8:1::2ff.

--mode bgp puts a router namespace running BIRD 2 (or FRR with --router frr; 192.0.2.1, 2001:db8:1::1, AS 64500) between
the LAN and a client network (203.0.113.0/24, 2001:db8:2::/64, client at 203.0.113.10). Every
speaker peers with it over IPv4 and IPv6 (AS 64512) and advertises Service IPs from
198.51.100.0/24 and 2001:db8:100::/120; the router spreads flows over the nodes (ECMP).
\`lab status\` adds the router's view: sessions, and each route's next hops from birdc.

Needs root. The first \`lab up\` may build kube-apiserver and etcd (minutes, once).
`;

/** The lab's code (client-node, testenv, processes) loads only when a lab command runs. */
const commands = (): Promise<typeof import("../lab/commands.js")> => import("../lab/commands.js");

export function registerLab(program: Command): void {
  const lab = program
    .command("lab")
    .description(
      "a lab of network namespaces (Layer 2 or BGP) with a real control plane, speakers and a client",
    )
    .addHelpText("after", HELP_AFTER);
  lab
    .command("up")
    .description("build the lab and start everything; prints the VIPs and how to reach them")
    .option("--nodes <n>", `number of node namespaces (1-${MAX_NODES})`, "3")
    .option("--mode <mode>", "announcement mode: l2, or bgp (a BIRD router and a client behind it)", "l2")
    .option("--router <daemon>", "with --mode bgp: the router's daemon, bird (default) or frr")
    .option("--state-dir <dir>", "state file, logs and kubeconfigs", DEFAULT_STATE_DIR)
    .option("--log-level <level>", "log level of the controller and speakers", "info")
    .addOption(new Option("--prefix <prefix>", "namespace name prefix (tests)").hideHelp())
    .action(async (flags: UpFlags) => {
      await (await commands()).up(flags);
      // Detached children are unref'd; idle API connections must not keep us here.
      process.exit(process.exitCode ?? 0);
    });
  lab
    .command("status")
    .description("processes, live speakers, and which node announces which Service")
    .option("--state-dir <dir>", "state file of the lab", DEFAULT_STATE_DIR)
    .action(async (flags: StateFlags) => {
      await (await commands()).status(flags);
      process.exit(process.exitCode ?? 0);
    });
  lab
    .command("down")
    .description("stop the lab's processes (by PID) and remove its namespaces")
    .option("--state-dir <dir>", "state file of the lab", DEFAULT_STATE_DIR)
    .action(async (flags: StateFlags) => {
      await (await commands()).down(flags);
    });
}
