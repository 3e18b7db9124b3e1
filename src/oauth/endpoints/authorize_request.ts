/** A checked authorization request, as a flow remembers it. */
export interface AuthorizeRequest {
  redirectUri: string;
  scopes: string[];
  state?: string;
  nonce?: string;
  codeChallenge: string;
  prompt: string[];
  maxAge?: number;
  loginHint?: string;
  /** The account an `id_token_hint` names: only it may be the one signed in (OIDC Core §3.1.2.1). */
  hintedAccountId?: number;
}
