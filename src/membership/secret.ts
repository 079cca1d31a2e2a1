/**
 * Where the membership keys live. One Secret in the IronLB namespace, `ironlb-memberlist`:
 *
 *   data.secretkey            the primary key: seals and opens (required)
 *   data.secretkey-secondary  a second key that only opens (optional; for rotation)
 *
 * Each value is at least 16 bytes of anything (raw random bytes, or random text such as
 * `openssl rand -base64 32`); keyring.ts derives the AES-256 key from it with HKDF. The
 * controller creates the Secret with 32 random bytes when it is missing (see
 * controller/ensureMembershipSecret.ts); speakers read it as files, the Secret mounted at
 * /etc/ironlb/membership (kubelet keeps a mounted Secret up to date, so a rotation reaches
 * running speakers within a minute or so, without any API permission on Secrets).
 *
 * Rotation without a gap: (1) set secretkey-secondary to the new key and wait until every
 * speaker has it (the log line "membership keys changed" shows key ids, never keys); (2) swap
 * them: the new key in secretkey, the old one in secretkey-secondary; (3) remove the secondary.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { systemClock, type Clock, type TimerHandle } from "../runtime/clock.js";
import type { Logger } from "../runtime/logger.js";
import { Keyring, MembershipKeyError } from "./keyring.js";

export const MEMBERSHIP_SECRET_NAME = "ironlb-memberlist";
export const PRIMARY_KEY_FIELD = "secretkey";
export const SECONDARY_KEY_FIELD = "secretkey-secondary";
/** Where the speaker DaemonSet mounts the Secret. */
export const DEFAULT_MEMBERSHIP_KEY_DIR = "/etc/ironlb/membership";
/** Bytes of a key the controller generates. */
export const GENERATED_KEY_BYTES = 32;

/** The data of a new Secret: base64 values, as the API's `data` field takes them. */
export function newMembershipSecretData(
  random: (bytes: number) => Buffer = randomBytes,
): Record<string, string> {
  return { [PRIMARY_KEY_FIELD]: random(GENERATED_KEY_BYTES).toString("base64") };
}

/** A keyring from a Secret's `data` (base64 values, as the API returns them). */
export function keyringFromSecretData(data: Readonly<Record<string, string>>): Keyring {
  const decode = (field: string): Buffer | undefined => {
    const value = data[field];
    return value === undefined || value === "" ? undefined : Buffer.from(value, "base64");
  };
  const primary = decode(PRIMARY_KEY_FIELD);
  if (primary === undefined) {
    throw new MembershipKeyError(`the membership Secret has no "${PRIMARY_KEY_FIELD}"`);
  }
  return Keyring.fromSecrets(primary, decode(SECONDARY_KEY_FIELD));
}

/**
 * A keyring from the mounted Secret's files; undefined when the primary key file does not exist
 * (no Secret mounted, or not created yet). A key that is too short throws MembershipKeyError.
 */
export async function readKeyringFromDirectory(dir: string): Promise<Keyring | undefined> {
  const primary = await readOptional(join(dir, PRIMARY_KEY_FIELD));
  if (primary === undefined || primary.length === 0) return undefined;
  const secondary = await readOptional(join(dir, SECONDARY_KEY_FIELD));
  return Keyring.fromSecrets(
    primary,
    secondary === undefined || secondary.length === 0 ? undefined : secondary,
  );
}

async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

export interface KeyringWatcherOptions {
  readonly dir: string;
  /** Called with each keyring that differs from the last one read. */
  readonly onChange: (keyring: Keyring) => void;
  /** How often to read the files again; default 10 s. */
  readonly intervalMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/**
 * Re-reads the mounted Secret periodically and reports key changes (rotation). A read that
 * fails, or finds no key, keeps the keys in use: losing the mount must not silence the speaker.
 */
export class KeyringWatcher {
  private timer: TimerHandle | undefined;
  private stopped = false;
  private readonly clock: Clock;

  constructor(
    private readonly options: KeyringWatcherOptions,
    private current: Keyring,
  ) {
    this.clock = options.clock ?? systemClock;
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Reads the files once now; resolves when done (also used by tests). */
  async check(): Promise<void> {
    try {
      const next = await readKeyringFromDirectory(this.options.dir);
      if (next === undefined) {
        this.options.logger?.warn(
          { dir: this.options.dir },
          "membership key files are gone; keeping the current keys",
        );
        return;
      }
      if (next.equals(this.current)) return;
      this.current = next;
      this.options.onChange(next);
    } catch (error) {
      this.options.logger?.warn(
        { dir: this.options.dir, reason: error instanceof Error ? error.message : String(error) },
        "cannot read the membership keys; keeping the current ones",
      );
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.check().then(() => {
        this.schedule();
      });
    }, this.options.intervalMs ?? 10_000);
  }
}
