/** The one check of a whole-number flag or variable, shared by every part of the configuration. */
import { ConfigError } from "./errors.ts";

/** `text` as a whole number from `min` to `max`, else a ConfigError naming `what` and the range. */
export function wholeNumber(text: string, what: string, min: number, max: number): number {
  const value = /^\d{1,10}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!(value >= min && value <= max)) {
    throw new ConfigError(`Invalid ${what} "${text}": a whole number from ${min} to ${max}`);
  }
  return value;
}
