// tornado.locale: locale lookup, CSV and gettext translations, date/day/list/number formatting.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import {
  CONTEXT_SEPARATOR,
  CSVLocale,
  get,
  getSupportedLocales,
  GettextLocale,
  interpolate,
  loadGettextTranslations,
  loadTranslations,
  Locale,
  LOCALE_NAMES,
  setDefaultLocale,
  TranslationLoadError,
  UnsupportedLocaleError,
} from "../src/locale.js";
import { ExpectLog } from "../src/testing.js";
import { moHeader, writeMo } from "./helpers/mo.js";
import { needPeer } from "./helpers/peers.js";

/** A temporary folder with the given files (paths relative to it), removed after the test. */
function folder(t: TestContext, files: Record<string, string | Uint8Array> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "tornado-ts-locale-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

/** Back to Tornado's initial state: no translations, en_US default. */
function reset(t: TestContext): void {
  setDefaultLocale("en_US");
  loadTranslations(folder(t));
}

const FRENCH_CSV = [
  '"school","\u00e9cole"',
  '"%(name)s liked this","A %(name)s les gust\u00f3 esto","plural"',
  '"%(name)s liked this","A %(name)s le gust\u00f3 esto","singular"',
  '"Sunday","dimanche"',
  '"April","avril"',
  '"%(weekday)s, %(month_name)s %(day)s","%(weekday)s %(day)s %(month_name)s"',
  "",
].join("\n");

const NOW = Date.UTC(2026, 10, 21, 23, 30, 0); // Saturday, November 21, 2026, 23:30:00 UTC
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// ---------------------------------------------------------------------------------------------
// Translations

test("CSV translations load into CSVLocale [test_csv]", (t) => {
  reset(t);
  loadTranslations(folder(t, { "fr_FR.csv": FRENCH_CSV }));
  const locale = get("fr_FR");
  assert.ok(locale instanceof CSVLocale);
  assert.equal(locale.translate("school"), "\u00e9cole");
  assert.equal(locale.translate("unknown string"), "unknown string");
  assert.equal(
    locale.translate("%(name)s liked this", "%(name)s liked this", 1),
    "A %(name)s le gust\u00f3 esto",
  );
  assert.equal(
    locale.translate("%(name)s liked this", "%(name)s liked this", 3),
    "A %(name)s les gust\u00f3 esto",
  );
  assert.equal(locale.translate("one dog", "%(n)s dogs", 2), "%(n)s dogs", "untranslated plural");
  assert.equal(locale.translate("one dog", "%(n)s dogs", 1), "one dog");
  assert.deepEqual([...getSupportedLocales()].sort(), ["en_US", "fr_FR"]);
});

test("CSV files with a UTF-8 or UTF-16 byte-order mark load [test_csv_bom]", (t) => {
  reset(t);
  const utf16le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(FRENCH_CSV, "utf16le")]);
  const utf16be = Buffer.from(utf16le);
  utf16be.swap16();
  const encodings: Record<string, Buffer> = {
    "utf-8-sig": Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(FRENCH_CSV)]),
    "utf-16 (LE)": utf16le,
    "utf-16 (BE)": utf16be,
  };
  for (const [name, data] of Object.entries(encodings)) {
    loadTranslations(folder(t, { "fr_FR.csv": data }));
    const locale = get("fr_FR");
    assert.ok(locale instanceof CSVLocale, name);
    assert.equal(locale.translate("school"), "\u00e9cole", name);
  }
});

