// The .mo reader and the Plural-Forms evaluator behind loadGettextTranslations.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  GettextFormatError,
  GettextTranslations,
  PluralFormsError,
  parsePluralForms,
} from "../../src/locale.js";
import { moHeader, writeMo, type MoEntry } from "../helpers/mo.js";

const RUSSIAN =
  "(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2)";
const ARABIC = "n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5";

test("plural formulas of common languages choose the right form", () => {
  const germanic = parsePluralForms("(n != 1)");
  assert.deepEqual([0, 1, 2, 5].map(germanic), [1, 0, 1, 1]);
  const french = parsePluralForms("(n > 1)");
  assert.deepEqual([0, 1, 2].map(french), [0, 0, 1]);
  const russian = parsePluralForms(RUSSIAN);
  assert.deepEqual(
    [1, 2, 4, 5, 11, 12, 21, 22, 25, 111, 101].map(russian),
    [0, 1, 1, 2, 2, 2, 0, 1, 2, 2, 0],
  );
  const arabic = parsePluralForms(ARABIC);
  assert.deepEqual(
    [0, 1, 2, 3, 10, 11, 99, 100, 102, 103].map(arabic),
    [0, 1, 2, 3, 3, 4, 4, 5, 5, 3],
  );
  assert.equal(parsePluralForms("0")(7), 0);
});

test("plural formulas follow C precedence and integer arithmetic", () => {
  assert.equal(parsePluralForms("n / 2")(7), 3);
  assert.equal(parsePluralForms("n % 4 + 1 * 2")(7), 5);
  assert.equal(parsePluralForms("1 + 2 * 3 == 7")(0), 1);
  assert.equal(parsePluralForms("n < 5 == 1")(3), 1, "comparisons do not chain");
  assert.equal(parsePluralForms("3 > 2 > 1")(0), 0, "(3 > 2) > 1 is 1 > 1");
  assert.equal(parsePluralForms("!n")(0), 1);
  assert.equal(parsePluralForms("!!n")(5), 1);
  assert.equal(parsePluralForms("n && 7")(3), 1, "&& yields 0 or 1");
  assert.equal(parsePluralForms("0 || n")(3), 1);
  assert.equal(parsePluralForms("n ? n == 1 ? 0 : 1 : 2")(1), 0);
  assert.equal(parsePluralForms("n ? n == 1 ? 0 : 1 : 2")(0), 2);
  assert.equal(parsePluralForms("\t( ( n ) )\t")(4), 4);
  assert.equal(parsePluralForms("10 - n - 2")(3), 5, "left-associative");
});

test("bad plural formulas are rejected with PluralFormsError", () => {
  for (const bad of ["", "n +", "(n", "n)", "n ? 1", "x", "n = 1", "-1", "n ~ 1", "1 2", "n\n"]) {
    assert.throws(() => parsePluralForms(bad), PluralFormsError, JSON.stringify(bad));
  }
  const error = (() => {
    try {
      parsePluralForms("n ^ 2");
    } catch (err) {
      return err as PluralFormsError;
    }
    return null;
  })();
  assert.ok(error);
  assert.equal(error.code, "ERR_GETTEXT_PLURAL_FORMS");
  assert.equal(error.formula, "n ^ 2");
  assert.match(error.message, /invalid token in plural form: \^/);
  assert.throws(() => parsePluralForms("n+".repeat(500) + "n"), /too long/);
  assert.throws(() => parsePluralForms("(".repeat(21) + "n" + ")".repeat(21)), /too complex/);
  assert.equal(parsePluralForms("(".repeat(20) + "n" + ")".repeat(20))(3), 3);
});

test("a plural formula rejects non-integer counts and division by zero", () => {
  const f = parsePluralForms("n % 3");
  assert.throws(() => f(1.5), TypeError);
  assert.throws(() => parsePluralForms("1 / (n - 1)")(1), PluralFormsError);
  assert.equal(parsePluralForms("1 / (n - 1)")(2), 1);
});

const ENTRIES: MoEntry[] = [
  moHeader("nplurals=3; plural=" + RUSSIAN + ";"),
  { original: "school", translation: "школа" },
  { original: "file\0files", translation: "файл\0файла\0файлов" },
  { original: "law\x04right", translation: "право" },
  { original: "stick\x04club\0clubs", translation: "палка\0палки\0палок" },
];

test("a catalog reads the same in both byte orders", () => {
  for (const bigEndian of [false, true]) {
    const catalog = GettextTranslations.parse(writeMo(ENTRIES, { bigEndian }));
    assert.equal(catalog.gettext("school"), "школа");
    assert.equal(catalog.gettext("missing"), "missing");
    assert.deepEqual(
      [1, 2, 5, 21].map((n) => catalog.ngettext("file", "files", n)),
      ["файл", "файла", "файлов", "файл"],
    );
    assert.equal(catalog.ngettext("dog", "dogs", 1), "dog");
    assert.equal(catalog.ngettext("dog", "dogs", 2), "dogs");
    assert.equal(catalog.gettext("law\x04right"), "право");
    assert.equal(catalog.ngettext("stick\x04club", "stick\x04clubs", 3), "палки");
    assert.equal(catalog.charset, "UTF-8");
    assert.equal(catalog.info["content-type"], "text/plain; charset=UTF-8");
    assert.equal(catalog.plural(5), 2);
    assert.equal(catalog.gettext(""), ENTRIES[0]!.translation as string);
  }
});

