/**
 * The list screens' menu: a table of objects under one choice on all of them ("+ New …", `n`; or
 * another, with its own key), enter to open one.
 */
import { type HelpTopic, showHelp } from "./help.ts";
import { isKey, tableLines, type Ui } from "./ui.ts";

/** What one round of a list screen shows. */
export interface ListView {
  path: readonly string[];
  /** The line above the table (how many, of what). */
  summary: string;
  head: readonly string[];
  /** One row per object, with the object's id. */
  rows: readonly { id: string; cells: string[] }[];
  /** The first choice: its name ("+ New domain…"), description and key (default `n`, "new"). */
  create: { name: string; description: string; key?: [string, string] };
  help: HelpTopic;
  /** The id to put the cursor on (the one opened last). */
  cursor?: string;
}

/** What the user picked: go back, the first choice (create), or open the object `id`. */
export type ListPick = { kind: "back" } | { kind: "new" } | { kind: "open"; id: string };

const NEW = "\0new";

/** Shows the list and waits for a pick; `?` shows the help and asks again. */
export async function pickFromList(ui: Ui, view: ListView): Promise<ListPick> {
  const [head, ...lines] = tableLines(view.head, view.rows.map((r) => r.cells), ui.columns - 2);
  const { key = ["n", "new"], ...create } = view.create;
  for (;;) {
    ui.draw(view.path, [view.summary]);
    const choice = await ui.prompts.menu(
      head,
      [
        { value: NEW, ...create },
        ...lines.map((name, i) => ({ value: view.rows[i].id, name })),
      ],
      { keys: [key], pageSize: () => ui.pageSize(), default: view.cursor },
    );
    if (!isKey(choice)) return choice === NEW ? { kind: "new" } : { kind: "open", id: choice };
    if (choice.name === "back") return { kind: "back" };
    if (choice.name === key[0]) return { kind: "new" };
    if (choice.name === "help") await showHelp(ui, view.help);
  }
}

/** "1 domain", "3 domains", "2 mailboxes". */
export function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : /(s|x|ch|sh)$/.test(what) ? "es" : "s"}`;
}
