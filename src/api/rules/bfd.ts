import type { BFDProfileConfig } from "../configTypes.js";
import type { Findings } from "../configError.js";
import { BFDPROFILE } from "../kinds.js";
import type { CheckedObject } from "../objects.js";
import { BFD_DEFAULTS, type BFDProfileSpec } from "../schema/bfdProfile.js";

/**
 * BFD profiles with defaults applied. Ranges are enforced by the schema (as in the CRD). Echo mode
 * is accepted for MetalLB compatibility but IronLB's BFD does not implement it: a warning says so,
 * and the sessions run in asynchronous mode only.
 */
export function buildBFDProfiles(
  objects: readonly CheckedObject<BFDProfileSpec>[],
  findings?: Findings,
): Map<string, BFDProfileConfig> {
  const profiles = new Map<string, BFDProfileConfig>();
  for (const { name, spec } of objects) {
    if (spec.echoMode === true) {
      findings?.warn(
        "InvalidValue",
        BFDPROFILE.kind,
        name,
        "spec.echoMode",
        true,
        "BFD echo mode is not implemented by IronLB: sessions run in asynchronous mode only and echoInterval is ignored",
      );
    }
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