test("a named encoding is used for every file", (t) => {
  reset(t);
  const latin1 = Buffer.from('"school","\u00e9cole"\n', "latin1");
  loadTranslations(folder(t, { "fr_FR.csv": latin1 }), { encoding: "latin-1" });
  assert.equal(get("fr_FR").translate("school"), "\u00e9cole");
  // Plain utf-8 keeps a BOM as part of the first field, as Python's codec does.
  const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('"a","b"\n')]);
  loadTranslations(folder(t, { "fr_FR.csv": bom }), { encoding: "utf-8" });
  assert.equal(get("fr_FR").translate('\ufeff"a"'), "b");
  assert.throws(
    () => loadTranslations(folder(t, { "fr_FR.csv": "x" }), { encoding: "no-such-codec" }),
    (err: unknown) =>
      err instanceof TranslationLoadError &&
      err.code === "ERR_LOCALE_TRANSLATION_LOAD" &&
      err.cause instanceof RangeError,
  );
});

test("undecodable files and missing folders fail with TranslationLoadError", (t) => {
  reset(t);
  const dir = folder(t, { "fr_FR.csv": Buffer.from([0x22, 0xff, 0x22, 0x0a]) });
  assert.throws(
    () => loadTranslations(dir),
    (err: unknown) => err instanceof TranslationLoadError && err.path === join(dir, "fr_FR.csv"),
  );
  assert.throws(() => loadTranslations(join(dir, "missing")), TranslationLoadError);
  assert.throws(() => loadGettextTranslations(join(dir, "missing"), "x"), TranslationLoadError);
});

test("CSV rows: quoting, trimming, short rows and plural indicators", (t) => {
  reset(t);
  const csv = [
    ' "spaced" , padded ',
    '"a ""quoted"" word","un mot ""cit\u00e9"""',
    '"multi',
    'line","sur',
    'deux lignes"',
    "only one field",
    "",
    "empty indicator,vide,",
    "explicit,explicite,unknown",
    "bad,mauvais,dual",
    "dup,first",
    "dup,second",
  ].join("\r\n");
  const log = new ExpectLog(
    "tornado.general",
    /Unrecognized plural indicator 'dual' in de_DE\.csv line 8/,
  );
  loadTranslations(folder(t, { "de_DE.csv": csv }));
  log.close();
  const locale = get("de_DE") as CSVLocale;
  assert.equal(locale.translate('"spaced"'), "padded");
  assert.equal(locale.translate('a "quoted" word'), 'un mot "cit\u00e9"');
  assert.equal(locale.translate("multi\nline"), "sur\ndeux lignes");
  assert.equal(locale.translate("empty indicator"), "vide");
  assert.equal(locale.translate("explicit"), "explicite");
  assert.equal(locale.translate("bad"), "bad");
  assert.equal(locale.translate("dup"), "second");
  assert.deepEqual([...locale.translations.keys()], ["unknown"]);
});

test("files not named after a locale are logged and skipped", (t) => {
  reset(t);
  const log = new ExpectLog("tornado.general", /Unrecognized locale '(FR|x\.y)' \(path: .*\.csv\)/);
  loadTranslations(
    folder(t, { "FR.csv": "a,b\n", "es_LA.csv": "a,b\n", "notes.txt": "a,b\n", "x.y.csv": "" }),
  );
  log.close();
  assert.equal(log.matched, 2);
  assert.deepEqual([...getSupportedLocales()].sort(), ["en_US", "es_LA"]);
});

test("pgettext on a CSV locale warns and translates without the context", (t) => {
  reset(t);
  loadTranslations(folder(t, { "fr_FR.csv": FRENCH_CSV, "de_DE.csv": "" }));
  const fr = get("fr_FR");
  const log = new ExpectLog("tornado.general", /pgettext is not supported by CSVLocale/, {
    level: "warning",
  });
  assert.equal(fr.pgettext("law", "school"), "\u00e9cole");
  assert.equal(
    fr.pgettext("x", "%(name)s liked this", "%(name)s liked this", 1),
    "A %(name)s le gust\u00f3 esto",
  );
  log.close();
  assert.equal(log.matched, 2);
  // No warning for a locale without translations.
  const quiet = new ExpectLog("tornado.general", /pgettext/, { required: false });
  assert.equal(get("de_DE").pgettext("law", "right"), "right");
  assert.equal(get("en_US").pgettext("law", "right", "rights", 2), "rights");
  quiet.close();
  assert.equal(quiet.matched, 0);
});

