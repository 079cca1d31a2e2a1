/**
 * The lab's state file: what one `lab up` created (namespaces, processes with their identity,
 * kubeconfigs), so `lab status` and `lab down` in later invocations act on exactly that. Written
 * atomically (temporary file + rename) after every change, so even a `lab up` that dies half way
 * leaves a file `lab down` can clean up from.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ProcessRecord } from "./processes.js";

export const DEFAULT_STATE_DIR = "/run/ironlb-lab";
export const STATE_FILE_NAME = "state.json";

export type LabMode = "l2" | "bgp";
export type LabPhase = "starting" | "up";

export interface LabState {
  readonly version: 1;
  readonly mode: LabMode;
  /** The BGP lab's router daemon ("bird" when absent). */
  readonly router?: "bird" | "frr";
  readonly prefix: string;
  readonly nodes: number;
  readonly secondLink: boolean;
  readonly stateDir: string;
  readonly startedAt: string;
  readonly phase: LabPhase;
  /** Every namespace of the topology (created or about to be). */
  readonly namespaces: readonly string[];
  readonly processes: readonly ProcessRecord[];
  /** The API server as the host reaches it (loopback relay), once the control plane is up. */
  readonly hostServer?: string;
  /** Admin kubeconfig for the host (through the relay). */
  readonly adminKubeconfig?: string;
  /** Admin kubeconfig for processes inside the lab (the control-plane namespace's LAN address). */
  readonly labKubeconfig?: string;
}

export class LabStateError extends Error {
  override readonly name = "LabStateError";
  readonly code = "LAB_STATE";
}

export const stateFilePath = (stateDir: string): string => join(stateDir, STATE_FILE_NAME);

export function writeState(state: LabState): void {
  mkdirSync(state.stateDir, { recursive: true, mode: 0o700 });
  const path = stateFilePath(state.stateDir);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

/** The state in `stateDir`, or undefined when there is none. */
export function readState(stateDir: string): LabState | undefined {
  let text: string;
  try {
    text = readFileSync(stateFilePath(stateDir), "utf8");
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new LabStateError(`${stateFilePath(stateDir)} is not JSON: ${String(error)}`);
  }
  if (!isLabState(parsed)) {
    throw new LabStateError(`${stateFilePath(stateDir)} is not a lab state file (version 1)`);
  }
  return parsed;
}

function isLabState(value: unknown): value is LabState {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Partial<Record<keyof LabState, unknown>>;
  return (
    v.version === 1 &&
    (v.mode === "l2" || v.mode === "bgp") &&
    typeof v.prefix === "string" &&
    typeof v.nodes === "number" &&
    Array.isArray(v.namespaces) &&
    Array.isArray(v.processes) &&
    typeof v.stateDir === "string"
  );
}

export function removeStateFile(stateDir: string): void {
  rmSync(stateFilePath(stateDir), { force: true });
}
