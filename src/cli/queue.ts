/**
 * `postern queue …`: the outbound queue (x:QueuedMessage), locally or on a server. `list` filters by
 * state, recipient domain and sender; `show` prints one message with its recipients; `retry` makes
 * the next attempt of deferred recipients now (one message or `--all`); `cancel` stops delivering a
 * message without a bounce (its recipients become canceled; the sender's EmailSubmission says so);
 * `delete` drops it from the queue silently, as Postfix's `postsuper -d` does.
 */
import {
  queueAge as age,
  QUEUED_MESSAGE_STATES,
  queuedRecipients as recipientsOf,
} from "../model/objects/mod.ts";
import { type ConnectOptions, withClient } from "./connect.ts";
import { output, UsageError } from "./io.ts";
import { say } from "./streams.ts";

/** Options of `postern queue list`. */
export interface QueueListOptions extends ConnectOptions {
  state?: string;
  domain?: string;
  sender?: string;
}

const TYPE = "queued-message";

const idArgument = (id: string) => {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new UsageError(`"${id}" is not a queued message id`);
  return id;
};

/** `postern queue list [--state S] [--domain D] [--sender A]` */
export async function queueListCommand(options: QueueListOptions): Promise<void> {
  const where: Record<string, unknown> = {};
  if (options.state !== undefined) {
    if (!(QUEUED_MESSAGE_STATES as readonly string[]).includes(options.state)) {
      throw new UsageError(`--state "${options.state}": states are ${QUEUED_MESSAGE_STATES.join(", ")}`);
    }
    where.state = options.state;
  }
  if (options.domain !== undefined) where.domain = options.domain;
  if (options.sender !== undefined) where.sender = options.sender;
  const messages = await withClient(options, (client) => client.query(TYPE, where));
  if (options.json) {
    output(messages, options);
    return;
  }
  output(
    messages.map((m) => ({
      id: m.id,
      state: m.state,
      age: age(m.createdAt),
      sender: m.sender === "" ? "<>" : m.sender,
      recipients: recipientsOf(m).length,
      domains: Object.values(m.domains ?? {}).join(", "),
    })),
    options,
  );
}

/** `postern queue show ID` */
export async function queueShowCommand(id: string, options: ConnectOptions): Promise<void> {
  const message = await withClient(options, (client) => client.get(TYPE, idArgument(id)));
  if (options.json) {
    output(message, options);
    return;
  }
  const { recipients: _, ...rest } = message;
  output({ ...rest, sender: message.sender === "" ? "<>" : message.sender }, options);
  output(
    recipientsOf(message).map((r) => ({
      address: r.address,
      state: r.state,
      attempts: r.attempts,
      next: r.nextAttemptAt ?? "",
      reply: r.lastReply ?? "",
    })),
    options,
  );
}

/** `postern queue retry ID|--all` */
export async function queueRetryCommand(
  id: string | undefined,
  options: ConnectOptions & { all?: boolean },
): Promise<void> {
  if ((id === undefined) === !options.all) throw new UsageError("queue retry needs an ID or --all, not both");
  const args = id === undefined ? {} : { ids: [idArgument(id)] };
  const answer = await withClient(options, (client) => client.report("RetryQueuedMessages", args));
  if (options.json) output({ retried: answer.recipients }, options);
  else say(`${answer.recipients} deferred recipient(s) will be tried now`);
}

/** `postern queue cancel ID` */
export async function queueCancelCommand(id: string, options: ConnectOptions): Promise<void> {
  const ids = [idArgument(id)];
  const answer = await withClient(options, (client) => client.report("CancelQueuedMessages", { ids }));
  if (options.json) output({ canceled: answer.recipients }, options);
  else say(`Canceled ${answer.recipients} recipient(s) of queued message ${id} (no bounce is sent)`);
}

/** `postern queue delete ID` */
export async function queueDeleteCommand(id: string, options: ConnectOptions): Promise<void> {
  const deleted = await withClient(options, (client) => client.delete(TYPE, idArgument(id)));
  if (options.json) output(deleted, options);
  else say(`Deleted queued message ${deleted.id} from the queue (no bounce is sent)`);
}
