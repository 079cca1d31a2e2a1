/**
 * One verdict per Service address from the Layer 2 and BGP decisions: an address is announced
 * when either mode announces it; otherwise the reason comes from the mode that covers its pool
 * (a mode with no advertisement for the pool is not the culprit when the other has one).
 */
import type { BGPDecision } from "../announce/bgp.js";
import type { Layer2Decision } from "../announce/layer2.js";
import { describeIPNotAnnounced, type IPNotAnnouncedReason } from "../announce/reasons.js";

export type AddressVerdict =
  | {
      readonly ip: string;
      readonly announced: true;
      readonly l2Node?: string;
      readonly bgpNodes: readonly string[];
    }
  | {
      readonly ip: string;
      readonly announced: false;
      readonly mode: "layer2" | "bgp" | "none";
      readonly reason: IPNotAnnouncedReason;
      readonly message: string;
    };

function noAdvertisementAnywhere(ip: string, pool: string): AddressVerdict {
  return {
    ip,
    announced: false,
    mode: "none",
    reason: { code: "noAdvertisement", pool },
    message: `no L2Advertisement or BGPAdvertisement covers IPAddressPool "${pool}" of ${ip}`,
  };
}

/** Verdicts for a Service's addresses; undefined when neither decision considered it. */
export function addressVerdicts(
  key: string,
  layer2: Layer2Decision,
  bgp: BGPDecision,
): AddressVerdict[] | undefined {
  const l2 = layer2.services.get(key);
  const bg = bgp.services.get(key);
  if (l2?.considered !== true || bg?.considered !== true) return undefined;
  return l2.addresses.map((a, i): AddressVerdict => {
    const b = bg.addresses.find((x) => x.ip === a.ip) ?? bg.addresses[i];
    const bgpNodes = b?.kind === "announced" ? b.nodes : [];
    if (a.kind === "announced") return { ip: a.ip, announced: true, l2Node: a.node, bgpNodes };
    if (bgpNodes.length > 0) return { ip: a.ip, announced: true, bgpNodes };
    const l2Reason = a.reason;
    const bgpReason = b?.kind === "notAnnounced" ? b.reason : undefined;
    if (
      l2Reason.code === "noAdvertisement" &&
      (bgpReason === undefined || bgpReason.code === "noAdvertisement")
    ) {
      return noAdvertisementAnywhere(a.ip, l2Reason.pool);
    }
    if (l2Reason.code === "noAdvertisement" && bgpReason !== undefined) {
      return {
        ip: a.ip,
        announced: false,
        mode: "bgp",
        reason: bgpReason,
        message: describeIPNotAnnounced(a.ip, bgpReason, "bgp"),
      };
    }
    return {
      ip: a.ip,
      announced: false,
      mode: "layer2",
      reason: l2Reason,
      message: describeIPNotAnnounced(a.ip, l2Reason, "layer2"),
    };
  });
}
