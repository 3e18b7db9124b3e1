/** Mail: mailboxes and their sharing, blobs, emails and threads (MIME in ./mime/). */
export { MailboxService } from "./mailboxes.ts";
export { MAILBOX_LIMITS } from "./mailbox_rules.ts";
export { mailboxGrantHandler } from "./mailbox_grants.ts";
export { DkimKeyService, dkimRecordText } from "./dkim_keys.ts";
export type { KeySealer, SigningKey } from "./dkim_keys.ts";
export { dkimKeyHandler } from "./dkim_key_handler.ts";
export { DeliveryMetrics } from "./delivery_metrics.ts";
export { OutboundQueueView, queuedMessageToWire } from "./outbound_queue_view.ts";
export { DkimSigner, inlineRsaSign, SIGNED_FIELDS } from "./dkim_signing.ts";
export { RsaSignPool } from "./rsa_sign_pool.ts";
export { blobId, BlobService, parseBlobId, parseBlobRef, partBlobId, UPLOAD_TTL_MS } from "./blobs.ts";
export { EMAIL_LIMITS, EmailService, isKeyword, SNIPPET_LIMITS } from "./emails.ts";
export { REBUILD_BATCH, type RebuildStep, SearchRebuild } from "./search_rebuild.ts";
export { CATCH_UP_WAIT_MS, EMBEDDED_INDEX_WORKER_KEY, SearchIndexer } from "./search_indexer.ts";
export { INDEX_BATCH, INDEX_LEASE_MS, indexBatch, type IndexLease, type IndexStep } from "./search_index.ts";
export { ImapMailboxService, MAX_MESSAGES_BATCH } from "./imap_mailbox.ts";
export type {
  ImapChanges,
  ImapMessage,
  ImapMessageFacts,
  ImapSelection,
  ImapStatus,
  UidRanges,
} from "./imap_mailbox.ts";
export type { ImapCopyResult, ImapFlagChange } from "./imap_updates.ts";
export type { ImapSearchKey, ImapSearchResult } from "./imap_search.ts";
export type { ImapSortCriterion } from "./imap_sort.ts";
export type { ThreadNode } from "./imap_thread.ts";
export { toRanges } from "./imap_updates.ts";
export { ImapMailboxView, internFlags } from "./imap_view.ts";
export { DEFAULT_VIEW_BYTES, ImapViews, type ImapViewStats } from "./imap_views.ts";
export { IMAP_DELIMITER, OTHER_USERS_PREFIX, sameImapName, specialUseOf } from "./imap_names.ts";
export type { ImapListEntry, ImapMailboxRef } from "./imap_names.ts";
export {
  DELETED_KEYWORD,
  flagOfKeyword,
  flagsOfKeywords,
  keywordOfFlag,
  keywordsOfFlags,
  PERMANENT_FLAGS,
  SYSTEM_FLAG_NAMES,
} from "./imap_flags.ts";
export { factsOf, messageFacts, traceKeepsFacts } from "./message_facts.ts";
export type { MessageFacts } from "./message_facts.ts";
export { PARSE_LIMITS, parseBody, parseMessage } from "./parse_pool.ts";
export { FactsPool } from "./facts_pool.ts";
export { writeHeaderForm } from "./header_write.ts";
export type { WrittenHeader } from "./header_write.ts";
export { IdentityService } from "./identities.ts";
export { VacationService } from "./vacation.ts";
export { byRoute } from "./queue_routes.ts";
export { OutboundQueue } from "./queue.ts";
export { DEFAULT_LEASE_MS, QueueWorker } from "./queue_worker.ts";
export type { QueueWorkerDeps } from "./queue_worker.ts";
export { nextAttempt, routeFor, usesSmarthost } from "./queue_routes.ts";
export type { BounceComposer, BounceInput, BounceRecipient } from "./bounce.ts";
export { PUSH_LIMITS, PushSubscriptionService } from "./push_subscriptions.ts";
export type { PushSubscriptionChanges, PushSubscriptionInput } from "./push_subscriptions.ts";
export type { VacationInput, VacationReply } from "./vacation.ts";
export type { IdentityInput } from "./identities.ts";
export { LocalDelivery } from "./delivery.ts";
export { InboundDelivery, InboundRefusalError } from "./inbound.ts";
export { Forwarding } from "./forwarding.ts";
export { ArcSealer } from "./arc_sealing.ts";
export { Srs } from "./srs.ts";
export {
  AUTH_METHODS,
  DEFAULT_AUTH_DEADLINE_MS,
  DEFAULT_MAX_DKIM_SIGNATURES,
  MailAuthenticator,
} from "./authentication.ts";
export { AuthenticationPool } from "./authentication_pool.ts";
export type {
  AuthenticationInput,
  AuthenticationVerdict,
  AuthMethod,
  MailAuthenticatorOptions,
  ResolveFunction,
} from "./authentication.ts";
export type { AcceptedRecipient, InboundMessage, InboundRefusal, RecipientCheck } from "./inbound.ts";
export { isRecipientAddress, SUBMISSION_LIMITS, SubmissionService } from "./submissions.ts";
export type { SubmissionInput } from "./submissions.ts";
export { MessageSubmission } from "./message_submission.ts";
export type { SubmittedMessage } from "./message_submission.ts";
export type {
  DeliveryStatus,
  EnvelopeAddress,
  IdentityRecord,
  PushSubscriptionRecord,
  SubmissionRecord,
  VacationRecord,
} from "../store/mod.ts";
export type { EmailView, ImportItem, ImportRefusal } from "./emails.ts";
export type { EmailCondition, EmailFilter, EmailSort } from "../store/mod.ts";
export type { UploadResult } from "./blobs.ts";
export type { MailboxInput, MailboxView } from "./mailboxes.ts";
export { SHARE_NOTIFICATION_CHANGE, ShareNotificationService } from "./share_notifications.ts";
export type { ShareNotificationAuthor, ShareNotificationRecord } from "./share_notifications.ts";
export {
  composeDsn,
  DSN_SUBJECTS,
  statusOfReply,
  submissionEnvelopeId,
  submissionOfEnvelopeId,
} from "./dsn.ts";
export type { DsnInput, DsnRecipient } from "./dsn.ts";
export { looksLikeDsn, parseDsn } from "./dsn_parse.ts";
export type { ParsedDsn, ParsedDsnRecipient } from "./dsn_parse.ts";
export { DsnReceiver } from "./dsn_inbound.ts";
