/** The list screens' menu: a table of objects under a "+ New …" choice, `n` to create, enter to open. */
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
  /** The create choice: its name ("+ New domain…") and description. */
  create: { name: string; description: string };
  help: HelpTopic;
  /** The id to put the cursor on (the one opened last). */
  cursor?: string;
}

/** What the user picked: go back, create, or open the object `id`. */
export type ListPick = { kind: "back" } | { kind: "new" } | { kind: "open"; id: string };

const NEW = "\0new";

/** Shows the list and waits for a pick; `?` shows the help and asks again. */
export async function pickFromList(ui: Ui, view: ListView): Promise<ListPick> {
  const [head, ...lines] = tableLines(view.head, view.rows.map((r) => r.cells), ui.columns - 2);
  for (;;) {
    ui.draw(view.path, [view.summary]);
    const choice = await ui.prompts.menu(
      head,
      [
        { value: NEW, ...view.create },
        ...lines.map((name, i) => ({ value: view.rows[i].id, name })),
      ],
      { keys: [["n", "new"]], pageSize: ui.pageSize(), default: view.cursor },
    );
    if (!isKey(choice)) return choice === NEW ? { kind: "new" } : { kind: "open", id: choice };
    if (choice.name === "back") return { kind: "back" };
    if (choice.name === "n") return { kind: "new" };
    if (choice.name === "help") await showHelp(ui, view.help);
  }
}

/** "1 domain", "3 domains". */
export function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}