test("a plural message without a count is a TypeError", (t) => {
  reset(t);
  assert.throws(() => get("en_US").translate("dog", "dogs"), TypeError);
  assert.throws(() => get("en_US").pgettext("c", "dog", "dogs"), TypeError);
});

test("gettext catalogs load into GettextLocale, with contexts and plurals [test_gettext]", (t) => {
  reset(t);
  // Big-endian, to show the byte order does not matter.
  const french = writeMo(
    [
      moHeader("nplurals=2; plural=(n > 1);"),
      { original: "school", translation: "\u00e9cole" },
      { original: `law${CONTEXT_SEPARATOR}right`, translation: "le droit" },
      { original: `good${CONTEXT_SEPARATOR}right`, translation: "le bien" },
      {
        original: `organization${CONTEXT_SEPARATOR}club\0clubs`,
        translation: "le club\0les clubs",
      },
      {
        original: `stick${CONTEXT_SEPARATOR}club\0clubs`,
        translation: "le b\u00e2ton\0les b\u00e2tons",
      },
      { original: "club\0clubs", translation: "un club\0des clubs" },
    ],
    { bigEndian: true },
  );
  const dir = folder(t, { "fr_FR/LC_MESSAGES/tornado_test.mo": french });
  loadGettextTranslations(dir, "tornado_test");
  const locale = get("fr_FR");
  assert.ok(locale instanceof GettextLocale);
  assert.equal(locale.translate("school"), "\u00e9cole");
  assert.equal(locale.pgettext("law", "right"), "le droit");
  assert.equal(locale.pgettext("good", "right"), "le bien");
  assert.equal(locale.pgettext("organization", "club", "clubs", 1), "le club");
  assert.equal(locale.pgettext("organization", "club", "clubs", 2), "les clubs");
  assert.equal(locale.pgettext("stick", "club", "clubs", 1), "le b\u00e2ton");
  assert.equal(locale.pgettext("stick", "club", "clubs", 2), "les b\u00e2tons");
  // Unknown contexts: the plural falls back to the context-free entry, the singular to itself.
  assert.equal(locale.pgettext("golf", "club", "clubs", 0), "un club");
  assert.equal(locale.pgettext("golf", "club", "clubs", 5), "des clubs");
  assert.equal(locale.pgettext("golf", "school"), "school");
  assert.equal(locale.translate("club", "clubs", 0), "un club", "French: 0 is singular");
  assert.equal(get("en_US") instanceof CSVLocale, true, "the default locale needs no catalog");
});

test("a language catalog backs up a territory's, and bad catalogs are logged [test_gettext]", (t) => {
  reset(t);
  const dir = folder(t, {
    "pt/LC_MESSAGES/app.mo": writeMo([
      moHeader(),
      { original: "bus", translation: "\u00f4nibus (pt)" },
      { original: "car", translation: "carro (pt)" },
    ]),
    "pt_BR/LC_MESSAGES/app.mo": writeMo(
      [moHeader(), { original: "bus", translation: "\u00f4nibus" }],
      {
        bigEndian: true,
      },
    ),
    "xx/LC_MESSAGES/app.mo": "not a catalog at all",
    "yy/LC_MESSAGES/other.mo": writeMo([]),
    ".hidden/LC_MESSAGES/app.mo": writeMo([]),
  });
  const log = new ExpectLog(
    "tornado.general",
    /Cannot load translation for 'xx': Bad magic number/,
  );
  loadGettextTranslations(dir, "app");
  log.close();
  assert.deepEqual([...getSupportedLocales()].sort(), ["en_US", "pt", "pt_BR"]);
  assert.equal(get("pt_BR").translate("bus"), "\u00f4nibus");
  assert.equal(get("pt_BR").translate("car"), "carro (pt)");
  assert.equal(get("pt_PT").translate("car"), "carro (pt)");
});

