/**
 * FETCH's renderings of a stored message (RFC 9051 §6.4.5, §7.5.2; RFC 3516): pure functions from
 * the message's octets to response values. Open a message once with `new ImapMessage(raw)`, then
 * render each item with `renderFetchItem`.
 */
export { ImapMessage } from "./message_tree.ts";
export type { RenderPart } from "./message_tree.ts";
export { renderFetchItem, sectionName } from "./fetch_item.ts";
export type { FetchRendering } from "./fetch_item.ts";
export { envelope } from "./envelope.ts";
export { bodyStructure } from "./body_structure.ts";
export { binaryBytes, resolvePart, sectionBytes } from "./sections.ts";
