import type { AccountService, ObjectService } from "../../directory/mod.ts";

/** What the management types use. */
export interface ManagementDeps {
  objects: ObjectService;
  accounts: AccountService;
  maxQueryLimit: number;
}