test("gettext catalogs made by msgfmt load [test_gettext]", { skip: needPeer("msgfmt") }, (t) => {
  reset(t);
  const po = [
    'msgid ""',
    'msgstr ""',
    '"Content-Type: text/plain; charset=UTF-8\\n"',
    '"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\\n"',
    "",
    'msgid "school"',
    'msgstr "\u0448\u043a\u043e\u043b\u0430"',
    "",
    'msgctxt "law"',
    'msgid "right"',
    'msgstr "\u043f\u0440\u0430\u0432\u043e"',
    "",
    'msgid "%(count)d file"',
    'msgid_plural "%(count)d files"',
    'msgstr[0] "%(count)d \u0444\u0430\u0439\u043b"',
    'msgstr[1] "%(count)d \u0444\u0430\u0439\u043b\u0430"',
    'msgstr[2] "%(count)d \u0444\u0430\u0439\u043b\u043e\u0432"',
    "",
  ].join("\n");
  const dir = folder(t, { "ru.po": po });
  mkdirSync(join(dir, "ru_RU/LC_MESSAGES"), { recursive: true });
  const r = spawnSync("msgfmt", ["-o", join(dir, "ru_RU/LC_MESSAGES/app.mo"), join(dir, "ru.po")]);
  assert.equal(r.status, 0, String(r.stderr));
  loadGettextTranslations(dir, "app");
  const ru = get("ru-ru");
  assert.equal(ru.translate("school"), "\u0448\u043a\u043e\u043b\u0430");
  assert.equal(ru.pgettext("law", "right"), "\u043f\u0440\u0430\u0432\u043e");
  const files = (n: number) =>
    interpolate(ru.translate("%(count)d file", "%(count)d files", n), { count: n });
  assert.deepEqual([1, 3, 5, 21].map(files), [
    "1 \u0444\u0430\u0439\u043b",
    "3 \u0444\u0430\u0439\u043b\u0430",
    "5 \u0444\u0430\u0439\u043b\u043e\u0432",
    "21 \u0444\u0430\u0439\u043b",
  ]);
});

test("loading translations again replaces them and drops cached locales", (t) => {
  reset(t);
  loadTranslations(folder(t, { "fr_FR.csv": '"school","\u00e9cole"\n' }));
  const first = get("fr_FR");
  assert.equal(get("fr_FR"), first, "cached");
  loadTranslations(folder(t, { "fr_FR.csv": '"school","coll\u00e8ge"\n' }));
  assert.notEqual(get("fr_FR"), first);
  assert.equal(get("fr_FR").translate("school"), "coll\u00e8ge");
  // A CSV load after a gettext one gives CSV locales again.
  loadGettextTranslations(folder(t, { "fr_FR/LC_MESSAGES/d.mo": writeMo([moHeader()]) }), "d");
  assert.ok(get("fr_FR") instanceof GettextLocale);
  loadTranslations(folder(t, { "fr_FR.csv": "" }));
  assert.ok(get("fr_FR") instanceof CSVLocale);
});

// ---------------------------------------------------------------------------------------------
// Locale lookup

test("getClosest normalises codes and falls back to the language, then the default", (t) => {
  reset(t);
  loadTranslations(folder(t, { "fr_FR.csv": "", "es.csv": "", "pt_BR.csv": "" }));
  assert.equal(get("fr-fr").code, "fr_FR");
  assert.equal(get("FR_fr").code, "fr_FR");
  assert.equal(get("es_MX").code, "es", "language match");
  assert.equal(get("ES").code, "es");
  assert.equal(get("pt").code, "en_US", "no loose match from language to territory");
  assert.equal(get("fr").code, "en_US");
  assert.equal(get("zh_Hant_TW", "pt_BR").code, "pt_BR", "three parts are skipped");
  assert.equal(get("", null, undefined, "de", "es_AR", "fr_FR").code, "es");
  assert.equal(get().code, "en_US");
  assert.equal(Locale.getClosest("en").code, "en_US");
  assert.equal(get("en_us").code, "en_US");
});

