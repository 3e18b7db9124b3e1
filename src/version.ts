/** Postern's version, reported by /healthz and --version. */
export const VERSION = "0.1.0";
