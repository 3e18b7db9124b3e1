/**
 * Modified UTF-7 mailbox names (RFC 3501 §5.1.3), for clients that have not enabled UTF8=ACCEPT:
 * printable US-ASCII stands for itself, `&` is `&-`, and every other run of characters is UTF-16BE
 * in modified BASE64 (`,` for `/`, no padding) between `&` and `-`.
 *
 * The decoder is strict, so one mailbox has one spelling: it refuses 8-bit and control bytes, an
 * unterminated or malformed shift, leftover bits, lone surrogates, two runs in a row, and printable
 * ASCII written in BASE64 (the RFC forbids both).
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

function printable(code: number): boolean {
  return code >= 0x20 && code <= 0x7e;
}

/** Encodes a mailbox name (any Unicode string) as modified UTF-7. */
export function encodeModifiedUtf7(name: string): string {
  let out = "";
  let i = 0;
  while (i < name.length) {
    const code = name.charCodeAt(i);
    if (printable(code)) {
      out += code === 0x26 ? "&-" : name[i];
      i++;
      continue;
    }
    // A run of non-printable characters, as UTF-16 code units in modified BASE64.
    let bits = 0;
    let value = 0;
    out += "&";
    while (i < name.length && !printable(name.charCodeAt(i))) {
      value = (value << 16) | name.charCodeAt(i++);
      bits += 16;
      while (bits >= 6) {
        bits -= 6;
        out += ALPHABET[(value >> bits) & 0x3f];
      }
      value &= (1 << bits) - 1;
    }
    if (bits > 0) out += ALPHABET[(value << (6 - bits)) & 0x3f];
    out += "-";
  }
  return out;
}

/** Decodes a modified UTF-7 mailbox name; throws an Error saying what is wrong with it. */
export function decodeModifiedUtf7(name: string): string {
  let out = "";
  let i = 0;
  while (i < name.length) {
    const code = name.charCodeAt(i);
    if (!printable(code)) throw new Error("8-bit or control character");
    if (code !== 0x26) {
      out += name[i++];
      continue;
    }
    const end = name.indexOf("-", i + 1);
    if (end < 0) throw new Error("unterminated &-shift");
    if (end === i + 1) {
      out += "&";
      i = end + 1;
      continue;
    }
    out += decodeShift(name.slice(i + 1, end));
    i = end + 1;
    if (name[i] === "&" && name[i + 1] !== "-") throw new Error("two BASE64 runs in a row");
  }
  return out;
}

/** Decodes the BASE64 between `&` and `-`. */
function decodeShift(encoded: string): string {
  let bits = 0;
  let value = 0;
  const units: number[] = [];
  for (let k = 0; k < encoded.length; k++) {
    const code = encoded.charCodeAt(k);
    const digit = code < 128 ? VALUE[code] : -1;
    if (digit < 0) throw new Error(`"${encoded[k]}" in a BASE64 run`);
    value = ((value << 6) | digit) & 0xffffff;
    bits += 6;
    if (bits >= 16) {
      bits -= 16;
      units.push((value >> bits) & 0xffff);
    }
  }
  if (bits >= 6 || (value & ((1 << bits) - 1)) !== 0) throw new Error("leftover bits in a BASE64 run");
  if (units.length === 0) throw new Error("empty BASE64 run");
  let out = "";
  for (let k = 0; k < units.length; k++) {
    const unit = units[k];
    if (printable(unit)) throw new Error("printable ASCII in a BASE64 run");
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low = units[k + 1];
      if (low === undefined || low < 0xdc00 || low > 0xdfff) throw new Error("lone surrogate");
      out += String.fromCharCode(unit, low);
      k++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) throw new Error("lone surrogate");
    else out += String.fromCharCode(unit);
  }
  return out;
}
