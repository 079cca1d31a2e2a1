import { parseCommunity, type BGPCommunity } from "../community.js";
import type { Findings } from "../configError.js";
import type { CheckedObject } from "../objects.js";
import type { CommunitySpec } from "../schema/community.js";

const KIND = "Community";

export interface CommunityAliases {
  /** Valid aliases. */
  readonly values: Map<string, BGPCommunity>;
  /** Every alias name defined, valid or not (a reference to an invalid one is not "unknown"). */
  readonly names: Set<string>;
}

/** Collects community aliases across all Community objects; names must be unique across them. */
export function buildCommunityAliases(
  objects: readonly CheckedObject<CommunitySpec>[],
  findings: Findings,
): CommunityAliases {
  const values = new Map<string, BGPCommunity>();
  const names = new Set<string>();
  const definedBy = new Map<string, string>();
  for (const obj of objects) {
    (obj.spec.communities ?? []).forEach((alias, i) => {
      const at = `spec.communities[${i}]`;
      const previous = definedBy.get(alias.name);
      if (previous !== undefined) {
        const where = previous === obj.name ? "earlier in this object" : `in Community "${previous}"`;
        findings.error(
          "DuplicateName",
          KIND,
          obj.name,
          `${at}.name`,
          alias.name,
          `alias already defined ${where}`,
        );
        return;
      }
      definedBy.set(alias.name, obj.name);
      names.add(alias.name);
      if (alias.name.includes(":")) {
        findings.error(
          "InvalidCommunity",
          KIND,
          obj.name,
          `${at}.name`,
          alias.name,
          "an alias name cannot contain ':' (it would read as a community value)",
        );
        return;
      }
      const parsed = parseCommunity(alias.value);
      if (!parsed.ok) {
        const reason = parsed.literal
          ? parsed.reason
          : 'must be "N:N" (16-bit halves) or "large:N:N:N" (32-bit parts); an alias cannot name another alias';
        findings.error("InvalidCommunity", KIND, obj.name, `${at}.value`, alias.value, reason);
        return;
      }
      values.set(alias.name, parsed.community);
    });
  }
  return { values, names };
}

export type CommunityResolution =
  | { readonly ok: true; readonly community: BGPCommunity }
  | { readonly ok: false; readonly code: "InvalidCommunity" | "UnknownReference"; readonly reason: string }
  /** The alias exists but is itself invalid (already reported on the Community). */
  | { readonly ok: false; readonly code: "AlreadyReported"; readonly reason: string };

/** Resolves a community as written in a BGPAdvertisement: a literal or an alias name. */
export function resolveCommunity(text: string, aliases: CommunityAliases): CommunityResolution {
  const alias = aliases.values.get(text);
  if (alias) return { ok: true, community: alias };
  if (aliases.names.has(text)) return { ok: false, code: "AlreadyReported", reason: "the alias is invalid" };
  const parsed = parseCommunity(text);
  if (parsed.ok) return parsed;
  if (parsed.literal) return { ok: false, code: "InvalidCommunity", reason: parsed.reason };
  return {
    ok: false,
    code: "UnknownReference",
    reason: 'is neither a community ("N:N", "large:N:N:N") nor the name of a Community alias',
  };
}
