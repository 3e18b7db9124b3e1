/** `postern action [NAME]`: the administrator's actions (src/model/actions.ts), locally or on a server. */
import { ACTIONS, findAction, REPORT_ACTIONS } from "../model/actions.ts";
import { type ConnectOptions, withClient } from "./connect.ts";
import { output, UsageError } from "./io.ts";
import { say } from "./streams.ts";

/** Lists the actions, or runs one by its command (rotate-signing-key) or @type (RotateSigningKey). */
export async function actionCommand(name: string | undefined, options: ConnectOptions): Promise<void> {
  if (name === undefined) {
    output(ACTIONS.map((a) => ({ action: a.command, description: a.description })), options);
    return;
  }
  const action = findAction(name);
  const report = REPORT_ACTIONS.find((a) =>
    a.command === name.toLowerCase() || a.name.toLowerCase() === name.toLowerCase()
  );
  if (report) {
    throw new UsageError(`${report.name} takes arguments: use postern ${report.command} (see its --help)`);
  }
  if (!action) {
    throw new UsageError(`Unknown action "${name}"; actions: ${ACTIONS.map((a) => a.command).join(", ")}`);
  }
  const done = await withClient(options, (client) => client.action(action.name));
  if (options.json) output({ action: action.command, done }, options);
  else say(done);
}
