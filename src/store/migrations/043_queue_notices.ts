/**
 * Finding the work the queue still owes senders: a recipient that failed for good and that no
 * bounce has named yet. The worker names it in the transaction that makes the bounce; a process
 * that dies after recording the failure leaves it here for the next run to report.
 *
 * And the finished messages past x:Outbound keepFinishedSeconds, which the retention deletes,
 * found by their age; and the recipients in a state, for x:QueuedMessage/query's filter.
 */
export const sql = `
CREATE INDEX queue_recipients_unreported ON queue_recipients (message_id)
  WHERE state = 'failed' AND reported_at IS NULL;
CREATE INDEX queue_messages_created ON queue_messages (created_at);
CREATE INDEX queue_recipients_state ON queue_recipients (state, message_id);
`;
