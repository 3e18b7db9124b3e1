/** DNS: the one configurable resolver every look-up goes through (see resolver.ts). */
export { DEFAULT_DNS_TIMEOUT_MS, DEFAULT_DNS_TRIES, DnsResolver, isNoRecord } from "./resolver.ts";
export type { DnsResolverOptions, RecordType } from "./resolver.ts";
export { checkDnsRecords } from "./check.ts";
export type { CheckStatus, RecordCheck } from "./check.ts";
export { checkReport } from "./check_report.ts";
