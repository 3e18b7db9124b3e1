/**
 * What the MX does with mail to a domain that fails DMARC (model/types.ts DmarcEnforcement); existing
 * domains follow the senders' policies, as a new one does.
 */
export const sql = `
ALTER TABLE domains ADD COLUMN dmarc_enforcement TEXT NOT NULL DEFAULT 'enforce'
  CHECK (dmarc_enforcement IN ('enforce', 'quarantineOnly', 'monitor'));
`;
