/**
 * Indexes for paging through accounts in name order (x:Account/query): without them a page at
 * position 5,000 of 10,000 sorts the table first (2.1 ms against 0.13 ms with the index).
 */
export const sql = `
CREATE INDEX accounts_name_order ON accounts(name COLLATE NOCASE, id);
CREATE INDEX accounts_type_name_order ON accounts(type, name COLLATE NOCASE, id);
`;
