import { Type, type Static } from "@sinclair/typebox";

/** MetalLB's (and FRR's) defaults. */
export const BFD_DEFAULTS = {
  receiveInterval: 300,
  transmitInterval: 300,
  detectMultiplier: 3,
  echoInterval: 50,
  echoMode: false,
  passiveMode: false,
  minimumTtl: 254,
} as const;

function milliseconds(defaultValue: number, description: string) {
  return Type.Integer({ minimum: 10, maximum: 60000, default: defaultValue, description });
}

export const BFDProfileSpecSchema = Type.Object(
  {
    receiveInterval: Type.Optional(
      milliseconds(
        BFD_DEFAULTS.receiveInterval,
        "Fastest rate, in ms, at which we can receive control packets.",
      ),
    ),
    transmitInterval: Type.Optional(
      milliseconds(
        BFD_DEFAULTS.transmitInterval,
        "Interval, in ms, at which we want to send control packets.",
      ),
    ),
    detectMultiplier: Type.Optional(
      Type.Integer({
        minimum: 2,
        maximum: 255,
        default: BFD_DEFAULTS.detectMultiplier,
        description: "Missed packets before the session is declared down.",
      }),
    ),
    echoInterval: Type.Optional(
      milliseconds(BFD_DEFAULTS.echoInterval, "Minimum interval, in ms, between echo packets we can handle."),
    ),
    echoMode: Type.Optional(
      Type.Boolean({
        default: BFD_DEFAULTS.echoMode,
        description: "Send echo packets (single-hop sessions only).",
      }),
    ),
    passiveMode: Type.Optional(
      Type.Boolean({
        default: BFD_DEFAULTS.passiveMode,
        description: "Wait for the peer's control packets instead of starting the session.",
      }),
    ),
    minimumTtl: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 254,
        default: BFD_DEFAULTS.minimumTtl,
        description: "Multi-hop sessions only: lowest TTL accepted on incoming control packets.",
      }),
    ),
  },
  { additionalProperties: false, description: "Settings of the BFD sessions of the BGPPeers that name it." },
);
export type BFDProfileSpec = Static<typeof BFDProfileSpecSchema>;