test("Locale.get caches and rejects unsupported codes with UnsupportedLocaleError", (t) => {
  reset(t);
  assert.equal(Locale.get("en_US"), Locale.get("en_US"));
  assert.throws(
    () => Locale.get("fr_FR"),
    (err: unknown) =>
      err instanceof UnsupportedLocaleError &&
      err instanceof RangeError &&
      err.code === "ERR_LOCALE_UNSUPPORTED" &&
      err.locale === "fr_FR",
  );
  assert.throws(() => Locale.get("en_us"), UnsupportedLocaleError, "Locale.get does not normalise");
});

test("setDefaultLocale changes the fallback and is always supported", (t) => {
  reset(t);
  loadTranslations(folder(t, { "fr_FR.csv": "" }));
  setDefaultLocale("de_DE");
  assert.deepEqual([...getSupportedLocales()].sort(), ["de_DE", "fr_FR"]);
  assert.equal(get("xx").code, "de_DE");
  assert.equal(get("de").code, "de_DE");
  setDefaultLocale("en_US");
  assert.equal(get("xx").code, "en_US");
  // The returned set is a copy.
  (getSupportedLocales() as Set<string>).add("zz");
  assert.equal(getSupportedLocales().has("zz"), false);
});

test("code, name and rtl", (t) => {
  reset(t);
  loadTranslations(folder(t, { "fa_IR.csv": "", "ar.csv": "", "he_IL.csv": "", "xx.csv": "" }));
  assert.equal(get("en_US").name, "English (US)");
  assert.equal(get("fa_IR").name, "\u0641\u0627\u0631\u0633\u06cc");
  assert.equal(get("xx").name, "Unknown");
  assert.deepEqual(
    ["en_US", "fa_IR", "ar", "he_IL", "xx"].map((c) => get(c).rtl),
    [false, true, true, true, false],
  );
  assert.equal(new CSVLocale("constructor", {}).name, "Unknown");
});

test("LOCALE_NAMES holds non-ASCII names [test_non_ascii_name]", () => {
  const name = LOCALE_NAMES["es_LA"]!.name;
  assert.equal(typeof name, "string");
  assert.equal(name, "Espa\u00f1ol");
  assert.deepEqual(
    Buffer.from(name, "utf8"),
    Buffer.from([0x45, 0x73, 0x70, 0x61, 0xc3, 0xb1, 0x6f, 0x6c]),
  );
  assert.equal(Object.keys(LOCALE_NAMES).length, 62);
  assert.deepEqual(LOCALE_NAMES["zh_CN"], {
    name_en: "Chinese (Simplified)",
    name: "\u4e2d\u6587(\u7b80\u4f53)",
  });
  assert.ok(Object.isFrozen(LOCALE_NAMES));
});

// ---------------------------------------------------------------------------------------------
// Formatting

test("formatDate: full format and relative forms [test_format_date]", (t) => {
  reset(t);
  const locale = get("en_US");
  const date = Date.UTC(2013, 3, 28, 18, 35);
  assert.equal(locale.formatDate(date, { fullFormat: true }), "April 28, 2013 at 6:35 pm");
  assert.equal(
    locale.formatDate(new Date(date), { fullFormat: true }),
    "April 28, 2013 at 6:35 pm",
  );

  // Against the real clock, as Tornado's test does.
  const now = Date.now();
  assert.equal(locale.formatDate(now - 2 * SECOND), "2 seconds ago");
  assert.equal(locale.formatDate(now - 2 * MINUTE), "2 minutes ago");
  assert.equal(locale.formatDate(now - 2 * HOUR), "2 hours ago");
  assert.equal(locale.formatDate(now - DAY, { shorter: true }), "yesterday");
  const weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
  const months = [
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
  ];
  const twoDays = new Date(now - 2 * DAY);
  assert.equal(locale.formatDate(twoDays, { shorter: true }), weekdays[twoDays.getUTCDay()]);
  const days300 = new Date(now - 300 * DAY);
  assert.equal(
    locale.formatDate(days300, { shorter: true }),
    `${months[days300.getUTCMonth()]} ${days300.getUTCDate()}`,
  );
  const days500 = new Date(now - 500 * DAY);
  assert.equal(
    locale.formatDate(days500, { shorter: true }),
    `${months[days500.getUTCMonth()]} ${days500.getUTCDate()}, ${days500.getUTCFullYear()}`,
  );
});

