/**
 * Text decoders named as Python names its codecs, for `tornado.locale`'s translation files
 * (`load_translations(encoding=…)`) and `.mo` catalogs (`charset=` in the header).
 *
 * Decoding is strict (invalid bytes throw), and a byte-order mark is dropped only by the
 * codecs that drop it in Python (`utf-8-sig`, `utf-16`). Node's `TextDecoder` serves the other
 * labels it knows; latin-1, ASCII and cp1252 are decoded here because `TextDecoder` maps them
 * all to windows-1252 (or, in Node 20, windows-1252 itself to latin-1).
 *
 * Main export: {@link pythonDecoder}.
 */

/** A strict decoder of a whole byte string. */
export type Decoder = (bytes: Uint8Array) => string;

function textDecoder(label: string, skipBOM = false): Decoder {
  // ignoreBOM keeps a leading U+FEFF in the text, as Python's plain codecs do.
  const decoder = new TextDecoder(label, { fatal: true, ignoreBOM: !skipBOM });
  return (bytes) => decoder.decode(bytes);
}

function decodeLatin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

function decodeAscii(bytes: Uint8Array): string {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! > 0x7f) {
      throw new TypeError(`'ascii' codec can't decode byte 0x${bytes[i]!.toString(16)}`);
    }
  }
  return decodeLatin1(bytes);
}

/** Code points of cp1252's bytes 0x80-0x9F; 0 marks the five bytes Python leaves undefined. */
const CP1252_HIGH = [
  0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152,
  0, 0x017d, 0, 0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161,
  0x203a, 0x0153, 0, 0x017e, 0x0178,
];

function decodeCp1252(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const code = b >= 0x80 && b < 0xa0 ? CP1252_HIGH[b - 0x80]! : b;
    if (code === 0) throw new TypeError(`'charmap' codec can't decode byte 0x${b.toString(16)}`);
    out += String.fromCharCode(code);
  }
  return out;
}

/** Python's utf-16: a BOM picks the byte order and is dropped; without one, little-endian. */
function decodeUtf16(bytes: Uint8Array): string {
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    return textDecoder("utf-16be")(bytes.subarray(2));
  }
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) {
    return textDecoder("utf-16le")(bytes.subarray(2));
  }
  return textDecoder("utf-16le")(bytes);
}

/** Python's utf-8-sig: UTF-8, dropping one leading BOM. */
function decodeUtf8Sig(bytes: Uint8Array): string {
  const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  return textDecoder("utf-8")(bom ? bytes.subarray(3) : bytes);
}

/** Python codec names and aliases (normalised: lowercase, `_` for `-` and spaces). */
const PYTHON_CODECS: ReadonlyMap<string, Decoder> = new Map<string, Decoder>([
  ...["utf_8", "utf8", "u8", "utf", "cp65001", "utf8_ucs2", "utf8_ucs4"].map(
    (name): [string, Decoder] => [name, textDecoder("utf-8")],
  ),
  ...["utf_8_sig", "utf8_sig"].map((name): [string, Decoder] => [name, decodeUtf8Sig]),
  ...["utf_16", "utf16", "u16"].map((name): [string, Decoder] => [name, decodeUtf16]),
  ...["utf_16_le", "utf_16le", "utf16le", "unicodelittleunmarked"].map(
    (name): [string, Decoder] => [name, textDecoder("utf-16le")],
  ),
  ...["utf_16_be", "utf_16be", "utf16be", "unicodebigunmarked"].map((name): [string, Decoder] => [
    name,
    textDecoder("utf-16be"),
  ]),
  ...[
    "latin_1",
    "latin1",
    "latin",
    "l1",
    "iso_8859_1",
    "iso8859_1",
    "iso8859",
    "8859",
    "cp819",
    "iso_ir_100",
    "iso_8859_1:1987",
    "csisolatin1",
  ].map((name): [string, Decoder] => [name, decodeLatin1]),
  ...[
    "ascii",
    "us_ascii",
    "646",
    "us",
    "ansi_x3.4_1968",
    "ansi_x3_4_1968",
    "iso646_us",
    "cp367",
  ].map((name): [string, Decoder] => [name, decodeAscii]),
  ...["cp1252", "windows_1252", "1252"].map((name): [string, Decoder] => [name, decodeCp1252]),
]);

/**
 * A strict decoder for a codec named as in Python (`utf-8`, `UTF8`, `utf-8-sig`, `utf-16`,
 * `utf_16_le`, `latin-1`, `ISO-8859-1`, `ascii`, `cp1252`, …), or, failing that, any WHATWG
 * label `TextDecoder` knows (`iso-8859-2`, `koi8-r`, `shift_jis`, …).
 * @returns the decoder (which throws TypeError on invalid bytes), or null for an unknown name.
 */
export function pythonDecoder(name: string): Decoder | null {
  const normalized = name.trim().toLowerCase().replace(/[-\s]/g, "_");
  const known = PYTHON_CODECS.get(normalized);
  if (known !== undefined) return known;
  for (const label of [name.trim(), normalized.replace(/_/g, "-")]) {
    try {
      return textDecoder(label);
    } catch {
      // Not a WHATWG label either.
    }
  }
  return null;
}
