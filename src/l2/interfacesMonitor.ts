/**
 * Following the node's links: a poll of sysfs every second (reads of a few small files per
 * link, no child process to supervise, correct in any network namespace), plus rescan() for
 * an immediate look when a socket reports trouble (ENETDOWN, ENXIO). Reports a new snapshot
 * only when something changed. Reads never overlap; a failed read is reported and retried on
 * the next tick with the last good snapshot kept.
 */
import { systemClock, type Clock, type TimerHandle } from "../runtime/clock.js";
import { sameLinks, type LinkInfo } from "./interfaces.js";
import { readSysfsLinks } from "./interfacesSysfs.js";

export const DEFAULT_LINK_POLL_MS = 1000;

export interface LinkMonitorOptions {
  /** Called with the new snapshot after each change (never for an unchanged one). Must not throw. */
  readonly onChange: (links: readonly LinkInfo[]) => void;
  /** A read failed (the last snapshot stays current). */
  readonly onError?: (error: unknown) => void;
  /** Default: readSysfsLinks(). */
  readonly readLinks?: () => Promise<LinkInfo[]>;
  readonly intervalMs?: number;
  readonly clock?: Clock;
}

export class LinkMonitor {
  private links: readonly LinkInfo[] = [];
  private timer: TimerHandle | undefined;
  private reading = false;
  private rescanRequested = false;
  private stopped = false;
  private readonly readLinks: () => Promise<LinkInfo[]>;
  private readonly clock: Clock;
  private readonly intervalMs: number;

  constructor(private readonly options: LinkMonitorOptions) {
    this.readLinks = options.readLinks ?? (() => readSysfsLinks());
    this.clock = options.clock ?? systemClock;
    this.intervalMs = options.intervalMs ?? DEFAULT_LINK_POLL_MS;
  }

  /** Reads the links once (throwing if that fails), then polls. Resolves with the first snapshot. */
  async start(): Promise<readonly LinkInfo[]> {
    this.links = await this.readLinks();
    if (!this.stopped) this.schedule();
    return this.links;
  }

  /** The latest snapshot. */
  current(): readonly LinkInfo[] {
    return this.links;
  }

  /** Look again now (coalesced with a read in progress). */
  rescan(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.rescanRequested = true;
      return;
    }
    this.cancelTimer();
    void this.poll();
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer();
  }

  private schedule(): void {
    this.cancelTimer();
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.poll();
    }, this.intervalMs);
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    this.reading = true;
    try {
      const links = await this.readLinks();
      if (!this.stopped && !sameLinks(this.links, links)) {
        this.links = links;
        this.options.onChange(links);
      }
    } catch (error) {
      if (!this.stopped) this.options.onError?.(error);
    } finally {
      this.reading = false;
    }
    if (this.stopped) return;
    if (this.rescanRequested) {
      this.rescanRequested = false;
      void this.poll();
    } else {
      this.schedule();
    }
  }
}
