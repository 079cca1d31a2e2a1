/* global process, console */
// Builds the native addon (build/Release/ironlb_native.node) as the package's install step.
// node-gyp would download Node's headers, which this project's machines cannot reach: when the
// running Node has its headers installed next to it (Debian's nodejs does: /usr/include/node),
// point node-gyp there unless npm was already configured with a nodedir.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

const prefix = path.resolve(path.dirname(process.execPath), "..");
const args = ["rebuild"];
if (!process.env.npm_config_nodedir && existsSync(path.join(prefix, "include", "node", "node_api.h"))) {
  args.push(`--nodedir=${prefix}`);
}
// npm tells lifecycle scripts where its bundled node-gyp is; run by hand, look for the copy
// bundled with the npm installed beside this Node, then fall back to PATH.
const bundled = path.join(
  prefix,
  "lib",
  "node_modules",
  "npm",
  "node_modules",
  "node-gyp",
  "bin",
  "node-gyp.js",
);
const nodeGyp = process.env.npm_config_node_gyp ?? (existsSync(bundled) ? bundled : undefined);
const result = nodeGyp
  ? spawnSync(process.execPath, [nodeGyp, ...args], { stdio: "inherit" })
  : spawnSync("node-gyp", args, { stdio: "inherit" });
if (result.error) {
  console.error(`ironlb: cannot run node-gyp (${result.error.message}); it needs g++, make and python3`);
  process.exit(1);
}
process.exit(result.status ?? 1);
