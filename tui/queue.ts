/**
 * The outbound queue screen: every queued message with its state, age and recipient domains; enter
 * opens one with each recipient's state, attempts and last reply. Retry now, cancel (no bounce) and
 * delete (dropped silently) ask first; `r` on the list retries every deferred recipient.
 */
import type { WireObject } from "../src/directory/mod.ts";
import { queueAge as age, queuedRecipients as recipientsOf } from "../src/model/objects/mod.ts";
import { showValue } from "./format.ts";
import { HELP, showHelp } from "./help.ts";
import { count, pickFromList } from "./list.ts";
import { detailLines, isKey, tableLines, type Ui } from "./ui.ts";

const TYPE = "queued-message";

const senderOf = (m: WireObject) => m.sender === "" ? "<> (bounce)" : String(m.sender);

/** The list of queued messages, oldest first; enter opens one, `r` retries all. */
export async function queueScreen(ui: Ui): Promise<void> {
  const path = ["Queue"];
  let cursor: string | undefined;
  for (;;) {
    ui.draw(path, ["Loading…"]);
    let messages: WireObject[];
    try {
      messages = await ui.backend.client.query(TYPE, {});
    } catch (error) {
      await ui.showError(path, error);
      return;
    }
    const deferred = messages.filter((m) => m.state === "deferred").length;
    const pick = await pickFromList(ui, {
      path,
      summary: `${count(messages.length, "queued message")}, ${deferred} deferred`,
      head: ["STATE", "AGE", "SENDER", "RCPTS", "DOMAINS"],
      rows: messages.map((m) => ({
        id: String(m.id),
        cells: [
          String(m.state),
          age(m.createdAt),
          senderOf(m),
          String(recipientsOf(m).length),
          Object.values(m.domains ?? {}).join(", "),
        ],
      })),
      create: {
        name: "Retry all deferred now…",
        description: "The next attempt of every deferred recipient is now; asks first",
        key: ["r", "retry all"],
      },
      help: HELP.queue,
      cursor,
    });
    if (pick.kind === "back") return;
    if (pick.kind === "new") await retry(ui, [...path, "Retry"], null);
    else await messageDetail(ui, cursor = pick.id);
  }
}

/** One message: its facts and recipients, and the three commands. */
async function messageDetail(ui: Ui, id: string): Promise<void> {
  let last: string | undefined;
  for (;;) {
    let message: WireObject;
    try {
      message = await ui.backend.client.get(TYPE, id);
    } catch (error) {
      await ui.showError(["Queue", id], error);
      return;
    }
    const path = ["Queue", `message ${id}`];
    const recipients = recipientsOf(message);
    const [head, ...rows] = tableLines(
      ["RECIPIENT", "STATE", "TRIES", "NEXT", "LAST REPLY"],
      recipients.map((r) => [
        String(r.address),
        String(r.state),
        String(r.attempts ?? 0),
        r.nextAttemptAt ? String(r.nextAttemptAt) : "–",
        String(r.lastReply ?? "–"),
      ]),
      ui.columns,
    );
    ui.draw(path, [
      ...detailLines([
        ["State", String(message.state)],
        ["Sender", senderOf(message)],
        ["Kind", showValue(message.kind)],
        ["Size", `${message.size} bytes`],
        ["Queued", `${showValue(message.createdAt)} (${age(message.createdAt)} ago)`],
        ["Next attempt", showValue(message.nextAttemptAt)],
      ], ui.columns),
      "",
      head,
      ...rows,
    ]);
    const choice = await ui.prompts.menu("Message", [
      { value: "retry", name: "Retry now…", description: "Its deferred recipients are tried at once" },
      {
        value: "cancel",
        name: "Cancel…",
        description: "Its recipients still to deliver are canceled; no bounce is sent",
      },
      { value: "delete", name: "Delete…", description: "Dropped from the queue silently (as postsuper -d)" },
    ], { pageSize: 3, default: last });
    if (isKey(choice)) {
      if (choice.name === "back") return;
      if (choice.name === "help") await showHelp(ui, HELP.queue);
      continue;
    }
    last = choice;
    if (choice === "retry") await retry(ui, [...path, "Retry"], id);
    else if (choice === "cancel") await cancel(ui, [...path, "Cancel"], message);
    else if (await remove(ui, [...path, "Delete"], message)) return;
  }
}

/** Asks before something that cannot be undone; true for yes. */
async function sure(ui: Ui, path: string[], lines: string[], question: string): Promise<boolean> {
  ui.draw(path, lines, [["y", "yes"], ["n/enter", "no"], ["esc", "cancel"]]);
  return (await ui.prompts.yesNo(question, false)) === true;
}

/** Retries one message, or every deferred recipient when `id` is null. */
async function retry(ui: Ui, path: string[], id: string | null): Promise<void> {
  const what = id === null ? "every deferred recipient" : `the deferred recipients of message ${id}`;
  if (!await sure(ui, path, [`Try ${what} now?`], "Retry now?")) return;
  await act(ui, path, async () => {
    const answer = await report(ui, "RetryQueuedMessages", id === null ? {} : { ids: [id] });
    return `${count(Number(answer.recipients), "deferred recipient")} will be tried now.`;
  });
}

async function cancel(ui: Ui, path: string[], message: WireObject): Promise<void> {
  const lines = [
    `Cancel message ${message.id} from ${senderOf(message)}?`,
    "Its recipients still to deliver are canceled; no bounce is sent, the sender's submission says so.",
  ];
  if (!await sure(ui, path, lines, "Cancel it?")) return;
  await act(ui, path, async () => {
    const answer = await report(ui, "CancelQueuedMessages", { ids: [String(message.id)] });
    return `Canceled ${count(Number(answer.recipients), "recipient")} of message ${message.id}.`;
  });
}

async function remove(ui: Ui, path: string[], message: WireObject): Promise<boolean> {
  const lines = [
    `Delete message ${message.id} from ${senderOf(message)}?`,
    "It leaves the queue at once, with no bounce and no further attempt.",
  ];
  if (!await sure(ui, path, lines, "Delete it?")) return false;
  return await act(ui, path, async () => {
    await ui.backend.client.delete(TYPE, String(message.id));
    return `Deleted message ${message.id} from the queue.`;
  });
}

function report(ui: Ui, name: string, args: Record<string, unknown>): Promise<WireObject> {
  const { client } = ui.backend;
  if (!client.report) return Promise.reject(new Error("This mode cannot run queue commands"));
  return client.report(name, args);
}

/** Runs a command and shows its outcome or its error; true when it was done. */
async function act(ui: Ui, path: string[], body: () => Promise<string>): Promise<boolean> {
  try {
    await ui.showDone(path, [await body()]);
    return true;
  } catch (error) {
    await ui.showError(path, error);
    return false;
  }
}
