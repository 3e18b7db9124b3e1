/** Shared pieces for the declarations in this folder. */
export * from "./fields.ts";
export { keyedList } from "./spec.ts";
