/** Shared values for the lab tests. */
import type { LabStatus } from "../../../src/lab/status.js";

/** The recorded state of a lab that is up, in the default state directory with the `ilb-` prefix. */
export function labState(fields: Partial<LabStatus["state"]> = {}): LabStatus["state"] {
  return {
    version: 1,
    mode: "l2",
    prefix: "ilb-",
    nodes: 3,
    secondLink: false,
    stateDir: "/run/ironlb-lab",
    startedAt: "2026-01-01T00:00:00.000Z",
    phase: "up",
    namespaces: [],
    processes: [],
    ...fields,
  };
}
