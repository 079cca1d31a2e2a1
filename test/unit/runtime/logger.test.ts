import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  LogLevelError,
  REDACTED,
  createLogger,
  parseLogLevel,
  type LoggerOptions,
} from "../../../src/runtime/logger.js";

function capture(options: Omit<LoggerOptions, "destination"> = {}): {
  logger: ReturnType<typeof createLogger>;
  lines: () => Record<string, unknown>[];
} {
  let text = "";
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  const logger = createLogger({ ...options, destination });
  return {
    logger,
    lines: () =>
      text
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe("createLogger", () => {
  it("writes JSON lines with level label, ISO time, name and message", () => {
    const { logger, lines } = capture({ name: "controller" });
    logger.info({ queueKey: "default/web" }, "reconciled");
    const [line] = lines();
    expect(line).toMatchObject({
      level: "info",
      name: "controller",
      queueKey: "default/web",
      msg: "reconciled",
    });
    expect(typeof line?.time).toBe("string");
    expect(Number.isNaN(Date.parse(String(line?.time)))).toBe(false);
  });

  const secrets: { description: string; fields: Record<string, unknown> }[] = [
    { description: "a top-level password", fields: { password: "s3cret-1" } },
    {
      description: "a nested BGP peer password",
      fields: { peer: { address: "192.0.2.1", password: "s3cret-2" } },
    },
    { description: "passwords inside an array", fields: { peers: [{ password: "s3cret-3" }] } },
    { description: "a membership key three levels deep", fields: { a: { b: { key: "s3cret-4" } } } },
    { description: "a bearer token", fields: { request: { token: "s3cret-5" } } },
    { description: "kubeconfig client key data", fields: { user: { "client-key-data": "s3cret-6" } } },
    { description: "an authorization header", fields: { headers: { authorization: "Bearer s3cret-7" } } },
  ];
  for (const { description, fields } of secrets) {
    it(`redacts ${description}`, () => {
      const { logger, lines } = capture();
      logger.warn(fields, "with secret");
      const text = JSON.stringify(lines());
      expect(text).not.toMatch(/s3cret/);
      expect(text).toContain(REDACTED);
    });
  }

  it("child loggers keep the redaction and extra fields can be added", () => {
    const { logger, lines } = capture({ redactFields: ["communityPassphrase"] });
    logger.child({ token: "s3cret-8" }).info({ communityPassphrase: "s3cret-9", peer: "192.0.2.2" }, "x");
    const text = JSON.stringify(lines());
    expect(text).not.toMatch(/s3cret/);
    expect(text).toContain("192.0.2.2");
  });

  it("drops lines below the configured level", () => {
    const { logger, lines } = capture({ level: "warn" });
    logger.info("hidden");
    logger.error("shown");
    expect(lines().map((l) => l.msg)).toEqual(["shown"]);
  });
});

describe("parseLogLevel", () => {
  it.each(["trace", "debug", "info", "warn", "error", "fatal", "silent", " INFO "])("accepts %j", (text) => {
    expect(parseLogLevel(text)).toBe(text.trim().toLowerCase());
  });
  it.each(["verbose", "", "warning"])("rejects %j", (text) => {
    expect(() => parseLogLevel(text)).toThrow(LogLevelError);
  });
});
