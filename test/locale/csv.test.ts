// The CSV reader and file decoding behind loadTranslations (Python's csv "excel" dialect).
import assert from "node:assert/strict";
import { test } from "node:test";
import { CSV_FIELD_LIMIT, CSVFieldLimitError, parseCSV } from "../../src/locale.js";
import { decodeTranslationFile } from "../../src/locale/csv.js";

test("fields split on commas and records on line ends", () => {
  assert.deepEqual(parseCSV("a,b,c\nd,e\n"), [
    ["a", "b", "c"],
    ["d", "e"],
  ]);
  assert.deepEqual(parseCSV("a,b"), [["a", "b"]], "no final line end");
  assert.deepEqual(parseCSV("a,\n,b\n,\n"), [
    ["a", ""],
    ["", "b"],
    ["", ""],
  ]);
  assert.deepEqual(parseCSV(""), []);
  assert.deepEqual(parseCSV("\n\na\n"), [[], [], ["a"]], "empty lines are empty records");
  assert.deepEqual(parseCSV(" a , b "), [[" a ", " b "]], "no trimming");
});

test("quotes: doubled quotes, commas and line ends inside, text after the closing quote", () => {
  assert.deepEqual(parseCSV('"a ""b"" c","x,y"\n'), [['a "b" c', "x,y"]]);
  assert.deepEqual(parseCSV('"two\nlines",z\n'), [["two\nlines", "z"]]);
  assert.deepEqual(parseCSV('"ab"cd,e'), [["abcd", "e"]]);
  assert.deepEqual(parseCSV('"ab""'), [['ab"']]);
  assert.deepEqual(parseCSV('ab"cd",e'), [['ab"cd"', "e"]], "a quote inside a field is literal");
  assert.deepEqual(parseCSV('"",""'), [["", ""]]);
  assert.deepEqual(parseCSV('"open,\nto the end'), [["open,\nto the end"]]);
  assert.deepEqual(parseCSV('a,"'), [["a", ""]]);
  assert.deepEqual(parseCSV(' "x",y'), [[' "x"', "y"]], "a quote after a space does not open");
});

test("a field over the limit fails with CSVFieldLimitError", () => {
  const long = "x".repeat(CSV_FIELD_LIMIT + 1);
  for (const text of [long, `"${long}"`, `a,${long}\n`]) {
    assert.throws(
      () => parseCSV(text),
      (err: unknown) => err instanceof CSVFieldLimitError && err.code === "ERR_CSV_FIELD_LIMIT",
    );
  }
  assert.equal(parseCSV("x".repeat(CSV_FIELD_LIMIT))[0]![0]!.length, CSV_FIELD_LIMIT);
});

test("decoding: BOM detection, universal newlines and named encodings", () => {
  const text = "\u00e9cole,\u5b66\u6821\r\nb,c\rd,e\n";
  const expected = "\u00e9cole,\u5b66\u6821\nb,c\nd,e\n";
  assert.equal(decodeTranslationFile(Buffer.from(text)), expected);
  const sig = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
  assert.equal(decodeTranslationFile(sig), expected);
  const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
  assert.equal(decodeTranslationFile(le), expected);
  const be = Buffer.from(le);
  be.swap16();
  assert.equal(decodeTranslationFile(be), expected);
  assert.equal(decodeTranslationFile(be, "utf-16"), expected);
  assert.equal(
    decodeTranslationFile(Buffer.from(text, "utf16le"), "utf_16"),
    expected,
    "no BOM: LE",
  );
  assert.equal(
    decodeTranslationFile(Buffer.from("\u00e9\u0080", "latin1"), "latin-1"),
    "\u00e9\u0080",
  );
  assert.equal(decodeTranslationFile(Buffer.from("\u00e9\u20ac", "utf8"), "UTF8"), "\u00e9\u20ac");
  assert.equal(
    decodeTranslationFile(Buffer.from([0x80, 0x9f, 0xe9]), "cp1252"),
    "\u20ac\u0178\u00e9",
  );
  assert.equal(decodeTranslationFile(Buffer.from([0x80]), "windows-1252"), "\u20ac");
  assert.throws(() => decodeTranslationFile(Buffer.from([0x81]), "cp1252"), TypeError);
  assert.equal(decodeTranslationFile(Buffer.from([0xb1]), "iso-8859-2"), "\u0105");
  assert.equal(decodeTranslationFile(sig, "utf-8")[0], "\ufeff", "plain utf-8 keeps the BOM");
  assert.throws(() => decodeTranslationFile(Buffer.from([0xff, 0x41, 0x42])), TypeError);
  assert.throws(() => decodeTranslationFile(Buffer.from([0x80]), "ascii"), TypeError);
  assert.throws(() => decodeTranslationFile(Buffer.from([0xff, 0xfe, 0x41])), TypeError, "odd");
  assert.throws(() => decodeTranslationFile(Buffer.from("x"), "klingon"), RangeError);
  // Python's aliases; the plain utf-16 variants keep a BOM as text.
  const leBom = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("ab", "utf16le")]);
  assert.equal(decodeTranslationFile(leBom, "utf-16-le"), "\ufeffab");
  assert.equal(decodeTranslationFile(leBom, "UTF_16LE"), "\ufeffab");
  assert.equal(decodeTranslationFile(Buffer.from([0, 0x61]), "utf-16-be"), "a");
  assert.equal(decodeTranslationFile(Buffer.from("x"), "US-ASCII"), "x");
  assert.equal(decodeTranslationFile(Buffer.from([0x82, 0xa0]), "ms_kanji"), "\u3042");
});