test("formatDate: every relative branch, with a fixed now", (t) => {
  reset(t);
  const en = get("en_US");
  const at = (ago: number, options = {}) => en.formatDate(NOW - ago, { now: NOW, ...options });
  assert.equal(at(0), "0 seconds ago");
  assert.equal(at(1 * SECOND), "1 second ago");
  assert.equal(at(49 * SECOND + 999), "49 seconds ago");
  assert.equal(at(50 * SECOND), "1 minute ago");
  assert.equal(at(90 * SECOND), "2 minutes ago", "1.5 rounds to even");
  assert.equal(at(150 * SECOND), "2 minutes ago", "2.5 rounds to even");
  assert.equal(at(210 * SECOND), "4 minutes ago");
  assert.equal(at(49 * MINUTE + 59 * SECOND), "50 minutes ago");
  assert.equal(at(50 * MINUTE), "1 hour ago");
  assert.equal(at(90 * MINUTE), "2 hours ago");
  assert.equal(at(150 * MINUTE), "2 hours ago");
  assert.equal(at(DAY - 1), "24 hours ago");
  assert.equal(at(DAY), "yesterday at 11:30 pm");
  assert.equal(at(DAY + HOUR), "yesterday at 10:30 pm");
  // More than a day but two calendar days back: a weekday, not "yesterday".
  assert.equal(at(DAY + 23 * HOUR + 31 * MINUTE), "Thursday at 11:59 pm");
  assert.equal(at(2 * DAY), "Thursday at 11:30 pm");
  assert.equal(at(4 * DAY + 23 * HOUR), "Tuesday at 12:30 am");
  assert.equal(at(5 * DAY), "November 16 at 11:30 pm");
  assert.equal(at(333 * DAY), "December 23 at 11:30 pm");
  assert.equal(at(334 * DAY), "December 22, 2025 at 11:30 pm");
  assert.equal(at(DAY, { shorter: true }), "yesterday");
  assert.equal(at(3 * DAY, { shorter: true }), "Wednesday");
  assert.equal(at(30 * DAY, { shorter: true }), "October 22");
  assert.equal(at(400 * DAY, { shorter: true }), "October 17, 2025");
  assert.equal(at(2 * HOUR, { shorter: true }), "2 hours ago");
});

test("formatDate: relative false, fullFormat, gmtOffset and the 12-hour clock", (t) => {
  reset(t);
  const en = get("en_US");
  const at = (ago: number, options = {}) => en.formatDate(NOW - ago, { now: NOW, ...options });
  assert.equal(at(5 * MINUTE, { relative: false }), "11:25 pm");
  assert.equal(at(DAY, { relative: false }), "Friday at 11:30 pm", "no 'yesterday'");
  assert.equal(at(5 * MINUTE, { fullFormat: true }), "November 21, 2026 at 11:25 pm");
  assert.equal(at(5 * MINUTE, { fullFormat: true, shorter: true }), "November 21, 2026");
  // gmtOffset is subtracted: 300 minutes is UTC-5.
  assert.equal(at(5 * MINUTE, { gmtOffset: 300, relative: false }), "6:25 pm");
  assert.equal(at(0, { gmtOffset: -60, fullFormat: true }), "November 22, 2026 at 12:30 am");
  assert.equal(at(DAY, { gmtOffset: -60 }), "yesterday at 12:30 am");
  assert.equal(at(23.5 * HOUR, { relative: false, gmtOffset: -30 }), "12:30 am");
  const noonish = Date.UTC(2020, 0, 1, 12, 5);
  const midnight = Date.UTC(2020, 0, 1, 0, 7);
  assert.equal(en.formatDate(noonish, { fullFormat: true }), "January 1, 2020 at 12:05 pm");
  assert.equal(en.formatDate(midnight, { fullFormat: true }), "January 1, 2020 at 12:07 am");
  assert.equal(
    en.formatDate(Date.UTC(999, 0, 1), { fullFormat: true }),
    "January 1, 999 at 12:00 am",
  );
});

