/**
 * ExaBGP as the lab's router: it installs nothing in the kernel, but reports every message it
 * receives as JSON (its API, `encoder json`), which a helper process appends to a file; the lab
 * rebuilds each neighbor's routes from those lines. Commands (announce routes, raw attributes for
 * malformed UPDATEs) go the other way: lines appended to a commands file that a `tail -F` API
 * process feeds to ExaBGP.
 */
import { appendFileSync, chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LabProcess, waitFor } from "./processes.js";
import {
  canonicalAddress,
  canonicalPrefix,
  sortedUnique,
  type RouterDaemon,
  type RouterPath,
  type RouterSettings,
} from "./routerDaemon.js";

export function exabgpConfig(s: RouterSettings, files: { receiver: string; commands: string }): string {
  const lines = [
    "process receiver {",
    `  run /bin/sh ${files.receiver};`,
    "  encoder json;",
    "}",
    "process sender {",
    `  run /usr/bin/tail -n +1 -F ${files.commands};`,
    "  encoder json;",
    "}",
  ];
  for (const n of s.neighbors) {
    const v6 = n.address.includes(":");
    lines.push(
      `neighbor ${n.address} {`,
      `  router-id ${s.routerId};`,
      `  local-address ${v6 ? s.localIPv6 : s.localIPv4};`,
      `  local-as ${String(s.asn)};`,
      `  peer-as ${String(n.asn)};`,
      `  hold-time ${String(s.holdTimeSeconds)};`,
      ...(n.password === undefined ? [] : [`  md5-password ${n.password};`]),
      `  family { ${v6 ? "ipv6" : "ipv4"} unicast; }`,
      "  capability { graceful-restart 120; route-refresh; }",
      "  api { processes [ receiver ]; receive { parsed; update; notification; open; refresh; } neighbor-changes; }",
      "  api { processes [ sender ]; }",
      "}",
    );
  }
  return `${lines.join("\n")}\n`;
}

export interface ExabgpNotification {
  readonly neighbor: string;
  readonly code: number;
  readonly subcode: number;
}

export interface ExabgpView {
  readonly established: ReadonlySet<string>;
  readonly paths: readonly RouterPath[];
  /** NOTIFICATIONs received from the nodes, in order. */
  readonly notifications: readonly ExabgpNotification[];
}

interface JsonLine {
  readonly type?: string;
  readonly neighbor?: {
    readonly address?: { readonly peer?: string };
    readonly state?: string;
    readonly direction?: string;
    readonly message?: {
      readonly update?: {
        readonly attribute?: {
          readonly "as-path"?: readonly number[];
          readonly "local-preference"?: number;
          readonly community?: readonly (readonly number[])[];
          readonly "large-community"?: readonly (readonly number[])[];
        };
        readonly announce?: Record<string, Record<string, readonly { readonly nlri?: string }[]>>;
        readonly withdraw?: Record<string, readonly { readonly nlri?: string }[]>;
      };
    };
    readonly notification?: { readonly code?: number; readonly subcode?: number };
  };
}