test("gettext of a plural-only entry gives the form for one", () => {
  const catalog = GettextTranslations.parse(writeMo(ENTRIES));
  assert.equal(catalog.gettext("file"), "файл");
});

test("without Plural-Forms the germanic rule applies and any count is accepted", () => {
  const catalog = GettextTranslations.parse(
    writeMo([moHeader(), { original: "cat\0cats", translation: "Katze\0Katzen" }]),
  );
  assert.equal(catalog.ngettext("cat", "cats", 1), "Katze");
  assert.equal(catalog.ngettext("cat", "cats", 0), "Katzen");
  assert.equal(catalog.ngettext("cat", "cats", 2.5), "Katzen");
  assert.equal(catalog.plural(1), 0);
});

test("a plural index past the stored forms falls back to the English strings", () => {
  const catalog = GettextTranslations.parse(
    writeMo([moHeader("nplurals=3; plural=n;"), { original: "a\0as", translation: "x\0y" }]),
  );
  assert.equal(catalog.ngettext("a", "as", 1), "y");
  assert.equal(catalog.ngettext("a", "as", 2), "as");
});

test("messages decode with the header's charset; before it, as ASCII", () => {
  const latin = writeMo([
    moHeader(undefined, "ISO-8859-1"),
    { original: "school", translation: Buffer.from("\xe9cole \x80", "latin1") },
  ]);
  // Python's latin-1 maps 0x80 to U+0080 (WHATWG's label would give the euro sign).
  assert.equal(GettextTranslations.parse(latin).gettext("school"), "\u00e9cole \u0080");
  const noHeader = writeMo([{ original: "a", translation: Buffer.from([0xc3, 0xa9]) }]);
  assert.throws(() => GettextTranslations.parse(noHeader), GettextFormatError);
  const ascii = writeMo([{ original: "a", translation: "b" }]);
  assert.equal(GettextTranslations.parse(ascii).gettext("a"), "b");
  assert.equal(GettextTranslations.parse(ascii).charset, null);
});

test("header lines continue the previous field and gettext comment lines are skipped", () => {
  const header = {
    original: "",
    translation:
      "#-#-#-#-#  a.po  #-#-#-#-#\nContent-Type: text/plain; charset=UTF-8\n" +
      "Language-Team: French\n  team@example.com\nPlural-Forms: nplurals=2; plural=n>1;\n",
  };
  const catalog = GettextTranslations.parse(
    writeMo([header, { original: "a\0b", translation: "un\0des" }]),
  );
  assert.equal(catalog.info["language-team"], "French\nteam@example.com");
  assert.equal(catalog.ngettext("a", "b", 0), "un");
  assert.equal(catalog.ngettext("a", "b", 2), "des");
});

test("damaged catalogs are rejected with GettextFormatError", () => {
  const good = writeMo(ENTRIES);
  const cases: [string, Buffer, RegExp][] = [
    ["empty", Buffer.alloc(0), /Bad magic number/],
    ["bad magic", Buffer.concat([Buffer.from([1, 2, 3, 4]), good.subarray(4)]), /Bad magic/],
    ["version 2", writeMo(ENTRIES, { revision: 2 << 16 }), /Bad version number 2/],
    ["truncated", good.subarray(0, good.length - 10), /File is corrupt/],
    ["tables past the end", good.subarray(0, 40), /File is corrupt/],
    [
      "no charset",
      writeMo([{ original: "", translation: "Content-Type: text/plain\n" }]),
      /no charset=/,
    ],
    [
      "unknown charset",
      writeMo([{ original: "", translation: "Content-Type: text/plain; charset=CHARSET\n" }]),
      /unknown charset CHARSET/,
    ],
    ["two NULs in a msgid", writeMo([{ original: "a\0b\0c", translation: "x" }]), /more than one/],
    [
      "bad UTF-8",
      writeMo([moHeader(), { original: "a", translation: Buffer.from([0xff, 0xfe]) }]),
      /cannot decode/,
    ],
  ];
  for (const [name, data, message] of cases) {
    assert.throws(
      () => GettextTranslations.parse(data),
      (err: unknown) =>
        err instanceof GettextFormatError &&
        err.code === "ERR_GETTEXT_FORMAT" &&
        message.test(err.message),
      name,
    );
  }
  assert.throws(
    () => GettextTranslations.parse(writeMo([moHeader("nplurals=2; plural=n >> 1;")])),
    PluralFormsError,
  );
  assert.throws(
    () => GettextTranslations.parse(writeMo([moHeader("nplurals=2")])),
    /no plural= in Plural-Forms/,
  );
});

test("revision 1 catalogs are accepted", () => {
  const catalog = GettextTranslations.parse(writeMo(ENTRIES, { revision: 0x10001 }));
  assert.equal(catalog.gettext("school"), "школа");
});

test("a fallback catalog answers for messages the first lacks", () => {
  const first = GettextTranslations.parse(
    writeMo([moHeader("nplurals=2; plural=n>1;"), { original: "a", translation: "A1" }]),
  );
  const second = GettextTranslations.parse(
    writeMo([
      moHeader(),
      { original: "a", translation: "A2" },
      { original: "b", translation: "B2" },
      { original: "c\0cs", translation: "C2\0CS2" },
    ]),
  );
  first.addFallback(second);
  assert.equal(first.gettext("a"), "A1");
  assert.equal(first.gettext("b"), "B2");
  assert.equal(first.gettext("z"), "z");
  assert.equal(first.ngettext("c", "cs", 2), "CS2");
  assert.equal(first.ngettext("z", "zs", 0), "zs");
});
