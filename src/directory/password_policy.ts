/** A password strong enough for a human account: long enough and not a well-known or trivial one. */

/** Policy settings (from the Authentication settings object). */
export interface PasswordPolicy {
  minLength: number;
}

const COMMON = new Set([
  "password",
  "password1",
  "password123",
  "12345678",
  "123456789",
  "1234567890",
  "qwertyuiop",
  "qwerty123",
  "iloveyou",
  "11111111",
  "00000000",
  "abc12345",
  "letmein1",
  "welcome1",
  "admin123",
  "passw0rd",
  "changeme",
  "sunshine",
  "football",
  "baseball",
  "trustno1",
  "superman",
  "princess",
  "starwars",
  "whatever",
  "monkey123",
]);

/** Returns why a password is too weak, or undefined when it is acceptable. */
export function passwordWeakness(password: string, policy: PasswordPolicy): string | undefined {
  const length = [...password].length;
  if (length < policy.minLength) {
    return `password is too weak: it has ${length} characters, at least ${policy.minLength} are required`;
  }
  if (COMMON.has(password.toLowerCase())) {
    return "password is too weak: it is one of the most common passwords";
  }
  if (new Set(password).size < 4) return "password is too weak: it repeats too few different characters";
  return undefined;
}
