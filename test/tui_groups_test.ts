/**
 * The groups screen in a real pseudo-terminal (tmux): create a group, add a member, let it send as the
 * group and remove it again (the right goes with it), each checked in the database, and open the
 * group's own account view.
 */
import assert from "node:assert/strict";
import { cli } from "./helpers.ts";
import { HAS_TMUX, queryObjects, withTuiOnNewDatabase } from "./tui_helpers.ts";

Deno.test({
  name:
    "groups screen: create a group, add a member who may send as it, remove it, open the group's account view",
  ignore: !HAS_TMUX,
  fn: () =>
    withTuiOnNewDatabase(async (tui, dataDir) => {
      const [domain] = await queryObjects(dataDir, "domain");
      const user = await cli([
        "--data",
        dataDir,
        "create",
        "account/user",
        "--field",
        "name=tess",
        "--field",
        `domainId=${domain.id}`,
      ]);
      assert.equal(user.code, 0, user.stderr);
      const tess = async () => (await queryObjects(dataDir, "account")).find((a) => a.name === "tess")!;

      await tui.waitFor("? Go to");
      await tui.choose("Groups");
      let screen = await tui.waitFor("+ New group");
      assert.match(screen, /0 groups/);

      // Create: the type is not asked on this screen.
      await tui.keys("n");
      screen = await tui.waitFor("? Name");
      assert.match(screen, /Groups › New/);
      await tui.type("sales");
      await tui.keys("Enter");
      await tui.waitFor("? Description");
      await tui.keys("Enter");
      await tui.waitFor(/Created group sales@example\.org[\s\S]*❯ OK/);
      const group = (await queryObjects(dataDir, "account/group")).find((g) => g.name === "sales");
      assert.ok(group);
      await tui.keys("Enter");
      await tui.waitFor(/sales +sales@example\.org +0/);

      // Add tess (the second account offered, after admin).
      await tui.keys("Down", "Enter");
      screen = await tui.waitFor("? Group");
      assert.match(screen, /Members +\(none\)/);
      await tui.choose("Add members");
      screen = await tui.waitFor("? Add (space toggles, enter saves)");
      assert.match(screen, /admin +admin@example\.org[\s\S]*tess +tess@example\.org/);
      const offered = screen.slice(screen.indexOf("? Add"));
      assert.doesNotMatch(offered, /sales@example\.org/, "a group is not offered as its own member");
      await tui.keys("Down", "Space", "Enter");
      await tui.waitFor(/Members +tess\n/);
      assert.deepEqual(Object.values((await tess()).memberGroupIds as object), [group.id]);
      assert.match(await tui.waitFor("? Group"), /May send as it +\(none\)/);

      // Let tess send as the group.
      await tui.choose("Who may send as it");
      screen = await tui.waitFor("? May send as the group (space toggles, enter saves)");
      assert.match(screen, /tess +tess@example\.org/);
      await tui.keys("Space", "Enter");
      await tui.waitFor(/May send as it +tess\n/);
      assert.deepEqual(Object.values((await tess()).sendAsGroupIds as object), [group.id]);

      // Remove tess again.
      await tui.choose("Remove members");
      await tui.waitFor("? Remove (space toggles, enter saves)");
      await tui.keys("Space", "Enter");
      await tui.waitFor(/Members +\(none\)/);
      assert.deepEqual(Object.values((await tess()).memberGroupIds as object), []);
      assert.deepEqual(Object.values((await tess()).sendAsGroupIds as object), []);

      // The group's own account view, with its edits and delete.
      await tui.choose("Edit the group");
      screen = await tui.waitFor("? Account");
      assert.match(screen, /Name +sales \(Group/);
    }),
});

Deno.test({
  name: "account view: a member's groups to send as are shown and chosen among its groups",
  ignore: !HAS_TMUX,
  fn: () =>
    withTuiOnNewDatabase(async (tui, dataDir) => {
      const [domain] = await queryObjects(dataDir, "domain");
      const run = async (args: string[]) => {
        const result = await cli(["--data", dataDir, ...args]);
        assert.equal(result.code, 0, result.stderr);
      };
      await run(["create", "account/group", "--field", "name=sales", "--field", `domainId=${domain.id}`]);
      await run(["create", "account/group", "--field", "name=ops", "--field", `domainId=${domain.id}`]);
      await run([
        "create",
        "account/user",
        "--field",
        "name=tess",
        "--field",
        `domainId=${domain.id}`,
        "--field",
        'memberGroupIds=["sales"]',
      ]);
      const tess = async () => (await queryObjects(dataDir, "account")).find((a) => a.name === "tess")!;
      const sales = (await queryObjects(dataDir, "account/group")).find((g) => g.name === "sales")!;

      await tui.waitFor("? Go to");
      await tui.keys("Enter");
      await tui.waitFor("+ New account");
      await tui.keys("/");
      await tui.waitFor("? Search");
      await tui.type("tess");
      await tui.waitFor(/tess +User +tess@example.org/);
      await tui.keys("Enter");
      let screen = await tui.waitFor("? Account");
      assert.match(screen, /Sends as +\(own addresses only\)/);
      await tui.choose("Sends as groups");
      screen = await tui.waitFor("? May send as (space toggles, enter saves)");
      // Only the groups tess belongs to are offered.
      const offered = screen.slice(screen.indexOf("? May send as"));
      assert.match(offered, /sales +sales@example\.org/);
      assert.doesNotMatch(offered, /ops@example\.org/);
      await tui.keys("Space", "Enter");
      await tui.waitFor(/Sends as +sales\n[\s\S]*\? Account/);
      assert.deepEqual(Object.values((await tess()).sendAsGroupIds as object), [sales.id]);
    }),
});
