// parse_cookie: the Cookie request header parsed the way browsers write it.

import { pyStrip } from "./text.js";

function isOctal(c: number, max: number): boolean {
  return c >= 0x30 && c <= max;
}

/**
 * Removes the double quotes around a cookie value and decodes its backslash escapes as
 * Python's `http.cookies._unquote` does: `\ooo` (octal, first digit 0-3) is that byte's
 * character, `\x` is `x` for any x but LF. One pass from backslash to backslash, so a value
 * full of backslashes stays linear (CVE-2024-52804).
 */
function unquoteCookie(s: string): string {
  const n = s.length;
  if (n < 2 || s.charCodeAt(0) !== 0x22 || s.charCodeAt(n - 1) !== 0x22) return s;
  const end = n - 1;
  const slash = s.indexOf("\\", 1);
  if (slash === -1 || slash >= end) return s.slice(1, end);
  // Decoded code units go into one preallocated buffer (the result is never longer than the
  // input), then become a string in one step: appending a character per escape would build a
  // rope of a million pieces for a value full of backslashes.
  const out = new Uint16Array(end - 1);
  let o = 0;
  for (let i = 1; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x5c) {
      out[o++] = c;
      continue;
    }
    const next = i + 1;
    if (
      next + 2 < end &&
      isOctal(s.charCodeAt(next), 0x33) &&
      isOctal(s.charCodeAt(next + 1), 0x37) &&
      isOctal(s.charCodeAt(next + 2), 0x37)
    ) {
      out[o++] =
        ((s.charCodeAt(next) - 0x30) << 6) |
        ((s.charCodeAt(next + 1) - 0x30) << 3) |
        (s.charCodeAt(next + 2) - 0x30);
      i = next + 2;
    } else if (next < end && s.charCodeAt(next) !== 0x0a) {
      out[o++] = s.charCodeAt(next);
      i = next;
    } else {
      out[o++] = c;
    }
  }
  return codeUnitsToString(out, o);
}

// String.fromCharCode over slices of the buffer: bounded argument count per call, and lone
// surrogates pass through unchanged (a UTF-16 TextDecoder would replace them).
function codeUnitsToString(units: Uint16Array, length: number): string {
  const STEP = 8192;
  let result = "";
  for (let i = 0; i < length; i += STEP) {
    result += String.fromCharCode.apply(
      null,
      units.subarray(i, Math.min(i + STEP, length)) as unknown as number[],
    );
  }
  return result;
}

/**
 * Parses a `Cookie` header into name → value, the way browsers behave rather than as the
 * cookie RFCs say (the algorithm of Django 1.9.10, as Tornado uses).
 *
 * Pairs are split on every `;` (even inside quotes); a chunk without `=` is a value with the
 * empty name; names and values are stripped of whitespace; a value in double quotes is
 * unquoted (`\"` → `"`, `\042` → `"`); a pair with empty name and value is dropped; a later
 * pair replaces an earlier one of the same name. Runs in time linear in the header length.
 *
 * @returns an object without prototype (so `__proto__` is an ordinary cookie name).
 * @example
 * ```ts
 * parseCookie('a=b; c="d\\"e"; f'); // { a: "b", c: 'd"e', "": "f" }
 * ```
 */
export function parseCookie(cookie: string): Record<string, string> {
  const result: Record<string, string> = Object.create(null);
  let start = 0;
  const n = cookie.length;
  // The next "=" at or after `start`, found again only once passed: a fresh search per chunk
  // could rescan the rest of the header for every "="-less chunk (quadratic).
  let eq = -2;
  while (start <= n) {
    let end = cookie.indexOf(";", start);
    if (end === -1) end = n;
    if (eq !== -1 && eq < start) eq = cookie.indexOf("=", start);
    let key: string;
    let value: string;
    if (eq !== -1 && eq < end) {
      key = pyStrip(cookie.slice(start, eq));
      value = pyStrip(cookie.slice(eq + 1, end));
    } else {
      // No "=": an unnamed value (https://bugzilla.mozilla.org/show_bug.cgi?id=169091).
      key = "";
      value = pyStrip(cookie.slice(start, end));
    }
    if (key !== "" || value !== "") result[key] = unquoteCookie(value);
    start = end + 1;
  }
  return result;
}
