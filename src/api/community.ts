/**
 * BGP communities: standard (RFC 1997, two 16-bit halves, written "65000:100") and large
 * (RFC 8092, three 32-bit parts, written "large:65000:1:2").
 */
export type BGPCommunity =
  | { readonly kind: "standard"; readonly asn16: number; readonly value16: number }
  | { readonly kind: "large"; readonly global: number; readonly local1: number; readonly local2: number };

export type CommunityParse =
  | { readonly ok: true; readonly community: BGPCommunity }
  /** `literal`: the text has the shape of a literal, so it cannot be an alias name. */
  | { readonly ok: false; readonly literal: boolean; readonly reason: string };

const DECIMAL = /^(0|[1-9]\d*)$/;
const MAX16 = 0xffff;
const MAX32 = 0xffffffff;

function part(text: string, max: number): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const n = Number(text);
  return n <= max ? n : undefined;
}

export function parseCommunity(text: string): CommunityParse {
  const pieces = text.split(":");
  if (pieces[0]?.toLowerCase() === "large") {
    if (pieces.length !== 4) {
      return {
        ok: false,
        literal: true,
        reason: 'a large community is "large:" and three numbers, e.g. large:64500:1:2',
      };
    }
    const [g, l1, l2] = pieces.slice(1).map((p) => part(p, MAX32));
    if (g === undefined || l1 === undefined || l2 === undefined) {
      return {
        ok: false,
        literal: true,
        reason: "each part of a large community must be an integer from 0 to 4294967295",
      };
    }
    return { ok: true, community: { kind: "large", global: g, local1: l1, local2: l2 } };
  }
  if (pieces.length === 2 && pieces.every((p) => /^\d+$/.test(p))) {
    const asn16 = part(pieces[0] ?? "", MAX16);
    const value16 = part(pieces[1] ?? "", MAX16);
    if (asn16 === undefined || value16 === undefined) {
      return {
        ok: false,
        literal: true,
        reason: "each half of a standard community must be an integer from 0 to 65535",
      };
    }
    return { ok: true, community: { kind: "standard", asn16, value16 } };
  }
  if (pieces.length > 1) {
    return {
      ok: false,
      literal: true,
      reason: 'not a community: use "N:N" (16-bit halves), "large:N:N:N" (32-bit parts) or an alias name',
    };
  }
  return { ok: false, literal: false, reason: "not a community literal" };
}

export function formatCommunity(c: BGPCommunity): string {
  return c.kind === "standard" ? `${c.asn16}:${c.value16}` : `large:${c.global}:${c.local1}:${c.local2}`;
}

export function sameCommunity(a: BGPCommunity, b: BGPCommunity): boolean {
  return formatCommunity(a) === formatCommunity(b);
}
