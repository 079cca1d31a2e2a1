// Shared by the lab end-to-end test files: the prerequisite gate, one lab per file (started in
// beforeAll, stopped in afterAll, also removed if the process dies), and bounded polling of the
// client's own neighbour table.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe } from "vitest";
import { Lab, type LabOptions } from "../../src/lab/lab.js";
import type { NeighbourEntry } from "../../src/lab/netns.js";
import { nativeAvailable } from "../../src/native/index.js";
import { PrereqMissingError, requirePrereqs, strictPrereqs } from "../support/e2e.js";

/** Root, iproute2, curl, the control plane binaries and the native addon; skip or fail (strict) otherwise. */
export function labPrereqs(): { skip: boolean; reason: string } {
  const verdict = requirePrereqs({ root: true, binaries: ["ip", "curl"], controlPlaneBinaries: true });
  if (verdict.missing.length > 0) return { skip: verdict.skip, reason: verdict.reason };
  if (!nativeAvailable()) {
    const reason = "missing the native addon build/Release/ironlb_native.node (npm ci builds it)";
    if (strictPrereqs())
      throw new PrereqMissingError(`IRONLB_E2E=require and the tests' prerequisites are ${reason}`);
    return { skip: true, reason };
  }
  return { skip: false, reason: "" };
}

/** `describe` gated by labPrereqs() (for files that start their labs some other way). */
export function describeWithLabPrereqs(name: string, body: () => void): void {
  const prereqs = labPrereqs();
  describe.skipIf(prereqs.skip)(prereqs.skip ? `${name} (skipped: ${prereqs.reason})` : name, body);
}

/**
 * A describe block with its own lab (namespaces ilb-<tag><pid>-…). `lab()` inside tests returns it.
 */
export function describeLab(
  name: string,
  tag: string,
  options: LabOptions,
  body: (lab: () => Lab) => void,
): void {
  const prereqs = labPrereqs();
  describe.skipIf(prereqs.skip)(prereqs.skip ? `${name} (skipped: ${prereqs.reason})` : name, () => {
    let current: Lab | undefined;
    beforeAll(async () => {
      current = await Lab.start({
        prefix: `ilb-${tag}${process.pid}-`,
        stateDir: mkdtempSync(join(tmpdir(), `ironlb-lab-${tag}-`)),
        ...options,
      });
    });
    afterAll(async () => {
      const left = await current?.stop();
      if (left !== undefined && left.length > 0)
        throw new Error(`namespaces left behind: ${left.join(", ")}`);
    });
    body(() => {
      if (current === undefined) throw new Error("the lab starts in beforeAll");
      return current;
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls the client's neighbour entry for `address` until `accept` holds (bounded); returns the last one. */
export async function waitForNeighbour(
  lab: Lab,
  address: string,
  accept: (entry: NeighbourEntry | undefined) => boolean,
  timeoutMs: number,
): Promise<NeighbourEntry | undefined> {
  const deadline = Date.now() + timeoutMs;
  let entry = (await lab.clientNeighbours(address))[0];
  while (!accept(entry) && Date.now() < deadline) {
    await sleep(25);
    entry = (await lab.clientNeighbours(address))[0];
  }
  return entry;
}

export { sleep };
