/** SMTP surfaces: the MX listener (submission comes later) on smtp-server; no SQL. */
export { startMxServer } from "./mx_server.ts";
export type { MxOptions, MxServer } from "./mx_server.ts";
export { SmtpMetrics } from "./metrics.ts";
export { ReloadingTlsFiles } from "./tls_files.ts";
export type { TlsFiles, TlsSource } from "./tls_files.ts";
export { REFUSALS } from "./replies.ts";
export type { RefusalReason, SmtpReply } from "./replies.ts";
export { dataProblem } from "./data_guard.ts";
export { receivedHeader } from "./received.ts";
