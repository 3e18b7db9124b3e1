/** The actions screen: the mode's actions (cache invalidations, key rotation) and the database check. */
import type { ActionInfo, DatabaseReport } from "./backend.ts";
import { HELP, showHelp } from "./help.ts";
import { isKey, type Ui } from "./ui.ts";

const CHECK = "\0check";

/** Lists the actions; enter runs one (asking first where it matters). */
export async function actionsScreen(ui: Ui): Promise<void> {
  const path = ["Actions"];
  let actions: ActionInfo[];
  try {
    actions = await ui.backend.actions();
  } catch (error) {
    await ui.showError(path, error);
    return;
  }
  const check = ui.backend.checkDatabase;
  let last: string | undefined;
  for (;;) {
    ui.draw(path, [`Actions on ${ui.backend.mode === "local" ? "the database" : "the server"}:`]);
    const choice = await ui.prompts.menu("Run", [
      ...actions.map((a) => ({ value: a.name, name: a.description, description: a.name })),
      {
        value: CHECK,
        name: "Check the database (and repair dangling rows)",
        description: check
          ? "SQLite integrity check and foreign-key check"
          : "Local mode only: postern --data DIR db check",
        disabled: check ? false : "(local mode only)",
      },
    ], { default: last, pageSize: () => ui.pageSize() });
    if (isKey(choice)) {
      if (choice.name === "back") return;
      if (choice.name === "help") await showHelp(ui, HELP.actions);
      continue;
    }
    last = choice;
    if (choice === CHECK) await checkDatabase(ui, check!);
    else await runAction(ui, actions.find((a) => a.name === choice)!);
  }
}

async function runAction(ui: Ui, action: ActionInfo): Promise<void> {
  const path = ["Actions", action.name];
  if (action.confirm) {
    ui.draw(path, [action.description]);
    const sure = await ui.prompts.yesNo(action.confirm, false);
    if (sure !== true) return;
  }
  ui.draw(path, ["Running…"]);
  try {
    await ui.showDone(path, [await ui.backend.runAction(action.name)]);
  } catch (error) {
    await ui.showError(path, error);
  }
}

async function checkDatabase(
  ui: Ui,
  check: (options: { repair: boolean }) => Promise<DatabaseReport>,
): Promise<void> {
  const path = ["Actions", "Database check"];
  ui.draw(path, ["Checking…"]);
  let report: DatabaseReport;
  try {
    report = await check({ repair: false });
  } catch (error) {
    await ui.showError(path, error);
    return;
  }
  const lines = reportLines(report);
  if (report.dangling.length === 0 && report.usage.length === 0) {
    await ui.showDone(path, lines);
    return;
  }
  ui.draw(path, lines);
  const repair = await ui.prompts.yesNo(
    `Delete the ${report.dangling.length} dangling rows and recount the used bytes of ${report.usage.length} accounts?`,
    false,
  );
  if (repair !== true) return;
  try {
    const { repaired } = await check({ repair: true });
    await ui.showDone(path, [
      `Repaired ${repaired} rows.`,
      ...reportLines(await check({ repair: false })),
    ]);
  } catch (error) {
    await ui.showError(path, error);
  }
}

function reportLines(report: DatabaseReport): string[] {
  if (report.ok) return ["Database OK: integrity check passed, no dangling references, used bytes right."];
  const shown = report.dangling.slice(0, 10).map((d) => `dangling: ${d.detail}`);
  const more = report.dangling.length > 10 ? [`… and ${report.dangling.length - 10} more`] : [];
  const usage = report.usage.slice(0, 10).map((u) => `usage: ${u.detail}`);
  return [...report.integrity.map((line) => `integrity: ${line}`), ...shown, ...more, ...usage];
}
