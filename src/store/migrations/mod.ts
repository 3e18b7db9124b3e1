/**
 * Numbered migrations, applied in order and tracked by `PRAGMA user_version`. They are TypeScript
 * modules rather than .sql files so `deno compile` and the bundle embed them without file reads.
 */
import { sql as core } from "./001_core.ts";
import { sql as changes } from "./002_changes.ts";
import { sql as changeOwner } from "./003_change_owner.ts";
import { sql as accountOrder } from "./004_account_order.ts";
import { sql as oauth } from "./005_oauth.ts";
import { sql as mailboxes } from "./006_mailboxes.ts";
import { sql as shareNotifications } from "./007_share_notifications.ts";
import { sql as oauthGrantChanges } from "./008_oauth_grant_changes.ts";
import { sql as loginFailures } from "./009_login_failures.ts";
import { sql as mailboxGrantChanges } from "./010_mailbox_grant_changes.ts";
import { sql as blobs } from "./013_blobs.ts";
import { sql as emails } from "./014_emails.ts";
import { sql as servers } from "./015_servers.ts";
import { sql as identities } from "./016_identities.ts";
import { sql as submissions } from "./017_submissions.ts";
import { sql as vacation } from "./018_vacation.ts";
import { sql as pushSubscriptions } from "./019_push_subscriptions.ts";
import { sql as contentlessSearch } from "./020_contentless_search.ts";
import { sql as accountUsage } from "./021_account_usage.ts";
import { sql as oauthClientTrust } from "./022_oauth_client_trust.ts";
import { sql as oauthFlows } from "./023_oauth_flows.ts";
import { sql as submissionClaims } from "./027_submission_claims.ts";
import { sql as pushSubscriptionCredentials } from "./028_push_subscription_credentials.ts";
import { sql as loginClients } from "./025_login_clients.ts";
import { sql as changeCountsOnly } from "./033_change_counts_only.ts";
import { sql as domainDmarc } from "./034_domain_dmarc.ts";
import { sql as domainCatchAll } from "./035_domain_catch_all.ts";
import { sql as certificates } from "./036_certificates.ts";
import { sql as dkimKeys } from "./037_dkim_keys.ts";
import { sql as mtaSts } from "./038_mta_sts.ts";
import { sql as queue } from "./039_queue.ts";
import { sql as groupSendAs } from "./040_group_send_as.ts";
import { sql as imap } from "./041_imap.ts";
import { sql as forward } from "./042_forward.ts";
import { sql as queueNotices } from "./043_queue_notices.ts";
import { sql as queueSigning } from "./044_queue_signing.ts";
import { sql as imapSize } from "./045_imap_size.ts";
import { sql as emailCopies } from "./046_email_copies.ts";
import { sql as imapStatementModseq } from "./047_imap_statement_modseq.ts";
import { sql as loginThrottle } from "./048_login_throttle.ts";
import { sql as searchPrefix } from "./049_search_prefix.ts";
import { sql as imapMembershipFold } from "./050_imap_membership_fold.ts";
import { sql as searchWatermark } from "./051_search_watermark.ts";

/** Every migration, in order; index + 1 is the schema version it brings the database to. */
export const MIGRATIONS: readonly string[] = [
  core,
  changes,
  changeOwner,
  accountOrder,
  oauth,
  mailboxes,
  shareNotifications,
  oauthGrantChanges,
  loginFailures,
  mailboxGrantChanges,
  blobs,
  emails,
  servers,
  identities,
  submissions,
  vacation,
  pushSubscriptions,
  contentlessSearch,
  accountUsage,
  oauthClientTrust,
  oauthFlows,
  submissionClaims,
  pushSubscriptionCredentials,
  loginClients,
  changeCountsOnly,
  domainDmarc,
  domainCatchAll,
  certificates,
  dkimKeys,
  mtaSts,
  queue,
  groupSendAs,
  imap,
  forward,
  queueNotices,
  queueSigning,
  imapSize,
  emailCopies,
  imapStatementModseq,
  loginThrottle,
  searchPrefix,
  imapMembershipFold,
  searchWatermark,
];