/** The routers' state rebuilt from ExaBGP's JSON lines (a session going down drops its routes). */
export function exabgpViewFrom(lines: readonly string[]): ExabgpView {
  const up = new Set<string>();
  const ribs = new Map<string, Map<string, RouterPath>>();
  const notifications: ExabgpNotification[] = [];
  for (const text of lines) {
    if (text.trim() === "") continue;
    let line: JsonLine;
    try {
      line = JSON.parse(text) as JsonLine;
    } catch {
      continue;
    }
    const peerText = line.neighbor?.address?.peer;
    if (peerText === undefined) continue;
    const peer = canonicalAddress(peerText);
    let rib = ribs.get(peer);
    if (rib === undefined) ribs.set(peer, (rib = new Map<string, RouterPath>()));
    if (line.type === "state") {
      if (line.neighbor?.state === "up") up.add(peer);
      else if (line.neighbor?.state === "down") {
        up.delete(peer);
        rib.clear();
      }
    } else if (line.type === "notification" && line.neighbor?.direction === "receive") {
      const n = line.neighbor.notification;
      notifications.push({ neighbor: peer, code: n?.code ?? 0, subcode: n?.subcode ?? 0 });
    } else if (line.type === "update" && line.neighbor?.direction === "receive") {
      const update = line.neighbor.message?.update;
      const a = update?.attribute;
      for (const byHop of Object.values(update?.announce ?? {})) {
        for (const [hop, entries] of Object.entries(byHop)) {
          for (const e of entries) {
            if (e.nlri === undefined) continue;
            const prefix = canonicalPrefix(e.nlri);
            rib.set(prefix, {
              prefix,
              from: peer,
              nextHop: canonicalAddress(hop),
              asPath: [...(a?.["as-path"] ?? [])],
              ...(a?.["local-preference"] === undefined ? {} : { localPref: a["local-preference"] }),
              communities: sortedUnique((a?.community ?? []).map((c) => c.join(":"))),
              largeCommunities: sortedUnique((a?.["large-community"] ?? []).map((c) => c.join(":"))),
            });
          }
        }
      }
      for (const entries of Object.values(update?.withdraw ?? {})) {
        for (const e of entries) if (e.nlri !== undefined) rib.delete(canonicalPrefix(e.nlri));
      }
    }
  }
  return { established: up, paths: [...ribs.values()].flatMap((r) => [...r.values()]), notifications };
}

export class ExabgpRouter implements RouterDaemon {
  readonly kind = "exabgp";
  readonly installsKernelRoutes = false;
  private process: LabProcess | undefined;
  private readonly received: string;
  private readonly commands: string;

  constructor(private readonly settings: RouterSettings) {
    this.received = join(settings.dir, "received.jsonl");
    this.commands = join(settings.dir, "commands");
  }

  async start(): Promise<void> {
    const dir = this.settings.dir;
    const receiver = join(dir, "receiver.sh");
    // The shell keeps ExaBGP's pipe open on its stdout (an exec'd cat would close it, and ExaBGP
    // would take the helper for dead).
    writeFileSync(receiver, `#!/bin/sh\ncat >> '${this.received}'\n`);
    chmodSync(receiver, 0o755);
    writeFileSync(this.commands, "");
    writeFileSync(this.received, "");
    const config = join(dir, "exabgp.conf");
    writeFileSync(config, exabgpConfig(this.settings, { receiver, commands: this.commands }));
    const listen = `${this.settings.localIPv4} ${this.settings.localIPv6}`;
    this.process = LabProcess.start(
      {
        name: "exabgp",
        netns: this.settings.netns,
        argv: ["exabgp", config],
        logFile: join(dir, "exabgp.log"),
        cwd: dir,
        env: {
          "exabgp.daemon.user": "root",
          "exabgp.daemon.drop": "false",
          "exabgp.api.cli": "false",
          "exabgp.api.ack": "false",
          "exabgp.tcp.bind": listen,
          "exabgp.log.destination": "stdout",
        },
      },
      "owned",
    );
    const proc = this.process;
    await waitFor(
      "ExaBGP listening",
      () =>
        proc.logTail(50).includes("listening") || proc.logTail(50).includes("loaded new configuration")
          ? true
          : undefined,
      {
        timeoutMs: 15_000,
        giveUp: () => (proc.running ? undefined : `exabgp exited: ${proc.logTail()}`),
      },
    );
  }

  async stop(): Promise<void> {
    await this.process?.stop();
  }

  /** Sends an API command (e.g. `neighbor 192.0.2.11 announce route …`). */
  send(command: string): void {
    appendFileSync(this.commands, `${command}\n`);
  }

  view(): ExabgpView {
    return exabgpViewFrom(readFileSync(this.received, "utf8").split("\n"));
  }

  established(): Promise<ReadonlySet<string>> {
    return Promise.resolve(this.view().established);
  }

  paths(): Promise<RouterPath[]> {
    return Promise.resolve([...this.view().paths]);
  }

  logTail(): string {
    return this.process?.logTail() ?? "";
  }
}
