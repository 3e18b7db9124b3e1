/**
 * Another process on a test's database: opens its data directory, runs the due-submission worker
 * once at the time given (ms since the epoch) and prints how many submissions it sent.
 * Usage: deno run -A test/send_due_process.ts DATA_DIR WHEN
 */
import { resolveConfig } from "../src/config/mod.ts";
import { openData } from "../src/server.ts";

const [dataDir, when] = Deno.args;
const { services } = await openData(resolveConfig({ data: dataDir }, { POSTERN_ADMIN_PASSWORD: "unused" }), {
  hashWorkers: 1,
});
try {
  console.log(await services.submissions.sendDue(Number(when)));
} finally {
  await services.close();
}
