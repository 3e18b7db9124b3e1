/**
 * Another process on a test's database: opens its data directory, runs the due-submission worker
 * (sendDue, the default) or the outbound queue's worker (runDue) once at the time given (ms since
 * the epoch) and prints how many submissions it handled or deliveries it made.
 * Usage: deno run -A test/send_due_process.ts DATA_DIR WHEN [sendDue|runDue]
 */
import { resolveConfig } from "../src/config/mod.ts";
import { openData } from "../src/server.ts";

const [dataDir, when, worker = "sendDue"] = Deno.args;
const { services } = await openData(resolveConfig({ data: dataDir }, { POSTERN_ADMIN_PASSWORD: "unused" }), {
  hashWorkers: 1,
});
try {
  console.log(
    worker === "runDue"
      ? await services.queue.runDue(Number(when))
      : await services.submissions.sendDue(Number(when)),
  );
} finally {
  await services.close();
}
