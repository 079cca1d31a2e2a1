/** The BGP-4 codec: pure, Buffer-based, never throws on input. */
export * from "./constants.js";
export * from "./errors.js";
export * from "./header.js";
export * from "./prefix.js";
export * from "./capabilities.js";
export * from "./open.js";
export * from "./attributes.js";
export * from "./update.js";
export * from "./notification.js";
export * from "./routeRefresh.js";
export * from "./message.js";
export * from "./framer.js";
