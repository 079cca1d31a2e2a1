/**
 * Reading the node's links from the kernel without netlink: /sys/class/net/NAME/{ifindex,type,
 * flags,operstate,address,master} and /proc/net/if_inet6 for link-local addresses. Both are
 * views of the reading process's network namespace (`ip netns exec` remounts /sys), so the
 * speaker sees the links of the node it runs on. Parsing is pure; the reader is a thin edge.
 */
import { readdir, readFile, readlink } from "node:fs/promises";
import { basename, join } from "node:path";
import type { IPAddr } from "../net/ip.js";
import { parseMac } from "./codec/mac.js";
import type { LinkInfo } from "./interfaces.js";

/** The raw text of one link's sysfs attributes (values as read, trailing newline included). */
export interface RawLinkAttributes {
  readonly name: string;
  readonly ifindex: string;
  readonly type: string;
  readonly flags: string;
  readonly operstate: string;
  readonly address: string;
  /** Target of the `master` symlink, when present. */
  readonly master?: string | undefined;
}

export class LinkParseError extends Error {
  override readonly name = "LinkParseError";
  readonly code = "ERR_LINK_PARSE";
}

function parseInteger(text: string, what: string, link: string): number {
  const trimmed = text.trim();
  const value = /^0x[0-9a-f]+$/i.test(trimmed)
    ? parseInt(trimmed.slice(2), 16)
    : /^\d+$/.test(trimmed)
      ? parseInt(trimmed, 10)
      : NaN;
  if (!Number.isSafeInteger(value)) throw new LinkParseError(`${link}: ${what} "${trimmed}" is not a number`);
  return value;
}

/** Turns one link's attributes into LinkInfo; throws LinkParseError on unreadable values. */
export function parseLinkAttributes(raw: RawLinkAttributes, linkLocal?: IPAddr): LinkInfo {
  const address = raw.address.trim();
  let mac: string;
  try {
    mac = parseMac(address);
  } catch {
    // Links without a 6-byte hardware address (tunnels, IPoIB): never Ethernet, keep them visible.
    mac = address;
  }
  const master = raw.master === undefined ? undefined : basename(raw.master.trim());
  return {
    name: raw.name,
    ifindex: parseInteger(raw.ifindex, "ifindex", raw.name),
    type: parseInteger(raw.type, "type", raw.name),
    flags: parseInteger(raw.flags, "flags", raw.name),
    operState: raw.operstate.trim().toLowerCase(),
    mac,
    master: master === "" ? undefined : master,
    linkLocal,
  };
}

/** IFA_F_* flags that make an address unusable as a source. */
const IFA_F_DADFAILED = 0x08;
const IFA_F_TENTATIVE = 0x40;
const SCOPE_LINK = 0x20;

/**
 * The usable IPv6 link-local address of each interface from /proc/net/if_inet6 (lines of
 * "address ifindex prefixlen scope flags name", hex). Tentative or DAD-failed addresses are
 * skipped; of several, the lowest is taken so the choice is stable.
 */
export function parseIfInet6(text: string): Map<string, IPAddr> {
  const out = new Map<string, IPAddr>();
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 6) continue;
    const [addressHex = "", , , scopeHex = "", flagsHex = "", name = ""] = fields;
    if (!/^[0-9a-f]{32}$/i.test(addressHex)) continue;
    const scope = parseInt(scopeHex, 16);
    const flags = parseInt(flagsHex, 16);
    if (scope !== SCOPE_LINK || (flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) !== 0) continue;
    const value = BigInt(`0x${addressHex}`);
    const existing = out.get(name);
    if (existing === undefined || value < existing.value) out.set(name, { family: "IPv6", value });
  }
  return out;
}

const SYS_CLASS_NET = "/sys/class/net";
const IF_INET6 = "/proc/net/if_inet6";

export interface SysfsPaths {
  readonly sysClassNet?: string;
  readonly ifInet6?: string;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

async function readMaster(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch {
    return undefined;
  }
}

/**
 * Reads every link of this network namespace. A link that vanishes while it is read (or whose
 * attributes cannot be parsed) is left out: the next read sees the namespace as it is then.
 */
export async function readSysfsLinks(paths: SysfsPaths = {}): Promise<LinkInfo[]> {
  const root = paths.sysClassNet ?? SYS_CLASS_NET;
  const [names, inet6] = await Promise.all([readdir(root), readOptional(paths.ifInet6 ?? IF_INET6)]);
  const linkLocals = parseIfInet6(inet6 ?? "");
  const links = await Promise.all(
    names.map(async (name): Promise<LinkInfo | undefined> => {
      const dir = join(root, name);
      const [ifindex, type, flags, operstate, address, master] = await Promise.all([
        readOptional(join(dir, "ifindex")),
        readOptional(join(dir, "type")),
        readOptional(join(dir, "flags")),
        readOptional(join(dir, "operstate")),
        readOptional(join(dir, "address")),
        readMaster(join(dir, "master")),
      ]);
      if (
        ifindex === undefined ||
        type === undefined ||
        flags === undefined ||
        operstate === undefined ||
        address === undefined
      ) {
        return undefined;
      }
      try {
        return parseLinkAttributes(
          { name, ifindex, type, flags, operstate, address, master },
          linkLocals.get(name),
        );
      } catch {
        return undefined;
      }
    }),
  );
  return links.filter((l): l is LinkInfo => l !== undefined).sort((a, b) => a.ifindex - b.ifindex);
}
