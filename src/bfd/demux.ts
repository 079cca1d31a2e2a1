/**
 * Which session a received packet belongs to (RFC 5880 §6.3, §6.8.6; RFC 5881 §3, RFC 5883 §3),
 * pure: by Your Discriminator when the peer knows ours (from the session's own addresses only), otherwise by the pair (peer address, our
 * address) — and then only while the packet's state is Down or AdminDown. Also hands out
 * discriminators: non-zero, unique among live sessions.
 */
import { BfdState, type ControlPacket, type DropReason } from "./packet.js";

export type DemuxResult<S> =
  { readonly ok: true; readonly session: S } | { readonly ok: false; readonly reason: DropReason };

/** The key of a session: peer and local address (canonical text), and single or multi hop. */
export function sessionKey(peer: string, local: string, multiHop: boolean): string {
  return `${multiHop ? "mh" : "sh"}|${peer}|${local}`;
}

export class SessionTable<S> {
  private readonly byDiscriminator = new Map<number, { readonly key: string; readonly session: S }>();
  private readonly byKey = new Map<string, S>();
  private nextDiscriminator: number;

  /** `seed` picks the first discriminator (random in production, so a restart uses new ones). */
  constructor(seed = 1) {
    this.nextDiscriminator = (seed >>> 0) % 0xffffffff || 1;
  }

  /** A discriminator no live session uses. */
  allocateDiscriminator(): number {
    for (;;) {
      const d = this.nextDiscriminator;
      this.nextDiscriminator = d >= 0xffffffff ? 1 : d + 1;
      if (!this.byDiscriminator.has(d)) return d;
    }
  }

  add(key: string, discriminator: number, session: S): void {
    this.byKey.set(key, session);
    this.byDiscriminator.set(discriminator, { key, session });
  }

  remove(key: string, discriminator: number): void {
    const found = this.byDiscriminator.get(discriminator);
    // Another session may have taken the key since (see BfdManager on local addresses).
    if (found !== undefined && this.byKey.get(key) === found.session) this.byKey.delete(key);
    this.byDiscriminator.delete(discriminator);
  }

  get(key: string): S | undefined {
    return this.byKey.get(key);
  }

  get size(): number {
    return this.byKey.size;
  }

  /** The session `packet` (from `key`'s addresses) belongs to, or why it is dropped. */
  lookup(packet: ControlPacket, key: string): DemuxResult<S> {
    if (packet.yourDiscriminator !== 0) {
      const found = this.byDiscriminator.get(packet.yourDiscriminator);
      if (found === undefined) return { ok: false, reason: "unknownDiscriminator" };
      // A known discriminator from other addresses is not our peer (RFC 5883 §3 allows the check).
      if (found.key !== key) return { ok: false, reason: "addressMismatch" };
      return { ok: true, session: found.session };
    }
    if (packet.state !== BfdState.Down && packet.state !== BfdState.AdminDown)
      return { ok: false, reason: "zeroYourDiscriminatorInState" };
    const s = this.byKey.get(key);
    return s === undefined ? { ok: false, reason: "noSession" } : { ok: true, session: s };
  }
}
