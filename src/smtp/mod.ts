/** SMTP surfaces: the MX listener and the submission listeners (587, 465) on smtp-server; no SQL. */
export { startMxServer } from "./mx_server.ts";
export type { MxOptions, MxServer } from "./mx_server.ts";
export { startSubmissionServer } from "./submission_server.ts";
export type { SubmissionOptions, SubmissionServer } from "./submission_server.ts";
export { SUBMISSION_SCOPE } from "./submission_auth.ts";
export { type ListenerCounters, type SmtpListenerName, SmtpMetrics } from "./metrics.ts";
export { ReloadingTlsFiles } from "./tls_files.ts";
export type { TlsFiles, TlsSource } from "./tls_files.ts";
export { REFUSALS } from "./replies.ts";
export type { RefusalReason, SmtpReply } from "./replies.ts";
export { dataProblem } from "./data_guard.ts";
export { receivedHeader } from "./received.ts";
