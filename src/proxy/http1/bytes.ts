// Byte classes and comparisons shared by the head parser and the chunked decoder. Each class
// is a 256-entry table so a hot loop tests a byte with one indexed load instead of a chain of
// comparisons or a regex.

export const HTAB = 0x09;
export const LF = 0x0a;
export const CR = 0x0d;
export const SP = 0x20;
export const COLON = 0x3a;
export const SEMICOLON = 0x3b;

function table(accepts: (byte: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = accepts(b) ? 1 : 0;
  return t;
}

const isAlnum = (b: number): boolean => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
const oneOf = (chars: string) => (b: number): boolean => chars.includes(String.fromCharCode(b));

/** RFC 9110 `tchar`: the bytes of a method, a field name or a transfer coding. */
export const TCHAR = table((b) => isAlnum(b) || oneOf("!#$%&'*+-.^_`|~")(b));

/** RFC 9110 `field-vchar` plus SP and HTAB: what may sit inside a field value or a reason phrase (no controls, no DEL). */
export const FIELD_VALUE = table((b) => b === HTAB || (b >= 0x20 && b !== 0x7f));

/** Bytes of a request-target: visible ASCII and obs-text, as nginx accepts (no SP, controls or DEL). */
export const TARGET = table((b) => b > 0x20 && b !== 0x7f);

/** Bytes of a host (reg-name, IP literal, port): no `/`, `@`, `\`, space or controls can reach the router. */
export const HOST = table((b) => isAlnum(b) || oneOf("-._~!$&'()*+,;=:[]%")(b));

/** Value of a hex digit, or -1. */
export const HEX_VALUE = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let d = 0; d < 10; d++) t[0x30 + d] = d;
  for (let d = 0; d < 6; d++) {
    t[0x41 + d] = 10 + d;
    t[0x61 + d] = 10 + d;
  }
  return t;
})();

/**
 * Whether buf[start, start + lower.length) equals `lower` ignoring ASCII case. `lower` holds only
 * lower-case letters, digits and `-`; OR-ing 0x20 folds A-Z onto a-z, and no byte that may sit
 * in a field name or value folds onto one of those characters by accident.
 */
export function equalsLowerCase(buf: Buffer, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    if ((buf[start + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Whether buf[start, start + text.length) equals `text` byte for byte. */
export function equalsExactly(buf: Buffer, start: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (buf[start + i] !== text.charCodeAt(i)) return false;
  }
  return true;
}
