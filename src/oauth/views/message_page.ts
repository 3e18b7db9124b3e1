import { markup } from "./html.ts";
import { layout } from "./layout.ts";

/** How a message page reads: an outcome, a failure, or plain information. */
export type MessageStatus = "success" | "error" | "info";

/** Options of `messagePage`. */
export interface MessagePageOptions {
  /** The heading and tab title, e.g. "Device connected" or "Unknown client". */
  title: string;
  /** What happened and what to do next, in a sentence or two. */
  message: string;
  /** Sets the mark beside the heading; "info" when absent. */
  status?: MessageStatus;
  /** A smaller line for specifics, e.g. the client id or redirect URI that was refused. */
  detail?: string;
}

const MARKS: Record<MessageStatus, { glyph: string; label: string }> = {
  success: { glyph: "✓", label: "Done" },
  error: { glyph: "!", label: "Error" },
  info: { glyph: "i", label: "Information" },
};

/**
 * A page that ends a flow with a message: a result, or an error that must not be sent to the client
 * because its redirect URI cannot be trusted (RFC 6749 §4.1.2.1).
 */
export function messagePage(options: MessagePageOptions): string {
  const status = options.status ?? "info";
  const mark = MARKS[status];
  return layout({
    title: options.title,
    body: markup`<p class="status status-${status}" role="img" aria-label="${mark.label}">${mark.glyph}</p>
<h1>${options.title}</h1>
<p class="lead">${options.message}</p>
${options.detail !== undefined && markup`<p class="detail">${options.detail}</p>\n`}`,
  });
}
