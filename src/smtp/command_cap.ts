/**
 * A cap on the commands a session sends before its first accepted MAIL FROM (HELO, EHLO, NOOP,
 * RSET, VRFY, unknown ones…): a client that only probes or idles is closed with 421 4.7.0, as
 * Postfix's smtpd_junk_command_limit does. smtp-server has no hook per command, so the wrapper sits
 * on the connection's command dispatch of the pinned version (deno.json), like enhanced_codes.ts.
 */
import type { SmtpReply } from "./replies.ts";

/** The part of an smtp-server connection the cap wraps. */
interface CommandConnection {
  _onCommand(command: unknown, callback?: () => void): unknown;
  send(code: number, data: string): void;
}

/**
 * Counts the commands of `connection` while `started()` is false; the one past `limit` is answered
 * `reply` (a 421, which closes the session) and `exceeded` is called, instead of running it.
 */
export function capCommandsBeforeMail(
  connection: unknown,
  limit: number,
  options: { started: () => boolean; reply: SmtpReply; exceeded: () => void },
): void {
  const target = connection as CommandConnection | undefined;
  if (!target) return;
  const dispatch = target._onCommand;
  let count = 0;
  target._onCommand = function (command, callback) {
    if (!options.started() && ++count > limit) {
      options.exceeded();
      return target.send(options.reply.code, `${options.reply.enhanced} ${options.reply.text}`);
    }
    return dispatch.call(target, command, callback);
  };
}
