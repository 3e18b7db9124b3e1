/**
 * The domains screen: list with the accounts in each, create, edit (name, description, catch-all),
 * the DNS records a domain needs and their check, delete (refused while in use).
 */
import { styleText } from "node:util";
import type { WireObject } from "../src/directory/mod.ts";
import { checkReport } from "../src/dns/mod.ts";
import { type DnsRecord, zoneFile } from "../src/model/dns_records.ts";
import { addressSchema, domainNameSchema } from "../src/model/objects/mod.ts";
import { askAndSave, FORM_KEYS, refusedFields, rule } from "./form.ts";
import { showValue } from "./format.ts";
import { HELP, showHelp } from "./help.ts";
import { count, pickFromList } from "./list.ts";
import { Key } from "./terminal.ts";
import { detailLines, errorLines, isKey, type Ui, wrap } from "./ui.ts";

/** The list of domains; enter opens one, `n` creates. */
export async function domainsScreen(ui: Ui): Promise<void> {
  let cursor: string | undefined;
  for (;;) {
    const path = ["Domains"];
    ui.draw(path, ["Loading…"]);
    let domains: WireObject[];
    let usage: Map<string, number>;
    try {
      [domains, usage] = await Promise.all([
        ui.backend.client.query("domain", {}),
        accountsPerDomain(ui),
      ]);
    } catch (error) {
      await ui.showError(path, error);
      return;
    }
    const pick = await pickFromList(ui, {
      path,
      summary: count(domains.length, "domain"),
      head: ["NAME", "ACCOUNTS", "DESCRIPTION"],
      rows: domains.map((d) => ({
        id: String(d.id),
        cells: [String(d.name), String(usage.get(String(d.id)) ?? 0), String(d.description ?? "")],
      })),
      create: { name: "+ New domain…", description: "Add a mail domain" },
      help: HELP.domains,
      cursor,
    });
    if (pick.kind === "back") return;
    if (pick.kind === "new") await createDomain(ui);
    else await domainDetail(ui, cursor = pick.id, usage.get(pick.id) ?? 0);
  }
}

async function accountsPerDomain(ui: Ui): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const a of await ui.backend.client.query("account", {}, ["domainId"])) {
    counts.set(String(a.domainId), (counts.get(String(a.domainId)) ?? 0) + 1);
  }
  return counts;
}

const validName = rule(domainNameSchema);
const validCatchAll = (text: string) => text.trim() === "" || rule(addressSchema)(text.trim());

/** The create form: name and description. */
async function createDomain(ui: Ui): Promise<void> {
  const path = ["Domains", "New"];
  let last = { name: "", description: "" };
  const created = await askAndSave(
    ui,
    path,
    async (error) => {
      ui.draw(path, error ? errorLines(error) : [], FORM_KEYS);
      // After a refusal only the refused answer is asked again: the description if the refusal
      // names it, else the name (a taken name names no property); the other answer is kept.
      const refused = refusedFields(error);
      const askName = !error || !refused.has("description") || refused.has("name");
      const askDescription = !error || refused.has("description");
      let { name, description } = last;
      if (askName) {
        const answer = await ui.prompts.text("Domain name", {
          default: name || undefined,
          validate: validName,
        });
        if (answer instanceof Key) return undefined;
        name = answer;
      }
      if (askDescription) {
        const answer = await ui.prompts.text("Description (optional)", { default: description || undefined });
        if (answer instanceof Key) return undefined;
        description = answer;
      }
      return (last = { name, description });
    },
    (a) =>
      ui.backend.client.create("domain", {
        name: a.name,
        ...(a.description ? { description: a.description } : {}),
      }),
  );
  if (created) await ui.showDone(path, [`Created domain ${created.name} (id ${created.id}).`]);
}

