/**
 * Indexes for paging through accounts in name order (x:Account/query): without them a page at
 * position 5,000 of 10,000 sorts the table first (figure 5 of `deno task bench --only query` pages
 * through 10,000 accounts).
 */
export const sql = `
CREATE INDEX accounts_name_order ON accounts(name COLLATE NOCASE, id);
CREATE INDEX accounts_type_name_order ON accounts(type, name COLLATE NOCASE, id);
`;
