/** Values as the admin UI shows and reads them: sizes, durations, lists in wire form. */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

const SIZE = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)?\s*$/i;

/** "10G", "500 MiB", "1024" → bytes (binary units); undefined when it is not a size. */
export function parseSize(text: string): number | undefined {
  const match = SIZE.exec(text);
  if (!match) return undefined;
  const power = { b: 0, k: 1, m: 2, g: 3, t: 4 }[(match[2] ?? "b")[0].toLowerCase() as "b"];
  const bytes = Math.round(Number(match[1]) * 1024 ** power);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** 5400 → "1h30m"; 0 → "0s". */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  if (seconds === 0) return "0s";
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [["d", 86_400], ["h", 3600], ["m", 60], ["s", 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join("");
}

/** A wire list (an array, or an object keyed "0", "1", …) as an array. */
export function wireList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (value && typeof value === "object") {
    return Object.entries(value).sort(([a], [b]) => Number(a) - Number(b)).map(([, v]) => v);
  }
  return [];
}

/** A value in one line of a table or form. */
export function showValue(value: unknown): string {
  if (value === null || value === undefined) return "–";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (typeof record["@type"] === "string") {
      const detail = record.variableName ?? record.filePath ?? record.secret;
      return `${record["@type"]}${detail ? ` ${detail}` : ""}`;
    }
    const list = wireList(value);
    if (list.length || Array.isArray(value) || Object.keys(record).every((k) => /^\d+$/.test(k))) {
      return list.length ? list.map(showValue).join(", ") : "(none)";
    }
    return JSON.stringify(value);
  }
  return String(value);
}

/** A random password of 20 characters from an alphabet without look-alikes (about 115 bits). */
export function generatePassword(length = 20): string {
  const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const out: string[] = [];
  // Rejection sampling keeps every character equally likely.
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < 256 - (256 % alphabet.length) && out.length < length) {
        out.push(alphabet[byte % alphabet.length]);
      }
    }
  }
  return out.join("");
}

/** A rough strength in words, from the length and the kinds of characters used. */
export function passwordStrength(password: string): string {
  const kinds = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z\d]/].filter((re) => re.test(password)).length;
  const pool = [0, 26, 52, 62, 94][kinds];
  const bits = Math.round([...password].length * Math.log2(Math.max(pool, 2)));
  const word = bits < 40 ? "weak" : bits < 64 ? "fair" : bits < 90 ? "strong" : "very strong";
  return `${word} (about ${bits} bits)`;
}

/** "3 in the last hour (wrong passwords, every process)". */
export function failedLogins(count: number): string {
  return `${count} in the last hour (wrong passwords, at the server and here)`;
}
