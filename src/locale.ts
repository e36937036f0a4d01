/**
 * Translation methods for generating localized strings: Tornado's `tornado.locale`.
 *
 * To load a locale and generate a translated string:
 *
 * ```ts
 * import * as locale from "tornado-ts/locale";
 * locale.loadTranslations("translations");
 * const userLocale = locale.get("es_LA");
 * console.log(userLocale.translate("Sign out"));
 * ```
 *
 * {@link get} returns the closest matching locale, not necessarily the one requested.
 * Pluralization takes extra arguments to {@link Locale.translate}:
 *
 * ```ts
 * const message = userLocale.translate("%(list)s is online", "%(list)s are online", people.length);
 * console.log(interpolate(message, { list: userLocale.list(people) }));
 * ```
 *
 * The first string is chosen if the count is 1, otherwise the second. Strings use Python's
 * named placeholders (`%(name)s`) so that translation files work unchanged in both
 * implementations; {@link interpolate} plays the part of Python's `%` operator.
 *
 * Applications call one of {@link loadTranslations} (a simple CSV format) or
 * {@link loadGettextTranslations} (gettext's `.mo` format). If neither is called,
 * {@link Locale.translate} returns the original string.
 *
 * Main exports: {@link get}, {@link Locale}, {@link CSVLocale}, {@link GettextLocale},
 * {@link loadTranslations}, {@link loadGettextTranslations}, {@link setDefaultLocale},
 * {@link getSupportedLocales}, {@link LOCALE_NAMES}, {@link interpolate}.
 */

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { decodeTranslationFile, parseCSV } from "./locale/csv.js";
import { LOCALE_NAMES } from "./locale/data.js";
import { GettextTranslations, pyStrip } from "./locale/gettext.js";
import { genLog } from "./log.js";

export { CSV_FIELD_LIMIT, CSVFieldLimitError, parseCSV } from "./locale/csv.js";
export { LOCALE_NAMES, type LocaleName } from "./locale/data.js";
export {
  GettextFormatError,
  GettextTranslations,
  PluralFormsError,
  parsePluralForms,
} from "./locale/gettext.js";

/** Separates a context from its message in gettext catalogs (`context\x04message`). */
export const CONTEXT_SEPARATOR = "\x04";

/** The plural indicators of a CSV translation row. */
export type PluralIndicator = "plural" | "singular" | "unknown";

/** CSV translations of one locale: English message → translation, per plural indicator. */
export type CSVTranslations = Partial<
  Record<PluralIndicator, ReadonlyMap<string, string> | Readonly<Record<string, string>>>
>;

/** Options of {@link loadTranslations}. */
export interface LoadTranslationsOptions {
  /**
   * Encoding of every file (Python codec names: `utf-8`, `utf-16`, `utf-8-sig`, `latin-1`,
   * or any WHATWG label). By default each file's BOM decides: UTF-16 or UTF-8.
   */
  encoding?: string;
}

/** Options of {@link Locale.formatDate}. */
export interface FormatDateOptions {
  /** Minutes to subtract from UTC to get local time (JavaScript's `getTimezoneOffset()`). @defaultValue 0 */
  gmtOffset?: number;
  /** Say "2 minutes ago", "yesterday at …" for recent dates. @defaultValue true */
  relative?: boolean;
  /** Leave out the time of day ("yesterday", "Monday", "April 28"). @defaultValue false */
  shorter?: boolean;
  /** Always use the full "April 28, 2013 at 6:35 pm" form. @defaultValue false */
  fullFormat?: boolean;
  /**
   * The current time (a `Date` or ms since the epoch) that relative dates are measured from.
   * @defaultValue `Date.now()`
   * @remarks Not in Tornado, which always reads the clock; it makes output reproducible.
   */
  now?: Date | number;
}

/** Options of {@link Locale.formatDay}. */
export interface FormatDayOptions {
  /** Minutes to subtract from UTC to get local time. @defaultValue 0 */
  gmtOffset?: number;
  /** Include the day of the week ("Sunday, April 28"). @defaultValue true */
  dow?: boolean;
}

/** {@link Locale.get} was asked for a locale that is not supported. */
export class UnsupportedLocaleError extends RangeError {
  override name = "UnsupportedLocaleError";
  /** Stable code for this error class. */
  readonly code = "ERR_LOCALE_UNSUPPORTED";
  /** The code asked for. */
  readonly locale: string;

  constructor(locale: string) {
    super(`locale ${JSON.stringify(locale)} is not supported`);
    this.locale = locale;
  }
}

