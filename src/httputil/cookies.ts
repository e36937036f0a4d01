// parse_cookie: the Cookie request header parsed the way browsers write it.

import { pyStrip } from "./text.js";

// Python's http.cookies._unquote: `\ooo` (octal, first digit 0-3) or `\x` for any x but LF.
// One global replace is a single linear pass, so a value full of backslashes cannot make it
// quadratic (CVE-2024-52804).
const UNQUOTE_RE = /\\(?:([0-3][0-7][0-7])|([^\n]))/g;

function unquoteReplace(_match: string, octal: string | undefined, ch: string | undefined): string {
  return octal !== undefined ? String.fromCharCode(Number.parseInt(octal, 8)) : ch!;
}

/** Removes the double quotes around a cookie value and decodes its backslash escapes. */
function unquoteCookie(s: string): string {
  if (s.length < 2 || s.charCodeAt(0) !== 0x22 || s.charCodeAt(s.length - 1) !== 0x22) return s;
  s = s.slice(1, -1);
  return s.includes("\\") ? s.replace(UNQUOTE_RE, unquoteReplace) : s;
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
