/** `postern serve`: run the server, in one process or several (see src/supervisor.ts). */
import { getLogger } from "@logtape/logtape";
import { closeLogging, type Config, type ConfigInput, setupLogging, StartError } from "../config/mod.ts";
import { MisconfigurationError } from "../model/errors.ts";
import { serve } from "../server.ts";
import {
  announceReady,
  childConfig,
  PROCESS_VARIABLE,
  processRole,
  Supervisor,
  supervisorGone,
} from "../supervisor.ts";
import { configFrom, type GlobalOptions } from "./io.ts";

/** Starts the server on the configured address until SIGINT/SIGTERM, then exits with status 0. */
export async function serveCommand(options: GlobalOptions & ConfigInput): Promise<void> {
  const config = configFrom(options);
  await setupLogging(config.logLevel);
  let supervisor: Supervisor | undefined;
  try {
    await serveAs(config, (made) => supervisor = made);
  } catch (error) {
    // Once logging is JSON, so is a failed start: one line naming the cause (and the flag to change);
    // a stack only for what nobody foresaw.
    const known = error instanceof StartError || error instanceof MisconfigurationError;
    const message = error instanceof Error ? error.message : String(error);
    getLogger(["postern", "start"]).error("{message}", known ? { message } : { message, error });
    await supervisor?.stop(0);
    await closeLogging();
    Deno.exit(1);
  }
  await closeLogging();
  // A connection still open after the shutdown grace (a client that stopped in the middle of an
  // upload) would keep the process alive: the server has stopped, so the process ends.
  Deno.exit(0);
}

/** Serves as the only process, as the supervisor of several, or as one of its children. */
async function serveAs(config: Config, made: (supervisor: Supervisor) => void): Promise<void> {
  const role = processRole(Deno.env.get(PROCESS_VARIABLE));
  if (role) {
    await serve(childConfig(config, role), {
      process: role,
      stopWhen: supervisorGone(),
      onServing: announceReady,
    });
    return;
  }
  if (config.processes === 1) return await serve(config);
  const supervisor = new Supervisor({
    count: config.processes,
    log: getLogger(["postern", "server"]),
    startLog: getLogger(["postern", "start"]),
  });
  made(supervisor);
  let stopping: Promise<void> | undefined;
  await serve(config, {
    process: { index: 0, count: config.processes },
    onServing: (listeners) => supervisor.start(listeners),
    // The children drain beside this process, each within the same grace.
    onStopping: () => void (stopping = supervisor.stop(config.shutdownGraceSeconds * 1000)),
  });
  await (stopping ?? supervisor.stop(config.shutdownGraceSeconds * 1000));
}
