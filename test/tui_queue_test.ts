/**
 * The queue screen in a real pseudo-terminal (tmux), on a database with three queued messages: the
 * list shows state, age, sender and domains; a message's view shows each recipient's state and last
 * reply; retry, cancel (answered no, then yes) and delete reach the database.
 */
import assert from "node:assert/strict";
import { HAS_TMUX, queryObjects, withTuiOnNewDatabase } from "./tui_helpers.ts";
import { seedQueueAt } from "./queue_admin_helpers.ts";

type Obj = Record<string, unknown>;

const stateOf = async (dataDir: string, id: string) =>
  (await queryObjects(dataDir, "queued-message")).find((m) => m.id === id)?.state;

Deno.test({
  name: "queue screen: list, a message's recipients, retry, cancel and delete with confirmation",
  ignore: !HAS_TMUX,
  fn: () =>
    withTuiOnNewDatabase(async (tui, dataDir) => {
      const seeded = await seedQueueAt(dataDir);
      await tui.waitFor("? Go to");
      await tui.choose("Queue");
      let screen = await tui.waitFor("Retry all deferred now…");
      assert.match(screen, /3 queued messages, 1 deferred/);
      assert.match(screen, /deferred +1h +alice@example\.org +2 +remote\.example/);
      assert.match(screen, /failed +1h +<> \(bounce\) +1 +faraway\.example/);

      // One message: its recipients, each with its state and last reply.
      await tui.choose("deferred");
      screen = await tui.waitFor("? Message");
      assert.match(screen, /bob@remote\.example +deferred +1 +\S+ +451 4\.3\.0 Try later/);
      assert.match(screen, /carol@remote\.example +delivered +1 +– +250 2\.0\.0 Ok/);

      await tui.choose("Retry now…");
      await tui.waitFor("? Retry now?");
      await tui.type("y");
      await tui.keys("Enter");
      await tui.waitFor(/1 deferred recipient will be tried now\.[\s\S]*❯ OK/);
      await tui.keys("Enter");
      await tui.waitFor("? Message");
      const bob = (Object.values(
        (await queryObjects(dataDir, "queued-message")).find((m) => m.id === seeded.deferred)!
          .recipients as Obj,
      ) as Obj[]).find((r) => r.address === "bob@remote.example")!;
      assert.ok(Date.parse(String(bob.nextAttemptAt)) <= Date.now(), String(bob.nextAttemptAt));

      // Cancel answered no: nothing changes; then yes.
      await tui.choose("Cancel…");
      await tui.waitFor("? Cancel it?");
      await tui.keys("Enter");
      await tui.waitFor("? Message");
      assert.equal(await stateOf(dataDir, seeded.deferred), "deferred");
      await tui.choose("Cancel…");
      await tui.waitFor("? Cancel it?");
      await tui.type("y");
      await tui.keys("Enter");
      await tui.waitFor(/Canceled 1 recipient of message [\s\S]*❯ OK/);
      assert.equal(await stateOf(dataDir, seeded.deferred), "canceled");
      await tui.keys("Enter");
      screen = await tui.waitFor("? Message");
      assert.match(screen, /State +canceled/);

      await tui.choose("Delete…");
      await tui.waitFor("? Delete it?");
      await tui.type("y");
      await tui.keys("Enter");
      await tui.waitFor(/Deleted message \S+ from the queue\.[\s\S]*❯ OK/);
      await tui.keys("Enter");
      screen = await tui.waitFor("2 queued messages, 0 deferred");
      assert.deepEqual(
        (await queryObjects(dataDir, "queued-message")).map((m) => m.id).sort(),
        [seeded.queued, seeded.failed].sort(),
      );
    }),
});