/** One domain: rename, describe, delete. */
async function domainDetail(ui: Ui, id: string, accounts: number): Promise<void> {
  const { client } = ui.backend;
  let last: string | undefined;
  for (;;) {
    let domain: WireObject;
    try {
      domain = await client.get("domain", id);
    } catch (error) {
      await ui.showError(["Domains", id], error);
      return;
    }
    const path = ["Domains", String(domain.name)];
    const body = detailLines([
      ["Name", `${domain.name} (id ${domain.id})`],
      ["Description", showValue(domain.description)],
      ["Catch-all", domain.catchAll ? String(domain.catchAll) : "none (unknown addresses are refused)"],
      ["MTA-STS", `${domain.mtaStsMode ?? "testing"} (the policy served at mta-sts.${domain.name})`],
      ["Accounts", String(accounts)],
      ["Created", showValue(domain.createdAt)],
    ], ui.columns);
    ui.draw(path, body);
    const choice = await ui.prompts.menu("Domain", [
      { value: "description", name: "Edit description" },
      { value: "name", name: "Rename", description: "Addresses in the domain follow the new name" },
      {
        value: "catchAll",
        name: "Set catch-all",
        description: "The account or group address that gets mail for unknown addresses (empty: none)",
      },
      {
        value: "dns",
        name: "DNS records",
        description:
          "The records to publish (MX, SPF, DMARC, DKIM, MTA-STS, TLS-RPT, SRV, autoconfig), and their check",
      },
      { value: "delete", name: "Delete…", description: "Refused while accounts or addresses use it" },
    ], { pageSize: 5, default: last });
    if (isKey(choice)) {
      if (choice.name === "back") return;
      if (choice.name === "help") await showHelp(ui, HELP.domains);
      continue;
    }
    last = choice;
    if (choice === "dns") {
      await showDnsRecords(ui, path, String(domain.name));
      continue;
    }
    if (choice === "delete") {
      if (await deleteDomain(ui, domain, accounts)) return;
      continue;
    }
    const field = choice;
    const edited = await askAndSave(ui, [...path, field], async (error) => {
      ui.draw([...path, field], error ? errorLines(error) : [], FORM_KEYS);
      const question = field === "name"
        ? "New name"
        : field === "catchAll"
        ? "Catch-all address (empty: none)"
        : "Description (empty clears it)";
      const text = await ui.prompts.text(question, {
        default: String(domain[field] ?? ""),
        editable: true,
        validate: field === "name" ? validName : field === "catchAll" ? validCatchAll : undefined,
      });
      return text instanceof Key ? undefined : text.trim();
    }, (text) => client.update("domain", id, { [field]: field === "name" ? text : text || null }));
    if (edited === undefined) continue;
  }
}

/**
 * The zone-file lines of the domain's records (the DnsRecords action, as `postern dns` prints them),
 * scrolled when taller than the screen; `c` looks them up (`postern dns check`) and shows what is
 * ok, missing or wrong.
 */
async function showDnsRecords(ui: Ui, path: string[], name: string): Promise<void> {
  const here = [...path, "DNS records"];
  const { client, checkDns } = ui.backend;
  if (!client.report) return await ui.showError(here, new Error("This mode cannot list DNS records"));
  let records: DnsRecord[];
  try {
    records = (await client.report("DnsRecords", { domain: name })).records as DnsRecord[];
  } catch (error) {
    return await ui.showError(here, error);
  }
  let shown = { path: here, message: "DNS records", lines: zoneFile(records).trimEnd().split("\n") };
  for (;;) {
    ui.draw(shown.path);
    const key = await ui.prompts.page(
      shown.message,
      shown.lines.flatMap((l) => wrap(expandTabs(l), ui.columns)),
      {
        pageSize: () => ui.pageSize(2),
        keys: checkDns ? [["c", "check what is published"]] : [],
      },
    );
    if (key.name !== "c" || !checkDns) return;
    const checking = [...here, "Check"];
    ui.draw(checking, ["", "Looking the records up…"]);
    try {
      const checks = await checkDns(name, records);
      const bad = checks.filter((c) => c.status !== "ok").length;
      const summary = bad
        ? `${bad} of ${checks.length} records are not as expected`
        : "Every record is published";
      shown = { path: checking, message: summary, lines: checkReport(checks).map(colourStatus) };
    } catch (error) {
      await ui.showError(checking, error);
    }
  }
}

/** Tabs as the terminal shows them (stops every 8 columns), so that lines are cut where they wrap. */
function expandTabs(line: string): string {
  let out = "";
  for (const char of line) out += char === "\t" ? " ".repeat(8 - (out.length % 8)) : char;
  return out;
}

/** A check's status word in colour (ok green, missing and wrong red, error yellow). */
function colourStatus(line: string): string {
  const status = /^(ok|missing|wrong|error) /.exec(line)?.[1];
  if (!status) return line;
  const colour = status === "ok" ? "green" : status === "error" ? "yellow" : "red";
  return styleText(colour, status) + line.slice(status.length);
}

/** Asks, then deletes; the server's refusal (domain in use) is shown in its own words. */
async function deleteDomain(ui: Ui, domain: WireObject, accounts: number): Promise<boolean> {
  const path = ["Domains", String(domain.name), "Delete"];
  ui.draw(path, [
    `Delete domain ${domain.name}?`,
    accounts
      ? `${accounts === 1 ? "1 account uses" : `${accounts} accounts use`} it: the server will refuse.`
      : "No account uses it.",
  ], [["y", "yes"], ["n/enter", "no"], ["esc", "cancel"]]);
  const sure = await ui.prompts.yesNo(`Delete ${domain.name}?`, false);
  if (sure !== true) return false;
  try {
    await ui.backend.client.delete("domain", String(domain.id));
  } catch (error) {
    await ui.showError(path, error);
    return false;
  }
  await ui.showDone(path, [`Deleted domain ${domain.name}.`]);
  return true;
}
