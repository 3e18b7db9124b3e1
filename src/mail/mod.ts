/** Mail: mailboxes and their sharing (messages, MIME and search come with the Email store). */
export { MAILBOX_LIMITS, MailboxService } from "./mailboxes.ts";
export { mailboxGrantHandler } from "./mailbox_grants.ts";
export { blobId, BlobService, parseBlobId, UPLOAD_TTL_MS } from "./blobs.ts";
export type { UploadResult } from "./blobs.ts";
export type { MailboxInput, MailboxView } from "./mailboxes.ts";
export { SHARE_NOTIFICATION_CHANGE, ShareNotificationService } from "./share_notifications.ts";
export type { ShareNotificationAuthor, ShareNotificationRecord } from "./share_notifications.ts";
