/**
 * What the queue tells a sender about their message: a bounce when delivery to some recipients
 * failed for good (or expired), a delay notice once while it is still retried. The queue builds a
 * {@link BounceInput} and asks a {@link BounceComposer} for the message: `composeDsn` of dsn.ts
 * (RFC 3464) in the server; tests may give another.
 */
import type { DsnInput, DsnRecipient } from "./dsn.ts";

/** One recipient a report is about. */
export type BounceRecipient = DsnRecipient;

/** What a bounce or delay notice is about. */
export type BounceInput = DsnInput;

/** Makes the message of a bounce or delay notice. */
export type BounceComposer = (input: BounceInput) => Uint8Array;
