import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger } from "pino";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class LogLevelError extends Error {
  override readonly name = "LogLevelError";
  readonly code = "ERR_LOG_LEVEL";
}

export function parseLogLevel(text: string): LogLevel {
  const level = text.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new LogLevelError(`unknown log level "${text}" (expected one of ${LOG_LEVELS.join(", ")})`);
}

/**
 * Field names whose values are never logged, at any of the first REDACT_DEPTH levels of a log
 * object (including inside arrays). This is why non-secret fields must not be called `key` or
 * `token`: name a work-queue key `queueKey` or `object`, for example.
 */
export const SECRET_FIELD_NAMES: readonly string[] = [
  "password",
  "passwd",
  "secret",
  "secretKey",
  "key",
  "keys",
  "privateKey",
  "authKey",
  "token",
  "bearerToken",
  "authorization",
  "Authorization",
  "keyData",
  "client-key-data",
];

const REDACT_DEPTH = 4;
export const REDACTED = "[redacted]";

/** pino redaction paths for `fields` at the top level and under up to depth-1 parents. */
export function redactionPaths(fields: readonly string[], depth = REDACT_DEPTH): string[] {
  const paths: string[] = [];
  for (const field of fields) {
    const leaf = /^[A-Za-z_$][\w$]*$/.test(field) ? field : `["${field}"]`;
    for (let level = 0; level < depth; level++) {
      const prefix = "*.".repeat(level);
      paths.push(leaf.startsWith("[") ? `${prefix.slice(0, -1)}${leaf}` : `${prefix}${leaf}`);
    }
  }
  return paths;
}

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Component name, logged as `name` on every line (e.g. "controller", "speaker"). */
  readonly name?: string;
  /** Where JSON lines go; default stdout. */
  readonly destination?: DestinationStream;
  /** Further field names to redact besides SECRET_FIELD_NAMES. */
  readonly redactFields?: readonly string[];
}

/**
 * A pino logger writing JSON lines, with ISO timestamps and secrets redacted. Children made
 * with `logger.child({...})` inherit the redaction.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const fields = [...SECRET_FIELD_NAMES, ...(options.redactFields ?? [])];
  const config = {
    level: options.level ?? "info",
    redact: { paths: redactionPaths(fields), censor: REDACTED },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    ...(options.name === undefined ? {} : { name: options.name }),
  };
  return options.destination === undefined ? pino(config) : pino(config, options.destination);
}
