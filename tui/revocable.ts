/**
 * What the screens of server-made objects share (OAuth grants, mailbox grants): a detail view whose
 * one action revokes the object, and deleting a list of them where one gone meanwhile is not an error.
 */
import type { WireObject } from "../src/directory/mod.ts";
import { NotFoundError } from "../src/model/errors.ts";
import { type HelpTopic, showHelp } from "./help.ts";
import { detailLines, isKey, type Ui } from "./ui.ts";

const ACT = "\0act";

/** A detail view of one revocable object. */
export interface RevocableView {
  /** The list it was opened from. */
  listPath: readonly string[];
  type: string;
  id: string;
  facts(object: WireObject): [string, string][];
  /** The one action: its name ("Revoke…") and description. */
  action: { name: string; description: string };
  help: HelpTopic;
  /** Asks and revokes; true when the object is gone (the view closes). */
  revoke(path: string[], object: WireObject): Promise<boolean>;
}

/** Shows the object until it is revoked or the user goes back. */
export async function revocableDetail(ui: Ui, view: RevocableView): Promise<void> {
  for (;;) {
    let object: WireObject;
    try {
      object = await ui.backend.client.get(view.type, view.id);
    } catch (error) {
      await ui.showError([...view.listPath, view.id], error);
      return;
    }
    const path = [...view.listPath, `grant ${view.id}`];
    ui.draw(path, detailLines(view.facts(object), ui.columns));
    const choice = await ui.prompts.menu("Grant", [{ value: ACT, ...view.action }], { pageSize: 1 });
    if (isKey(choice)) {
      if (choice.name === "back") return;
      if (choice.name === "help") await showHelp(ui, view.help);
      continue;
    }
    if (await view.revoke(path, object)) return;
  }
}

/**
 * Deletes each object of `type`. One already gone (expired, or removed elsewhere) counts as done, as
 * that is what was asked; any other failure is shown and stops. Returns how many were deleted, and
 * whether it stopped on an error.
 */
export async function deleteEach(
  ui: Ui,
  here: readonly string[],
  target: { type: string; objects: readonly WireObject[] },
): Promise<{ deleted: number; failed: boolean }> {
  let deleted = 0;
  for (const object of target.objects) {
    try {
      await ui.backend.client.delete(target.type, String(object.id));
      deleted++;
    } catch (error) {
      if (!(error instanceof NotFoundError)) {
        await ui.showError(here, error);
        return { deleted, failed: true };
      }
    }
  }
  return { deleted, failed: false };
}