test("formatDate: dates in the future", (t) => {
  reset(t);
  const en = get("en_US");
  const at = (ahead: number, options = {}) => en.formatDate(NOW + ahead, { now: NOW, ...options });
  assert.equal(at(30 * SECOND), "0 seconds ago", "clock skew counts as now");
  assert.equal(at(59 * SECOND + 999), "0 seconds ago");
  assert.equal(at(60 * SECOND), "November 21, 2026 at 11:31 pm");
  assert.equal(at(30 * SECOND, { relative: false }), "November 21, 2026 at 11:30 pm");
  assert.equal(at(2 * HOUR, { shorter: true }), "November 22, 2026");
  // Tornado looks at the seconds part of the difference only: a day and 10 s ahead is "now".
  assert.equal(at(DAY + 10 * SECOND), "0 seconds ago");
});

test("formatDate: zh_CN and 24-hour locales, and translated patterns", (t) => {
  reset(t);
  const csv = [
    "%(month_name)s %(day)s at %(time)s,%(day)s %(month_name)s \u00e0 %(time)s",
    "November,novembre",
    "yesterday at %(time)s,hier \u00e0 %(time)s",
    "1 minute ago,il y a 1 minute,singular",
    "%(minutes)d minutes ago,il y a %(minutes)d minutes,plural",
  ].join("\n");
  loadTranslations(folder(t, { "fr_FR.csv": csv, "zh_CN.csv": "", "de_DE.csv": "" }));
  const date = NOW - 10 * DAY + 2 * HOUR; // November 12, 01:30 UTC
  assert.equal(get("zh_CN").formatDate(date, { now: NOW }), "November 12 at \u4e0a\u53481:30");
  assert.equal(
    get("zh_CN").formatDate(date + 12 * HOUR, { now: NOW }),
    "November 12 at \u4e0b\u53481:30",
  );
  assert.equal(get("de_DE").formatDate(date, { now: NOW }), "November 12 at 1:30");
  assert.equal(get("de_DE").formatDate(date + 12 * HOUR, { now: NOW }), "November 12 at 13:30");
  assert.equal(get("fr_FR").formatDate(date, { now: NOW }), "12 novembre \u00e0 1:30");
  assert.equal(get("fr_FR").formatDate(NOW - DAY, { now: NOW }), "hier \u00e0 23:30");
  assert.equal(get("fr_FR").formatDate(NOW - MINUTE, { now: NOW }), "il y a 1 minute");
  assert.equal(get("fr_FR").formatDate(NOW - 7 * MINUTE, { now: NOW }), "il y a 7 minutes");
});

test("formatDate and formatDay reject invalid dates and offsets", (t) => {
  reset(t);
  const en = get("en_US");
  assert.throws(() => en.formatDate(Number.NaN), RangeError);
  assert.throws(() => en.formatDate(new Date("nope")), RangeError);
  assert.throws(() => en.formatDate("2020-01-01" as unknown as number), TypeError);
  assert.throws(() => en.formatDate(0, { gmtOffset: Number.POSITIVE_INFINITY }), TypeError);
  assert.throws(() => en.formatDate(Date.UTC(10000, 0, 1), { fullFormat: true }), /out of range/);
  assert.throws(() => en.formatDate(0, { now: Number.NaN }), RangeError);
  assert.throws(() => en.formatDay(Number.NaN), RangeError);
  assert.throws(() => en.formatDay(0, { gmtOffset: Number.NaN }), TypeError);
});

