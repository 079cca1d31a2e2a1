/**
 * BGP passwords from kubernetes.io/basic-auth Secrets, read with a GET each (no watch: the speaker
 * needs only `get` on Secrets, and only in its own namespace). A lookup answers at once from the
 * cache; a Secret not read yet is fetched in the background and `onChange` fires when its answer
 * arrives or later changes (every cached Secret is read again every `refreshMs`, so a rotated
 * password reaches the sessions).
 */
import { systemClock, type Clock, type TimerHandle } from "../runtime/clock.js";
import type { Logger } from "../runtime/logger.js";
import { passwordFromSecret, type SecretLike, type SecretPassword } from "./bgpPeers.js";

export interface SecretPasswordCacheOptions {
  /** The only namespace Secrets are read from (the speaker's). */
  readonly namespace: string;
  /** GET the Secret; undefined when it does not exist. */
  readonly fetch: (name: string, signal: AbortSignal) => Promise<SecretLike | undefined>;
  /** A lookup's answer changed: decide again. */
  readonly onChange: () => void;
  readonly clock?: Clock;
  /** Default 60 s. */
  readonly refreshMs?: number;
  readonly logger?: Logger;
}

interface Entry {
  result: SecretPassword;
  /** Text that changes when the answer does (the password included, never logged). */
  key: string;
  loading: boolean;
}

const keyOf = (r: SecretPassword): string => (r.ok ? `ok:${r.password.reveal()}` : `no:${r.reason}`);

export class SecretPasswordCache {
  private readonly entries = new Map<string, Entry>();
  private readonly abort = new AbortController();
  private timer: TimerHandle | undefined;
  private readonly clock: Clock;

  constructor(private readonly options: SecretPasswordCacheOptions) {
    this.clock = options.clock ?? systemClock;
    this.scheduleRefresh();
  }

  /** The password of Secret `namespace/name` as far as known now. */
  lookup(namespace: string, name: string): SecretPassword {
    if (namespace !== this.options.namespace) {
      return {
        ok: false,
        reason: `the speaker reads Secrets in its namespace ${this.options.namespace} only`,
      };
    }
    const entry = this.entries.get(name);
    if (entry !== undefined) return entry.result;
    const pending: Entry = { result: { ok: false, reason: "not read yet" }, key: "", loading: false };
    this.entries.set(name, pending);
    void this.load(name, pending);
    return pending.result;
  }

  private stopped(): boolean {
    return this.abort.signal.aborted;
  }

  stop(): void {
    this.abort.abort();
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async load(name: string, entry: Entry): Promise<void> {
    if (entry.loading || this.abort.signal.aborted) return;
    entry.loading = true;
    let result: SecretPassword;
    try {
      result = passwordFromSecret(await this.options.fetch(name, this.abort.signal));
    } catch (error) {
      if (this.stopped()) return;
      this.options.logger?.warn({ err: error, secret: name }, "cannot read the BGP password Secret");
      // Keep a password already known; otherwise say why there is none.
      result = entry.result.ok ? entry.result : { ok: false, reason: `cannot read it: ${String(error)}` };
    } finally {
      entry.loading = false;
    }
    const key = keyOf(result);
    if (key === entry.key) return;
    entry.result = result;
    entry.key = key;
    this.options.onChange();
  }

  private scheduleRefresh(): void {
    this.timer = this.clock.setTimeout(() => {
      for (const [name, entry] of this.entries) void this.load(name, entry);
      this.scheduleRefresh();
    }, this.options.refreshMs ?? 60_000);
  }
}
