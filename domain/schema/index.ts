export * from "./change.ts";
export * from "./common.ts";
export * from "./dpa.ts";
export * from "./subprocessor.ts";
export * from "./transfer.ts";
export * from "./vendor.ts";
