import type { BFDProfileConfig } from "../configTypes.js";
import type { CheckedObject } from "../objects.js";
import { BFD_DEFAULTS, type BFDProfileSpec } from "../schema/bfdProfile.js";

/** BFD profiles with defaults applied. Ranges are enforced by the schema (as in the CRD). */
export function buildBFDProfiles(
  objects: readonly CheckedObject<BFDProfileSpec>[],
): Map<string, BFDProfileConfig> {
  const profiles = new Map<string, BFDProfileConfig>();
  for (const { name, spec } of objects) {
    profiles.set(name, {
      name,
      receiveInterval: spec.receiveInterval ?? BFD_DEFAULTS.receiveInterval,
      transmitInterval: spec.transmitInterval ?? BFD_DEFAULTS.transmitInterval,
      detectMultiplier: spec.detectMultiplier ?? BFD_DEFAULTS.detectMultiplier,
      echoInterval: spec.echoInterval ?? BFD_DEFAULTS.echoInterval,
      echoMode: spec.echoMode ?? BFD_DEFAULTS.echoMode,
      passiveMode: spec.passiveMode ?? BFD_DEFAULTS.passiveMode,
      minimumTtl: spec.minimumTtl ?? BFD_DEFAULTS.minimumTtl,
    });
  }
  return profiles;
}
