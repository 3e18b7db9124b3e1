/**
 * A JMAP state string (RFC 8620 §1.2 "State", opaque to clients) from a change-log position: the one
 * spelling the change service issues and reads back (src/directory/changes.ts), and the one an
 * Email/query read in a snapshot of its own reports (src/jmap/mail/email_type.ts).
 */
export function changeState(position: number): string {
  return String(position);
}