test("formatDay: with and without the weekday [test_format_day]", (t) => {
  reset(t);
  loadTranslations(folder(t, { "fr_FR.csv": FRENCH_CSV }));
  const en = get("en_US");
  const date = Date.UTC(2013, 3, 28, 18, 35);
  assert.equal(en.formatDay(date, { dow: true }), "Sunday, April 28");
  assert.equal(en.formatDay(new Date(date), { dow: false }), "April 28");
  assert.equal(en.formatDay(date), "Sunday, April 28");
  assert.equal(en.formatDay(date, { gmtOffset: -360 }), "Monday, April 29");
  assert.equal(get("fr_FR").formatDay(date), "dimanche 28 avril");
  assert.equal(get("fr_FR").formatDay(date, { dow: false }), "avril 28");
});

test("list joins with commas and 'and' [test_list]", (t) => {
  reset(t);
  loadTranslations(
    folder(t, { "fa_IR.csv": "%(commas)s and %(last)s,%(commas)s \u0648 %(last)s\n" }),
  );
  const en = get("en_US");
  assert.equal(en.list([]), "");
  assert.equal(en.list(["A"]), "A");
  assert.equal(en.list(["A", "B"]), "A and B");
  assert.equal(en.list(["A", "B", "C"]), "A, B and C");
  assert.equal(en.list(["%(x)s", "100%"]), "%(x)s and 100%", "parts are not patterns");
  assert.equal(get("fa_IR").list(["A", "B", "C"]), "A \u0648 B \u0648 C");
});

test("friendlyNumber groups thousands in English only [test_friendly_number]", (t) => {
  reset(t);
  loadTranslations(folder(t, { "de_DE.csv": "" }));
  const en = get("en_US");
  assert.equal(en.friendlyNumber(1000000), "1,000,000");
  assert.equal(en.friendlyNumber(0), "0");
  assert.equal(en.friendlyNumber(999), "999");
  assert.equal(en.friendlyNumber(1000), "1,000");
  assert.equal(en.friendlyNumber(-1234567), "-1,234,567");
  assert.equal(en.friendlyNumber(-100), "-100");
  assert.equal(en.friendlyNumber(1e21), "1,000,000,000,000,000,000,000");
  assert.equal(en.friendlyNumber(12345678901234567890n), "12,345,678,901,234,567,890");
  assert.equal(get("de_DE").friendlyNumber(1000000), "1000000");
  assert.throws(() => en.friendlyNumber(1.5), TypeError);
  assert.throws(() => en.friendlyNumber(Number.NaN), TypeError);
});

test("interpolate fills Python-style named placeholders", () => {
  assert.equal(interpolate("%(name)s liked this", { name: "Ana" }), "Ana liked this");
  assert.equal(interpolate("%(n)d%% of %(n)i", { n: 7.9 }), "7% of 7");
  assert.equal(
    interpolate("[%(a)5s][%(a)-5s][%(n)05d][%(n)+d][%(a).1s]", { a: "xy", n: -42 }),
    "[   xy][xy   ][-0042][-42][x]",
  );
  assert.equal(interpolate("no placeholders", { a: 1 }), "no placeholders");
  assert.equal(interpolate("%(a)s", new Map([["a", "from a map"]])), "from a map");
  assert.throws(() => interpolate("%(missing)s", {}), TypeError);
  assert.throws(() => interpolate("%(toString)s", {}), TypeError, "own keys only");
  assert.throws(() => interpolate("%(a)d", { a: "1" }), TypeError);
  assert.throws(() => interpolate("50% off", {}), TypeError);
  assert.throws(() => interpolate("%(a)s and %s", { a: 1 }), TypeError);
});
