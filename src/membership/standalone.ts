/**
 * One membership member as a process of its own, outside any speaker: for the multi-process
 * tests and for trying timings on real machines.
 *
 *   node --import tsx src/membership/standalone.ts --name a --advertise 127.0.0.1:17001 \
 *     --seed 127.0.0.1:17002 [--bind 127.0.0.1] [--key-dir DIR] [--config '{"probeIntervalMs":200}']
 *
 * The key comes from --key-dir (files as the Secret is mounted) or from the environment variable
 * IRONLB_MEMBERSHIP_KEY (never from the command line, which other users can read). Prints one JSON
 * line per event on stdout: {"event":"ready"|"live"|"left", "t": epoch ms, ...}. SIGTERM leaves
 * gracefully; SIGINT too.
 */
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { parseMemberAddress } from "./address.js";
import type { MembershipConfig } from "./config.js";
import { Keyring } from "./keyring.js";
import { Membership } from "./membership.js";
import { readKeyringFromDirectory } from "./secret.js";

const now = (): number => performance.timeOrigin + performance.now();
const emit = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ ...event, t: now() })}\n`);
};

export async function runStandalone(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      name: { type: "string" },
      advertise: { type: "string" },
      bind: { type: "string" },
      seed: { type: "string", multiple: true },
      "key-dir": { type: "string" },
      config: { type: "string" },
    },
    strict: true,
  });
  if (values.name === undefined || values.advertise === undefined) {
    throw new Error("--name and --advertise are required");
  }
  const keyDir = values["key-dir"];
  const keyring =
    keyDir !== undefined
      ? await readKeyringFromDirectory(keyDir)
      : env.IRONLB_MEMBERSHIP_KEY === undefined
        ? undefined
        : Keyring.fromSecrets(Buffer.from(env.IRONLB_MEMBERSHIP_KEY));
  if (keyring === undefined) throw new Error("no key: pass --key-dir or set IRONLB_MEMBERSHIP_KEY");
  const config = values.config === undefined ? {} : (JSON.parse(values.config) as Partial<MembershipConfig>);
  const membership = new Membership({
    name: values.name,
    advertise: parseMemberAddress(values.advertise),
    ...(values.bind === undefined ? {} : { bindAddress: values.bind }),
    seeds: (values.seed ?? []).map((seed) => parseMemberAddress(seed)),
    keyring,
    config,
  });
  membership.onChange((live) => {
    emit({ event: "live", live: [...live].sort() });
  });
  const stop = new AbortController();
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      stop.abort();
    });
  }
  await membership.start();
  emit({ event: "ready", port: membership.port, live: [...membership.alive()].sort() });
  await new Promise<void>((resolve) => {
    stop.signal.addEventListener("abort", () => {
      resolve();
    });
  });
  await membership.leave();
  emit({ event: "left" });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runStandalone(process.argv.slice(2), process.env).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
