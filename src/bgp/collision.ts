/**
 * Connection collision resolution (RFC 4271 6.8, RFC 6286 2.3): when both speakers opened a TCP
 * connection, the one initiated by the speaker with the higher BGP Identifier survives; with
 * equal identifiers (allowed between ASes by RFC 6286) the higher AS number decides.
 */

/** Who opened a connection: "local" = we connected out, "remote" = we accepted it. */
export type ConnectionOrigin = "local" | "remote";

export interface SpeakerIdentity {
  readonly bgpId: number;
  readonly asn: number;
}

/** The origin of the connection to keep. */
export function collisionSurvivor(local: SpeakerIdentity, remote: SpeakerIdentity): ConnectionOrigin {
  const l = local.bgpId >>> 0;
  const r = remote.bgpId >>> 0;
  if (l !== r) return l > r ? "local" : "remote";
  return local.asn >= remote.asn ? "local" : "remote";
}

/** Whether the connection of `origin` must be closed with Cease / Connection Collision Resolution. */
export function shouldDumpConnection(
  local: SpeakerIdentity,
  remote: SpeakerIdentity,
  origin: ConnectionOrigin,
): boolean {
  return collisionSurvivor(local, remote) !== origin;
}
