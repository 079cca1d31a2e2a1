// There is no container engine on the build machines: the Dockerfile is checked by reading it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chartAppVersion } from "../../../src/deploy/values.js";

const root = join(import.meta.dirname, "..", "..", "..");
const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");

interface Instruction {
  readonly op: string;
  readonly args: string;
}

/** Instructions with continuation lines joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const joined = text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n")
    .replace(/\\\n/g, " ");
  return joined
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((line) => {
      const [op = "", ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(" ") };
    });
}

const all = instructions(dockerfile);
const stages = (): Instruction[][] => {
  const out: Instruction[][] = [];
  for (const i of all) {
    if (i.op === "FROM") out.push([]);
    out.at(-1)?.push(i);
  }
  return out;
};

describe("Dockerfile", () => {
  it("pins the Node 20 bookworm-slim base by an exact version tag", () => {
    const arg = all.find((i) => i.op === "ARG" && i.args.startsWith("NODE_IMAGE="));
    expect(arg?.args).toMatch(/^NODE_IMAGE=node:20\.\d+\.\d+-bookworm-slim$/);
    for (const from of all.filter((i) => i.op === "FROM"))
      expect(from.args).toMatch(/^\$\{NODE_IMAGE\} AS \w+$/);
  });

  it("is multi-stage: build then runtime", () => {
    expect(stages().map((s) => s[0]?.args.split(" AS ")[1])).toEqual(["build", "runtime"]);
  });

  it("builds the native addon in the build stage (toolchain, npm ci with the addon sources, check)", () => {
    const build = stages()[0] ?? [];
    const runs = build.filter((i) => i.op === "RUN").map((i) => i.args);
    expect(runs.join(" ")).toMatch(/apt-get install .*python3.*make.*g\+\+/);
    const addonCopy = build.findIndex((i) => i.op === "COPY" && i.args.includes("src/native"));
    const npmCi = build.findIndex((i) => i.op === "RUN" && i.args.includes("npm ci"));
    expect(addonCopy).toBeGreaterThanOrEqual(0);
    expect(npmCi).toBeGreaterThan(addonCopy);
    expect(runs.join(" ")).toContain("test -f build/Release/ironlb_native.node");
    expect(runs.join(" ")).toContain("npm prune --omit=dev");
  });

  it("ships the addon, dist and production modules, and runs as a non-root user", () => {
    const runtime = stages()[1] ?? [];
    const copies = runtime.filter((i) => i.op === "COPY").map((i) => i.args);
    expect(copies).toContain(
      "--from=build /src/build/Release/ironlb_native.node ./build/Release/ironlb_native.node",
    );
    expect(copies.some((c) => c.includes("/src/dist"))).toBe(true);
    const user = runtime.filter((i) => i.op === "USER").at(-1);
    expect(user?.args).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
    expect(runtime.find((i) => i.op === "ENTRYPOINT")?.args).toBe('["node", "/app/dist/cli/main.js"]');
  });

  it("names the image the manifests use", () => {
    expect(dockerfile).toContain("ghcr.io/ironlb/ironlb:<version>");
    const manifest = readFileSync(join(root, "deploy", "ironlb.yaml"), "utf8");
    expect(manifest).toContain(`image: ghcr.io/ironlb/ironlb:${chartAppVersion()}`);
  });
});
