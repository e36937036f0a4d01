// Writes GNU gettext .mo catalogs in either byte order, for tests that need a catalog msgfmt
// does not produce (big-endian) or one that is deliberately damaged.

/** One catalog entry: the original (with `ctx\x04` and `\0plural` as gettext stores them). */
export interface MoEntry {
  /** msgid, or `context\x04msgid`; for plurals `msgid\0msgid_plural`. */
  readonly original: string | Uint8Array;
  /** msgstr, or the plural forms joined with `\0`. */
  readonly translation: string | Uint8Array;
}

/** Options of {@link writeMo}. */
export interface WriteMoOptions {
  /** Byte order of the header words and tables. @defaultValue false (little-endian) */
  readonly bigEndian?: boolean;
  /** The revision word (major << 16 | minor). @defaultValue 0 */
  readonly revision?: number;
  /** Keep the entries' order instead of sorting by original, as msgfmt does. */
  readonly unsorted?: boolean;
}

const bytes = (s: string | Uint8Array) => (typeof s === "string" ? Buffer.from(s, "utf8") : s);

/** A .mo file holding `entries`, strings NUL-terminated as msgfmt writes them. */
export function writeMo(entries: readonly MoEntry[], options: WriteMoOptions = {}): Buffer {
  const list = entries.map((e) => ({ o: bytes(e.original), t: bytes(e.translation) }));
  if (!options.unsorted) list.sort((a, b) => Buffer.compare(Buffer.from(a.o), Buffer.from(b.o)));
  const n = list.length;
  const originalsAt = 28;
  const translationsAt = originalsAt + 8 * n;
  let dataAt = translationsAt + 8 * n;
  const header = Buffer.alloc(dataAt);
  const little = !options.bigEndian;
  const put = (offset: number, value: number) =>
    little ? header.writeUInt32LE(value, offset) : header.writeUInt32BE(value, offset);
  put(0, 0x950412de);
  put(4, options.revision ?? 0);
  put(8, n);
  put(12, originalsAt);
  put(16, translationsAt);
  put(20, 0); // no hash table
  put(24, dataAt);
  const chunks: Uint8Array[] = [header];
  const place = (table: number, index: number, s: Uint8Array) => {
    put(table + 8 * index, s.length);
    put(table + 8 * index + 4, dataAt);
    chunks.push(s, new Uint8Array(1));
    dataAt += s.length + 1;
  };
  list.forEach((e, i) => place(originalsAt, i, e.o));
  list.forEach((e, i) => place(translationsAt, i, e.t));
  return Buffer.concat(chunks);
}

/** A standard header entry: UTF-8 (or `charset`) with a Plural-Forms line when given. */
export function moHeader(pluralForms?: string, charset = "UTF-8"): MoEntry {
  let text = `Project-Id-Version: test\nMIME-Version: 1.0\nContent-Type: text/plain; charset=${charset}\nContent-Transfer-Encoding: 8bit\n`;
  if (pluralForms !== undefined) text += `Plural-Forms: ${pluralForms}\n`;
  return { original: "", translation: text };
}