/** A translation file that cannot be read or decoded (the path and `cause` say why). */
export class TranslationLoadError extends Error {
  override name = "TranslationLoadError";
  /** Stable code for this error class. */
  readonly code = "ERR_LOCALE_TRANSLATION_LOAD";
  /** The file. */
  readonly path: string;

  constructor(path: string, options?: ErrorOptions) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(`cannot load translations from ${path}${reason}`, options);
    this.path = path;
  }
}

// ---------------------------------------------------------------------------------------------
// Module state, as in Tornado: one set of translations per process.

type CSVTables = Map<PluralIndicator, Map<string, string>>;

let defaultLocale = "en_US";
let translations = new Map<string, CSVTables | GettextTranslations>();
let supportedLocales: ReadonlySet<string> = new Set([defaultLocale]);
const cache = new Map<string, Locale>();

function updateSupported(): void {
  supportedLocales = new Set([...translations.keys(), defaultLocale]);
}

/**
 * Returns the closest match for the given locale codes (see {@link Locale.getClosest}).
 *
 * Codes are tried in order; a tight or a loose match (`en` for `en_US`) wins. When none
 * matches, the default locale (`en_US` unless {@link setDefaultLocale} changed it).
 */
export function get(...localeCodes: readonly (string | null | undefined)[]): Locale {
  return Locale.getClosest(...localeCodes);
}

/**
 * Sets the default locale: the language of the strings in the application, which loaded
 * translations translate from, so it needs no translation file. It is always supported.
 * @param code - a locale code such as `en_US`.
 */
export function setDefaultLocale(code: string): void {
  defaultLocale = code;
  updateSupported();
}

/** Returns the supported locale codes: those with translations, and the default locale. */
export function getSupportedLocales(): ReadonlySet<string> {
  return new Set(supportedLocales);
}

/**
 * Loads translations from the CSV files `LOCALE.csv` (e.g. `es_GT.csv`) in a directory,
 * replacing any translations loaded before.
 *
 * Each row holds an English string, its translation and an optional plural indicator,
 * `plural`, `singular` or `unknown` (empty or missing means `unknown`); a string may have a
 * `singular` and a `plural` row. Strings use Python's named placeholders:
 *
 * ```
 * "I love you","Te amo"
 * "%(name)s liked this","A %(name)s les gustó esto","plural"
 * "%(name)s liked this","A %(name)s le gustó esto","singular"
 * ```
 *
 * Files are read with the "excel" CSV dialect (no spaces after the commas; fields are trimmed).
 * Rows with fewer than two fields are skipped; a row with an unknown plural indicator, and a
 * file whose name is not a locale code (`[a-z]+(_[A-Z]+)?`), are logged on `tornado.general`
 * and skipped.
 *
 * @param directory - the folder holding the `.csv` files (read synchronously).
 * @param options - `encoding`; by default each file's BOM selects UTF-16 or UTF-8.
 * @throws TranslationLoadError if the folder or a file cannot be read or decoded.
 * @remarks Unlike Tornado, each file's encoding is detected on its own (Tornado reuses the
 *   first file's), cached {@link Locale} objects are dropped so the new translations take
 *   effect, and a file name with several dots is logged and skipped rather than fatal.
 */
export function loadTranslations(directory: string, options: LoadTranslationsOptions = {}): void {
  const loaded = new Map<string, CSVTables>();
  for (const fileName of listDirectory(directory)) {
    if (!fileName.endsWith(".csv")) continue;
    const fullPath = join(directory, fileName);
    const locale = fileName.slice(0, -".csv".length);
    if (!/^[a-z]+(_[A-Z]+)?$/.test(locale)) {
      genLog.error("Unrecognized locale %s (path: %s)", pyRepr(locale), fullPath);
      continue;
    }
    let rows: string[][];
    try {
      rows = parseCSV(decodeTranslationFile(readFileSync(fullPath), options.encoding));
    } catch (err) {
      throw new TranslationLoadError(fullPath, { cause: err });
    }
    const tables: CSVTables = new Map();
    loaded.set(locale, tables);
    rows.forEach((rawRow, index) => {
      if (rawRow.length < 2) return;
      const row = rawRow.map(pyStrip);
      const english = row[0]!;
      const translation = row[1]!;
      const plural = row.length > 2 ? row[2] || "unknown" : "unknown";
      if (plural !== "plural" && plural !== "singular" && plural !== "unknown") {
        genLog.error(
          "Unrecognized plural indicator %s in %s line %d",
          pyRepr(plural),
          fileName,
          index + 1,
        );
        return;
      }
      let table = tables.get(plural);
      if (table === undefined) tables.set(plural, (table = new Map()));
      table.set(english, translation);
    });
  }
  translations = loaded;
  cache.clear();
  updateSupported();
  genLog.debug("Supported locales: %s", [...supportedLocales].sort().join(", "));
}

