/** Why a configuration object was rejected (or, as a warning, what was ignored). */
export type ConfigErrorCode =
  | "SchemaViolation"
  | "UnknownField"
  | "InvalidObject"
  | "InvalidName"
  | "DuplicateName"
  | "InvalidAddress"
  | "OverlappingAddresses"
  | "InvalidAggregationLength"
  | "ConflictingLocalPref"
  | "InvalidCommunity"
  | "UnknownReference"
  | "InvalidTimer"
  | "ConflictingFields"
  | "InvalidSelector"
  | "InvalidValue"
  | "Inconsistent";

const MAX_VALUE_TEXT = 120;

function formatValue(value: unknown): string {
  let text: string;
  try {
    const json = typeof value === "bigint" ? value.toString() : (JSON.stringify(value) as string | undefined);
    text = json ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > MAX_VALUE_TEXT ? `${text.slice(0, MAX_VALUE_TEXT - 1)}…` : text;
}

/**
 * One problem in one object: the kind and name of the object, the field path inside it
 * (`spec.addresses[1]`), the offending value (undefined when the field is missing) and a message.
 * `toString()` reads as `IPAddressPool "lan": spec.addresses[1]: "192.0.2.9-192.0.2.1": the range
 * start is after its end`.
 */
export class ConfigError {
  constructor(
    readonly code: ConfigErrorCode,
    readonly kind: string,
    readonly name: string,
    readonly path: string,
    readonly value: unknown,
    readonly message: string,
  ) {}

  toString(): string {
    const value = this.value === undefined ? "" : ` ${formatValue(this.value)}:`;
    return `${this.kind} "${this.name}": ${this.path}:${value} ${this.message}`;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      kind: this.kind,
      name: this.name,
      path: this.path,
      value: this.value,
      message: this.message,
    };
  }
}

/** Thrown by `assertValidConfig`: carries every error, not just the first. */
export class ConfigValidationError extends Error {
  override readonly name = "ConfigValidationError";
  readonly code = "IRONLB_CONFIG_INVALID";
  constructor(readonly errors: readonly ConfigError[]) {
    super(
      `the IronLB configuration is invalid (${errors.length} error${errors.length === 1 ? "" : "s"}):\n` +
        errors.map((e) => `  ${e.toString()}`).join("\n"),
    );
  }
}

/** Collects errors and warnings for one validation run. */
export class Findings {
  readonly errors: ConfigError[] = [];
  readonly warnings: ConfigError[] = [];

  error(
    code: ConfigErrorCode,
    kind: string,
    name: string,
    path: string,
    value: unknown,
    message: string,
  ): void {
    this.errors.push(new ConfigError(code, kind, name, path, value, message));
  }

  warn(
    code: ConfigErrorCode,
    kind: string,
    name: string,
    path: string,
    value: unknown,
    message: string,
  ): void {
    this.warnings.push(new ConfigError(code, kind, name, path, value, message));
  }
}
