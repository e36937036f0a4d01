/**
 * CSV translation files for `tornado.locale`: decoding (BOM detection or a named encoding)
 * and a reader for the "excel" dialect of Python's `csv` module, which Tornado's
 * `load_translations` uses.
 *
 * Main exports: {@link decodeTranslationFile}, {@link parseCSV}.
 */

import { type Decoder, pythonDecoder } from "./codecs.js";

/** Largest field the reader accepts, in characters (Python's `csv.field_size_limit()`). */
export const CSV_FIELD_LIMIT = 131_072;

/** A CSV field longer than {@link CSV_FIELD_LIMIT} characters. */
export class CSVFieldLimitError extends Error {
  override name = "CSVFieldLimitError";
  /** Stable code for this error class. */
  readonly code = "ERR_CSV_FIELD_LIMIT";

  constructor() {
    super(`field larger than field limit (${CSV_FIELD_LIMIT})`);
  }
}

/**
 * Decodes a translation file as Python's text mode would, then applies universal newlines
 * (`\r\n` and a lone `\r` become `\n`).
 *
 * Without `encoding`, a UTF-16 byte-order mark (either order) selects UTF-16 (the mark sets the
 * order and is dropped); anything else is UTF-8 with an optional BOM (Python's `utf-8-sig`).
 * With `encoding`, Python's codec names are understood: `utf-16` (BOM-detected, little-endian
 * without one), `utf-8-sig`, `utf-8`, `latin-1`, `ascii`, and any WHATWG label
 * (`utf-16le`, `windows-1252`, `shift_jis`, …); only the `-sig`/`utf-16` forms drop a BOM.
 *
 * @returns the decoded text with `\n` line ends.
 * @throws RangeError if `encoding` is not a known encoding.
 * @throws TypeError if the bytes are not valid in the encoding.
 */
export function decodeTranslationFile(data: Uint8Array, encoding?: string): string {
  let decode: Decoder | null;
  if (encoding === undefined) {
    const bom16 =
      data.length >= 2 &&
      ((data[0] === 0xff && data[1] === 0xfe) || (data[0] === 0xfe && data[1] === 0xff));
    decode = pythonDecoder(bom16 ? "utf-16" : "utf-8-sig");
  } else {
    decode = pythonDecoder(encoding);
  }
  if (decode === null) throw new RangeError(`unknown encoding: ${encoding}`);
  return decode(data).replace(/\r\n?/g, "\n");
}

const START_RECORD = 0;
const START_FIELD = 1;
const IN_FIELD = 2;
const IN_QUOTED_FIELD = 3;
const QUOTE_IN_QUOTED_FIELD = 4;

/**
 * Splits text (with `\n` line ends) into rows as Python's `csv.reader` does in the default
 * "excel" dialect: `,` separates fields, `"` quotes them, `""` inside quotes is one quote,
 * quoted fields may span lines, text after a closing quote joins the field, a quote inside an
 * unquoted field is literal, an empty line is an empty row, and input ending inside quotes
 * ends the field there. No whitespace is trimmed.
 *
 * @returns one array of fields per record, in order (empty lines included, as `[]`).
 * @throws CSVFieldLimitError for a field longer than 131072 characters.
 */
export function parseCSV(text: string): string[][] {
  const rows: string[][] = [];
  let fields: string[] = [];
  let field = "";
  let state = START_RECORD;
  const save = () => {
    if (field.length > CSV_FIELD_LIMIT) throw new CSVFieldLimitError();
    fields.push(field);
    field = "";
  };
  const endRow = () => {
    rows.push(fields);
    fields = [];
    state = START_RECORD;
  };
  // Fields are accumulated with slices between special characters, not char by char.
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    switch (state) {
      case START_RECORD:
        if (c === "\n") {
          endRow();
          i++;
          continue;
        }
        state = START_FIELD;
        continue;
      case START_FIELD:
        if (c === "\n") {
          save();
          endRow();
        } else if (c === ",") {
          save();
        } else if (c === '"') {
          state = IN_QUOTED_FIELD;
        } else {
          state = IN_FIELD;
          continue;
        }
        i++;
        continue;
      case IN_FIELD: {
        let j = i;
        while (j < n && text[j] !== "," && text[j] !== "\n") j++;
        field += text.slice(i, j);
        if (field.length > CSV_FIELD_LIMIT) throw new CSVFieldLimitError();
        if (j === n) {
          i = j;
          continue;
        }
        save();
        if (text[j] === "\n") endRow();
        else state = START_FIELD;
        i = j + 1;
        continue;
      }
      case IN_QUOTED_FIELD: {
        const j = text.indexOf('"', i);
        const end = j < 0 ? n : j;
        field += text.slice(i, end);
        if (field.length > CSV_FIELD_LIMIT) throw new CSVFieldLimitError();
        if (j >= 0) state = QUOTE_IN_QUOTED_FIELD;
        i = j < 0 ? n : j + 1;
        continue;
      }
      case QUOTE_IN_QUOTED_FIELD:
        if (c === '"') {
          field += '"';
          state = IN_QUOTED_FIELD;
        } else if (c === ",") {
          save();
          state = START_FIELD;
        } else if (c === "\n") {
          save();
          endRow();
        } else {
          field += c;
          state = IN_FIELD;
        }
        i++;
        continue;
    }
  }
  // End of input: a last line without "\n" ends as if it had one; an open quote ends the field.
  if (state !== START_RECORD) {
    save();
    rows.push(fields);
  }
  return rows;
}
