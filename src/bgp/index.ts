/** IronLB's BGP speaker: codec, pure state machine and route logic, session driver, TCP edge. */
export * from "./codec/index.js";
export * from "./adjRibOut.js";
export * from "./updateBuilder.js";
export type { BackoffPolicy, RandomSource } from "../runtime/backoff.js";
export * from "./collision.js";
export * from "./negotiation.js";
export * from "./fsm.js";
export * from "./transport.js";
export * from "./session.js";
export * from "./tcpTransport.js";