/**
 * Loads translations from a gettext locale tree, `{directory}/{lang}/LC_MESSAGES/{domain}.mo`,
 * replacing any translations loaded before.
 *
 * To translate an application: extract strings
 * (`xgettext --language=Python --keyword=_:1,2 -d mydomain …`), merge
 * (`msgmerge old.po mydomain.po > new.po`), compile
 * (`msgfmt mydomain.po -o {directory}/pt_BR/LC_MESSAGES/mydomain.mo`). For contexts add
 * `--keyword=pgettext:1c,2 --keyword=pgettext:1c,2,3`.
 *
 * A catalog that cannot be parsed is logged on `tornado.general` and skipped. As with
 * Python's `gettext`, a `{lang}` with a territory (`pt_BR`) falls back to the catalog of its
 * language (`pt`) when there is one.
 *
 * @param directory - the root of the tree (read synchronously).
 * @param domain - the catalog name, without `.mo`.
 * @throws TranslationLoadError if `directory` cannot be listed.
 * @remarks Python resolves `{lang}` through its locale alias table (so `fr` may pick up
 *   `fr_FR`'s catalog first) and caches parsed files for the life of the process; we read
 *   `{lang}` itself, then its language, afresh on every call, and drop cached Locales.
 */
export function loadGettextTranslations(directory: string, domain: string): void {
  const loaded = new Map<string, GettextTranslations>();
  const catalogPath = (lang: string) => join(directory, lang, "LC_MESSAGES", `${domain}.mo`);
  for (const lang of listDirectory(directory)) {
    // Python's glob("*") skips hidden entries.
    if (lang.startsWith(".") || !isFile(catalogPath(lang))) continue;
    try {
      const catalog = GettextTranslations.parse(readFileSync(catalogPath(lang)));
      const underscore = lang.indexOf("_");
      if (underscore > 0) {
        const languagePath = catalogPath(lang.slice(0, underscore));
        if (isFile(languagePath)) {
          catalog.addFallback(GettextTranslations.parse(readFileSync(languagePath)));
        }
      }
      loaded.set(lang, catalog);
    } catch (err) {
      genLog.error(
        "Cannot load translation for '%s': %s",
        lang,
        err instanceof Error ? err.message : String(err),
      );
    }
  }
  translations = loaded;
  cache.clear();
  updateSupported();
  genLog.debug("Supported locales: %s", [...supportedLocales].sort().join(", "));
}

function listDirectory(directory: string): string[] {
  try {
    return readdirSync(directory);
  } catch (err) {
    throw new TranslationLoadError(directory, { cause: err });
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Python's `repr()` of a string, for log messages that Tornado formats with `%r`. */
function pyRepr(s: string): string {
  return s.includes("'") && !s.includes('"')
    ? `"${s}"`
    : `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

// ---------------------------------------------------------------------------------------------
// Python's `%` operator with a mapping

/** One `%(key)…` placeholder of a template. */
interface Placeholder {
  readonly key: string;
  readonly flags: string;
  readonly width: number;
  readonly precision: number | undefined;
  readonly conversion: string;
}

/** A template split into literal text and placeholders. */
type CompiledTemplate = readonly (string | Placeholder)[];

/** The part of a placeholder after its `%`. */
const PLACEHOLDER_RE = /\(([^)]*)\)([-+ #0]*)(\d*)(?:\.(\d+))?([sdi])/y;
/** Compiled templates by text; translations are few, so formatting reuses them. */
const compiledTemplates = new Map<string, CompiledTemplate>();
/** Bound on {@link compiledTemplates}: past it the cache starts over. */
const MAX_COMPILED_TEMPLATES = 1024;

function compileTemplate(template: string): CompiledTemplate {
  const parts: (string | Placeholder)[] = [];
  let literal = "";
  let last = 0;
  for (let at = template.indexOf("%"); at >= 0; at = template.indexOf("%", last)) {
    literal += template.slice(last, at);
    if (template[at + 1] === "%") {
      literal += "%";
      last = at + 2;
      continue;
    }
    PLACEHOLDER_RE.lastIndex = at + 1;
    const m = PLACEHOLDER_RE.exec(template);
    if (m === null) throw new TypeError(`unsupported format at index ${at}: ${template}`);
    if (literal !== "") parts.push(literal);
    literal = "";
    parts.push({
      key: m[1]!,
      flags: m[2]!,
      width: m[3] === "" ? 0 : Number(m[3]),
      precision: m[4] === undefined ? undefined : Number(m[4]),
      conversion: m[5]!,
    });
    last = PLACEHOLDER_RE.lastIndex;
  }
  literal += template.slice(last);
  if (literal !== "") parts.push(literal);
  return parts;
}

function formatPlaceholder(p: Placeholder, value: unknown): string {
  let text: string;
  if (p.conversion === "s") {
    text = String(value);
    if (p.precision !== undefined) text = text.slice(0, p.precision);
  } else {
    if (typeof value !== "number" && typeof value !== "bigint" && typeof value !== "boolean") {
      throw new TypeError(
        `%${p.conversion} format: a real number is required, not ${typeof value}`,
      );
    }
    text = typeof value === "number" ? String(Math.trunc(value)) : String(BigInt(value));
    if (text === "-0") text = "0";
    if (!text.startsWith("-")) {
      if (p.flags.includes("+")) text = `+${text}`;
      else if (p.flags.includes(" ")) text = ` ${text}`;
    }
  }
  if (text.length >= p.width) return text;
  if (p.flags.includes("-")) return text.padEnd(p.width);
  if (p.flags.includes("0") && p.conversion !== "s") {
    const sign = /^[-+ ]/.test(text) ? text[0]! : "";
    return sign + text.slice(sign.length).padStart(p.width - sign.length, "0");
  }
  return text.padStart(p.width);
}

/**
 * Fills Python-style named placeholders, as Python's `template % values` does: `%(name)s`
 * (the value as a string), `%(name)d` / `%(name)i` (an integer, truncated), with optional
 * flags `-` (left-justify) and `0` (zero-pad), a width and, for `s`, a precision; `%%` is a
 * literal `%`.
 *
 * @param template - e.g. `"%(name)s liked this"`, typically a translation.
 * @param values - the values by name.
 * @returns the filled-in string.
 * @throws TypeError for a placeholder naming a missing value (Python's `KeyError`), a `%d`
 *   of something that is not a number, or a `%` not followed by a supported placeholder.
 * @example
 * interpolate("%(count)d new messages for %(name)s", { count: 3, name: "Ana" })
 * // "3 new messages for Ana"
 */
export function interpolate(
  template: string,
  values: Readonly<Record<string, unknown>> | ReadonlyMap<string, unknown>,
): string {
  let compiled = compiledTemplates.get(template);
  if (compiled === undefined) {
    compiled = compileTemplate(template);
    if (compiledTemplates.size >= MAX_COMPILED_TEMPLATES) compiledTemplates.clear();
    compiledTemplates.set(template, compiled);
  }
  const isMap = values instanceof Map;
  let out = "";
  for (const part of compiled) {
    if (typeof part === "string") {
      out += part;
      continue;
    }
    const has = isMap ? values.has(part.key) : Object.hasOwn(values, part.key);
    if (!has) throw new TypeError(`no value for placeholder %(${part.key})${part.conversion}`);
    const value = isMap ? values.get(part.key) : (values as Record<string, unknown>)[part.key];
    out += formatPlaceholder(part, value);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Dates

const MS_PER_DAY = 86_400_000;
const US_PER_MS = 1000n;
const US_PER_SECOND = 1_000_000n;
const US_PER_DAY = 86_400_000_000n;
/** 0001-01-01 and 10000-01-01 in ms since the epoch: Python's `datetime` range. */
const MIN_MS = -62_135_596_800_000;
const MAX_MS = 253_402_300_800_000;
/** Below this magnitude, whole-ms arithmetic on plain numbers is exact. */
const EXACT_MS = 1e15;

/** A date (or ms since the epoch) as ms since the epoch, checked. */
function toMs(date: Date | number, what: string): number {
  const ms = date instanceof Date ? date.getTime() : date;
  if (typeof ms !== "number") throw new TypeError(`${what} must be a Date or a number of ms`);
  if (!Number.isFinite(ms)) throw new RangeError(`${what} is not a valid date`);
  return ms;
}

function checkOffset(gmtOffset: number): number {
  if (typeof gmtOffset !== "number" || !Number.isFinite(gmtOffset)) {
    throw new TypeError("gmtOffset must be a finite number of minutes");
  }
  return gmtOffset;
}

/** ms (possibly fractional) as exact microseconds, rounded as Python rounds timestamps. */
function toMicros(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * US_PER_MS + BigInt(Math.round((ms - whole) * 1000));
}

/** Floor division for bigints (BigInt's `/` truncates). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** What formatDate needs of a date and now: Python's timedelta fields and local times. */
interface Span {
  /** The seconds field of `date - now` when the date is later than now; else -1. */
  readonly aheadSeconds: number;
  /** Whole days of `now - date`, floored (Python's `timedelta.days`). */
  readonly days: number;
  /** Seconds left after the days (Python's `timedelta.seconds`, 0-86399). */
  readonly seconds: number;
  /** The date and now shifted by the offset, whole ms (floored). */
  readonly localDateMs: number;
  readonly localNowMs: number;
}

function span(dateMs: number, nowMs: number, gmtOffset: number): Span {
  const offsetMs = gmtOffset * 60_000;
  if (
    Number.isInteger(dateMs) &&
    Number.isInteger(nowMs) &&
    Number.isInteger(offsetMs) &&
    Math.abs(dateMs) < EXACT_MS &&
    Math.abs(nowMs) < EXACT_MS &&
    Math.abs(offsetMs) < EXACT_MS
  ) {
    // Fast path: whole milliseconds, exact in plain numbers.
    const difference = nowMs - dateMs;
    let days = Math.floor(difference / MS_PER_DAY);
    let rest = difference - days * MS_PER_DAY;
    // Guards against the division rounding across a day boundary.
    if (rest < 0) {
      days -= 1;
      rest += MS_PER_DAY;
    } else if (rest >= MS_PER_DAY) {
      days += 1;
      rest -= MS_PER_DAY;
    }
    return {
      aheadSeconds: difference < 0 ? Math.floor((-difference % MS_PER_DAY) / 1000) : -1,
      days,
      seconds: Math.floor(rest / 1000),
      localDateMs: dateMs - offsetMs,
      localNowMs: nowMs - offsetMs,
    };
  }
  // Fractional milliseconds or offsets: exact microseconds, as Python's datetime keeps them.
  const dateUs = toMicros(dateMs);
  const nowUs = toMicros(nowMs);
  const offsetUs = BigInt(Math.round(gmtOffset * 60_000_000));
  const difference = nowUs - dateUs;
  const days = floorDiv(difference, US_PER_DAY);
  return {
    aheadSeconds: difference < 0n ? Number((-difference % US_PER_DAY) / US_PER_SECOND) : -1,
    days: Number(days),
    seconds: Number((difference - days * US_PER_DAY) / US_PER_SECOND),
    localDateMs: Number(floorDiv(dateUs - offsetUs, US_PER_MS)),
    localNowMs: Number(floorDiv(nowUs - offsetUs, US_PER_MS)),
  };
}

/** UTC calendar fields of a local time in ms; Python's datetime range only. */
function calendar(ms: number, what: string): Date {
  if (ms < MIN_MS || ms >= MAX_MS) throw new RangeError(`${what} is out of range (years 1-9999)`);
  return new Date(ms);
}

/** Python's `round()` of a float to an integer: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Monday-first weekday index of a UTC date, as Python's `weekday()`. */
function weekday(date: Date): number {
  return (date.getUTCDay() + 6) % 7;
}

// ---------------------------------------------------------------------------------------------
// Locales

/**
 * A locale: translations plus date, list and number formatting.
 *
 * Get one with {@link get} or {@link Locale.getClosest} after loading translations with
 * {@link loadTranslations} or {@link loadGettextTranslations}.
 */
export abstract class Locale {
  /** The locale code, e.g. `en_US`. */
  readonly code: string;
  /** The locale's name in its own language (from {@link LOCALE_NAMES}), or `"Unknown"`. */
  readonly name: string;
  /** True for right-to-left languages: codes starting with `fa`, `ar` or `he`. */
  readonly rtl: boolean;
  #months: readonly string[] | null = null;
  #weekdays: readonly string[] | null = null;

  /**
   * Returns the closest supported locale for the given codes.
   *
   * Each code has `-` replaced by `_`; a two-part code is normalised to `ll_CC`; a code with
   * more than two parts, or an empty one, is skipped. The full code is tried, then its
   * language alone (`en` for `en_US`); the first supported one wins. Else the default locale.
   */
  static getClosest(...localeCodes: readonly (string | null | undefined)[]): Locale {
    for (const given of localeCodes) {
      if (!given) continue;
      let code = given.replace(/-/g, "_");
      const parts = code.split("_");
      if (parts.length > 2) continue;
      if (parts.length === 2) code = `${parts[0]!.toLowerCase()}_${parts[1]!.toUpperCase()}`;
      if (supportedLocales.has(code)) return Locale.get(code);
      const language = parts[0]!.toLowerCase();
      if (supportedLocales.has(language)) return Locale.get(language);
    }
    return Locale.get(defaultLocale);
  }

  /**
   * Returns the Locale for a supported code, created once and cached (until translations
   * are loaded again): a {@link GettextLocale} after {@link loadGettextTranslations}, else a
   * {@link CSVLocale}. The default locale needs no translations.
   * @throws UnsupportedLocaleError if the code is not supported ({@link getSupportedLocales}).
   */
  static get(code: string): Locale {
    let locale = cache.get(code);
    if (locale === undefined) {
      if (!supportedLocales.has(code)) throw new UnsupportedLocaleError(code);
      const loaded = translations.get(code);
      if (loaded === undefined) locale = new CSVLocale(code, {});
      else if (loaded instanceof GettextTranslations) locale = new GettextLocale(code, loaded);
      else locale = new CSVLocale(code, loaded);
      cache.set(code, locale);
    }
    return locale;
  }

  constructor(code: string) {
    this.code = code;
    this.name = Object.hasOwn(LOCALE_NAMES, code) ? LOCALE_NAMES[code]!.name : "Unknown";
    this.rtl = ["fa", "ar", "he"].some((prefix) => code.startsWith(prefix));
  }

  /**
   * Returns the translation of `message` in this locale.
   *
   * With `pluralMessage`, `count` is required: the plural form is chosen for `count != 1`,
   * the singular for 1 (gettext catalogs apply their own plural formula).
   * @throws TypeError if `pluralMessage` is given without `count`.
   */
  abstract translate(message: string, pluralMessage?: string, count?: number): string;

  /**
   * Returns the translation of `message` in `context` (e.g. `pgettext("law", "right")` versus
   * `pgettext("good", "right")`), with plurals as in {@link Locale.translate}.
   * @throws TypeError if `pluralMessage` is given without `count`.
   */
  abstract pgettext(
    context: string,
    message: string,
    pluralMessage?: string,
    count?: number,
  ): string;

  /** The month names, January first, translated. */
  #monthNames(): readonly string[] {
    // Built on first use: subclasses set their translations after this constructor runs.
    this.#months ??= [
      "January",
      "February",
      "March",
      "April",
      "May",
      "June",
      "July",
      "August",
      "September",
      "October",
      "November",
      "December",
    ].map((month) => this.translate(month));
    return this.#months;
  }

  /** The weekday names, Monday first, translated. */
  #weekdayNames(): readonly string[] {
    this.#weekdays ??= [
      "Monday",
      "Tuesday",
      "Wednesday",
      "Thursday",
      "Friday",
      "Saturday",
      "Sunday",
    ].map((day) => this.translate(day));
    return this.#weekdays;
  }

  /**
   * Formats a UTC date, by default relative to now: "2 seconds ago", "5 minutes ago",
   * "3 hours ago" (under a day), "yesterday at 6:35 pm", "Monday at 6:35 pm" (under 5
   * days), "April 28 at 6:35 pm" (under 334 days), else "April 28, 2013 at 6:35 pm".
   *
   * Counts round half to even, as Python's `round()`. `relative: false` gives just the time for
   * dates under a day old, and no "yesterday". `shorter` drops the time of day (except for
   * the "ago" forms). `fullFormat` forces the last form. Dates in the future use the full
   * form, except that in relative mode a date less than a minute ahead (Tornado compares the
   * seconds part of the difference only) counts as now, forgiving clock skew.
   *
   * Times are 12-hour with am/pm for `en` and `en_US`, 12-hour with 上午/下午 for `zh_CN`,
   * 24-hour otherwise. Words and patterns come from the locale's translations.
   *
   * @param date - a `Date` or ms since the epoch (UTC); a number may carry a fraction, kept to
   *   the microsecond as Python's `datetime` keeps it.
   * @param options - `gmtOffset` (minutes, subtracted to get local time), `relative`,
   *   `shorter`, `fullFormat`, `now`.
   * @remarks Tornado takes a `datetime` or seconds since the epoch; we take milliseconds.
   * @throws TypeError / RangeError for an invalid date or offset, or one outside years
   *   1–9999 after the offset.
   */
  formatDate(date: Date | number, options: FormatDateOptions = {}): string {
    const relative = options.relative ?? true;
    const shorter = options.shorter ?? false;
    let fullFormat = options.fullFormat ?? false;
    const gmtOffset = checkOffset(options.gmtOffset ?? 0);
    const dateMs = toMs(date, "date");
    const nowMs = toMs(options.now ?? Date.now(), "now");
    const measured = span(dateMs, nowMs, gmtOffset);
    let { days, seconds, localDateMs, localNowMs } = measured;
    if (measured.aheadSeconds >= 0) {
      // Tornado compares the seconds field of the difference only (not its days).
      if (relative && measured.aheadSeconds < 60) {
        ({ days, seconds, localDateMs, localNowMs } = span(nowMs, nowMs, gmtOffset));
      } else {
        fullFormat = true;
      }
    }
    const localDate = calendar(localDateMs, "date");
    const localYesterday = calendar(localNowMs, "now");
    localYesterday.setTime(localNowMs - MS_PER_DAY);
    const _ = (message: string, plural?: string, count?: number) =>
      this.translate(message, plural, count);
    let format: string | null = null;
    if (!fullFormat) {
      if (relative && days === 0) {
        if (seconds < 50) {
          return interpolate(_("1 second ago", "%(seconds)d seconds ago", seconds), { seconds });
        }
        if (seconds < 50 * 60) {
          const minutes = roundHalfEven(seconds / 60);
          return interpolate(_("1 minute ago", "%(minutes)d minutes ago", minutes), { minutes });
        }
        const hours = roundHalfEven(seconds / 3600);
        return interpolate(_("1 hour ago", "%(hours)d hours ago", hours), { hours });
      }
      if (days === 0) {
        format = _("%(time)s");
      } else if (days === 1 && localDate.getUTCDate() === localYesterday.getUTCDate() && relative) {
        format = shorter ? _("yesterday") : _("yesterday at %(time)s");
      } else if (days < 5) {
        format = shorter ? _("%(weekday)s") : _("%(weekday)s at %(time)s");
      } else if (days < 334) {
        // 11 months: "April 28" could mean last year's April 28 a year on.
        format = shorter ? _("%(month_name)s %(day)s") : _("%(month_name)s %(day)s at %(time)s");
      }
    }
    format ??= shorter
      ? _("%(month_name)s %(day)s, %(year)s")
      : _("%(month_name)s %(day)s, %(year)s at %(time)s");

    const hour = localDate.getUTCHours();
    const minute = String(localDate.getUTCMinutes()).padStart(2, "0");
    let time: string;
    if (this.code === "zh_CN") {
      time = `${hour >= 12 ? "\u4e0b\u5348" : "\u4e0a\u5348"}${hour % 12 || 12}:${minute}`;
    } else if (this.code === "en" || this.code === "en_US") {
      time = `${hour % 12 || 12}:${minute} ${hour >= 12 ? "pm" : "am"}`;
    } else {
      time = `${hour}:${minute}`;
    }
    return interpolate(format, {
      month_name: this.#monthNames()[localDate.getUTCMonth()],
      weekday: this.#weekdayNames()[weekday(localDate)],
      day: String(localDate.getUTCDate()),
      year: String(localDate.getUTCFullYear()),
      time,
    });
  }

  /**
   * Formats a date as a day: "Monday, January 22", or "January 22" with `dow: false`.
   * @param date - a `Date` or ms since the epoch (UTC).
   * @param options - `gmtOffset` (minutes, subtracted to get local time), `dow`.
   * @throws TypeError / RangeError for an invalid date or offset.
   */
  formatDay(date: Date | number, options: FormatDayOptions = {}): string {
    const dateMs = toMs(date, "date");
    const local = calendar(
      span(dateMs, dateMs, checkOffset(options.gmtOffset ?? 0)).localDateMs,
      "date",
    );
    const values = {
      month_name: this.#monthNames()[local.getUTCMonth()],
      weekday: this.#weekdayNames()[weekday(local)],
      day: String(local.getUTCDate()),
    };
    return (options.dow ?? true)
      ? interpolate(this.translate("%(weekday)s, %(month_name)s %(day)s"), values)
      : interpolate(this.translate("%(month_name)s %(day)s"), values);
  }

  /**
   * Joins a list for display: "A, B and C", "A and B", "A", or "" (the "and" pattern is
   * translated; Persian joins with " و " instead of ", ").
   */
  list(parts: readonly string[]): string {
    if (parts.length === 0) return "";
    if (parts.length === 1) return parts[0]!;
    const comma = this.code.startsWith("fa") ? " \u0648 " : ", ";
    return interpolate(this.translate("%(commas)s and %(last)s"), {
      commas: parts.slice(0, -1).join(comma),
      last: parts[parts.length - 1],
    });
  }

  /**
   * Formats an integer with thousands separators ("1,000,000") in `en` and `en_US`; other
   * locales get the plain digits.
   * @throws TypeError if `value` is not an integer (a number or a bigint).
   * @remarks Tornado separates a negative number's minus sign like a digit ("-,100"); we
   *   keep the sign in front ("-100").
   */
  friendlyNumber(value: number | bigint): string {
    if (typeof value !== "bigint" && !Number.isInteger(value)) {
      throw new TypeError(`friendlyNumber expects an integer, got ${value}`);
    }
    // BigInt prints every digit where String() would switch to exponent notation (>= 1e21).
    const digits =
      typeof value === "number" && Number.isSafeInteger(value)
        ? String(value)
        : BigInt(value).toString();
    if (this.code !== "en" && this.code !== "en_US") return digits;
    return digits.replace(/\B(?=(?:\d{3})+$)/g, ",");
  }
}

function requireCount(count: number | undefined): number {
  if (count === undefined) throw new TypeError("a plural message needs a count");
  return count;
}

/** A locale using Tornado's CSV translations (see {@link loadTranslations}). */
export class CSVLocale extends Locale {
  /** English message → translation, per plural indicator. */
  readonly translations: ReadonlyMap<PluralIndicator, ReadonlyMap<string, string>>;

  /**
   * @param code - the locale code.
   * @param translations - English message → translation tables by plural indicator
   *   (Maps or plain objects).
   */
  constructor(
    code: string,
    translations: CSVTranslations | ReadonlyMap<PluralIndicator, ReadonlyMap<string, string>>,
  ) {
    super(code);
    const tables = new Map<PluralIndicator, ReadonlyMap<string, string>>();
    for (const kind of ["plural", "singular", "unknown"] as const) {
      const table =
        translations instanceof Map
          ? translations.get(kind)
          : (translations as CSVTranslations)[kind];
      if (table === undefined) continue;
      tables.set(kind, table instanceof Map ? table : new Map(Object.entries(table)));
    }
    this.translations = tables;
  }

  translate(message: string, pluralMessage?: string, count?: number): string {
    let table: ReadonlyMap<string, string> | undefined;
    if (pluralMessage !== undefined) {
      if (requireCount(count) !== 1) {
        message = pluralMessage;
        table = this.translations.get("plural");
      } else {
        table = this.translations.get("singular");
      }
    } else {
      table = this.translations.get("unknown");
    }
    return table?.get(message) ?? message;
  }

  /**
   * CSV files have no contexts: logs a warning (when this locale has translations) and
   * returns {@link CSVLocale.translate} of the message.
   */
  pgettext(context: string, message: string, pluralMessage?: string, count?: number): string {
    if (this.translations.size > 0) genLog.warning("pgettext is not supported by CSVLocale");
    return this.translate(message, pluralMessage, count);
  }
}

/** A locale using a gettext catalog (see {@link loadGettextTranslations}). */
export class GettextLocale extends Locale {
  /** The catalog. */
  readonly translations: GettextTranslations;

  constructor(code: string, translations: GettextTranslations) {
    super(code);
    this.translations = translations;
  }

  translate(message: string, pluralMessage?: string, count?: number): string {
    if (pluralMessage !== undefined) {
      return this.translations.ngettext(message, pluralMessage, requireCount(count));
    }
    return this.translations.gettext(message);
  }

  /**
   * Looks up `context\x04message` (and its plural); when the catalog has no such entry,
   * translates the message without context (the plural case) or returns it as is.
   * @example
   * locale.pgettext("organization", "club", "clubs", clubs.length)
   */
  pgettext(context: string, message: string, pluralMessage?: string, count?: number): string {
    if (pluralMessage !== undefined) {
      const n = requireCount(count);
      const result = this.translations.ngettext(
        `${context}${CONTEXT_SEPARATOR}${message}`,
        `${context}${CONTEXT_SEPARATOR}${pluralMessage}`,
        n,
      );
      return result.includes(CONTEXT_SEPARATOR)
        ? this.translations.ngettext(message, pluralMessage, n)
        : result;
    }
    const result = this.translations.gettext(`${context}${CONTEXT_SEPARATOR}${message}`);
    return result.includes(CONTEXT_SEPARATOR) ? message : result;
  }
}
