import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type ArgumentMap,
  encodeHeader,
  type FileMap,
  getParseBodyConfig,
  HTTPFile,
  HTTPHeaders,
  HTTPInputError,
  ParseBodyConfig,
  ParseMultipartConfig,
  ParseUrlencodedConfig,
  parseBodyArguments,
  parseHeader,
  parseMultipartFormData,
  setParseBodyConfig,
} from "../../src/httputil.js";

function formDataArgs(): [ArgumentMap, FileMap] {
  return [new Map(), new Map()];
}

/** A multipart body written with LF line ends, as Tornado's tests do, turned into CRLF. */
function crlf(text: string): Buffer {
  return Buffer.from(text.replace(/\n/g, "\r\n"), "utf8");
}

function inputError(pattern?: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof HTTPInputError, `expected HTTPInputError, got ${String(error)}`);
    assert.equal(error.code, "ERR_HTTP_INPUT");
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

function onlyFile(files: FileMap, name = "files"): HTTPFile {
  const list = files.get(name);
  assert.ok(list !== undefined && list.length === 1, `one file under ${name}`);
  return list[0]!;
}

const SIMPLE = `--1234
Content-Disposition: form-data; name="files"; filename="ab.txt"

Foo
--1234--`;

test("a file part becomes an HTTPFile [test_file_upload]", () => {
  const [args, files] = formDataArgs();
  parseMultipartFormData("1234", crlf(SIMPLE), args, files);
  const file = onlyFile(files);
  assert.ok(file instanceof HTTPFile);
  assert.equal(file.filename, "ab.txt");
  assert.deepEqual(file.body, Buffer.from("Foo"));
  assert.equal(file.contentType, "application/unknown");
  assert.equal(args.size, 0);
});

test("quotes around parameter values are optional [test_unquoted_names]", () => {
  const data = crlf(`--1234
Content-Disposition: form-data; name=files; filename=ab.txt

Foo
--1234--`);
  const [args, files] = formDataArgs();
  parseMultipartFormData(Buffer.from("1234"), data, args, files);
  assert.equal(onlyFile(files).filename, "ab.txt");
  assert.deepEqual(onlyFile(files).body, Buffer.from("Foo"));
});

test("file names with quotes, semicolons and backslashes survive [test_special_filenames]", () => {
  const filenames = [
    "a;b.txt",
    'a"b.txt',
    'a";b.txt',
    'a;"b.txt',
    'a";";.txt',
    'a\\"b.txt',
    "a\\b.txt",
    "a b.txt",
    "a\tb.txt",
  ];
  for (const filename of filenames) {
    const escaped = filename.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
    const data = crlf(`--1234
Content-Disposition: form-data; name="files"; filename="${escaped}"

Foo
--1234--`);
    const [args, files] = formDataArgs();
    parseMultipartFormData("1234", data, args, files);
    assert.equal(onlyFile(files).filename, filename, filename);
    assert.deepEqual(onlyFile(files).body, Buffer.from("Foo"));
  }
});

test("control characters in part headers are refused [test_invalid_chars]", () => {
  for (const filename of ["a\rb.txt", "a\0b.txt", "a\x08b.txt"]) {
    const data = crlf(`--1234
Content-Disposition: form-data; name="files"; filename="${filename}"

Foo
--1234--`);
    const [args, files] = formDataArgs();
    assert.throws(
      () => parseMultipartFormData("1234", data, args, files),
      inputError(/Invalid header value/),
    );
    assert.equal(files.size, 0);
  }
});

test("RFC 5987 filename* wins and is decoded [test_non_ascii_filename_rfc5987]", () => {
  const data = crlf(`--1234
Content-Disposition: form-data; name="files"; filename="ab.txt"; filename*=UTF-8''%C3%A1b.txt

Foo
--1234--`);
  const [args, files] = formDataArgs();
  parseMultipartFormData("1234", data, args, files);
  assert.equal(onlyFile(files).filename, "áb.txt");
});

test("raw UTF-8 file names are accepted [test_non_ascii_filename_raw]", () => {
  const data = crlf(`--1234
Content-Disposition: form-data; name="files"; filename="测试.txt"

Foo
--1234--`);
  const [args, files] = formDataArgs();
  parseMultipartFormData("1234", data, args, files);
  assert.equal(onlyFile(files).filename, "测试.txt");
});

test("a Uint8Array body and boundary work as Buffers do; other types are refused", () => {
  const bytes = new Uint8Array(crlf(SIMPLE));
  const [args, files] = formDataArgs();
  parseMultipartFormData(new TextEncoder().encode("1234"), bytes, args, files);
  assert.equal(onlyFile(files).filename, "ab.txt");
  assert.ok(Buffer.isBuffer(onlyFile(files).body));
  parseBodyArguments(
    "application/x-www-form-urlencoded",
    new TextEncoder().encode("q=1"),
    args,
    files,
  );
  assert.deepEqual(args.get("q"), [Buffer.from("1")]);
  assert.throws(() => parseMultipartFormData("1234", SIMPLE as never, args, files), TypeError);
});

test("part headers that are not UTF-8 are an input error", () => {
  const data = Buffer.concat([
    Buffer.from('--1234\r\nContent-Disposition: form-data; name="f"; filename="'),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('"\r\n\r\nFoo\r\n--1234--'),
  ]);
  const [args, files] = formDataArgs();
  assert.throws(() => parseMultipartFormData("1234", data, args, files), inputError(/UTF-8/));
});

test("a quoted boundary is unquoted [test_boundary_starts_and_ends_with_quotes]", () => {
  const [args, files] = formDataArgs();
  parseMultipartFormData('"1234"', crlf(SIMPLE), args, files);
  assert.equal(onlyFile(files).filename, "ab.txt");
  assert.deepEqual(onlyFile(files).body, Buffer.from("Foo"));
});

test("a part without headers is refused [test_missing_headers]", () => {
  const data = crlf(`--1234

Foo
--1234--`);
  const [args, files] = formDataArgs();
  assert.throws(
    () => parseMultipartFormData("1234", data, args, files),
    inputError(/multipart\/form-data missing headers/),
  );
  assert.equal(files.size, 0);
});

test("a disposition other than form-data is refused [test_invalid_content_disposition]", () => {
  const data = crlf(`--1234
Content-Disposition: invalid; name="files"; filename="ab.txt"

Foo
--1234--`);
  const [args, files] = formDataArgs();
  assert.throws(
    () => parseMultipartFormData("1234", data, args, files),
    inputError(/^Invalid multipart\/form-data$/),
  );
  assert.equal(files.size, 0);
});

test("a part not ended by CRLF is refused [test_line_does_not_end_with_correct_line_break]", () => {
  const data = crlf(`--1234
Content-Disposition: form-data; name="files"; filename="ab.txt"

Foo--1234--`);
  const [args, files] = formDataArgs();
  assert.throws(
    () => parseMultipartFormData("1234", data, args, files),
    inputError(/^Invalid multipart\/form-data$/),
  );
  assert.equal(files.size, 0);
});

test("a disposition without name is refused [test_content_disposition_header_without_name_parameter]", () => {
  const data = crlf(`--1234
Content-Disposition: form-data; filename="ab.txt"

Foo
--1234--`);
  const [args, files] = formDataArgs();
  assert.throws(
    () => parseMultipartFormData("1234", data, args, files),
    inputError(/missing name/),
  );
  assert.equal(files.size, 0);
});

test("a part without Content-Disposition is refused", () => {
  const data = crlf(`--1234
Content-Type: text/plain

Foo
--1234--`);
  const [args, files] = formDataArgs();
  assert.throws(
    () => parseMultipartFormData("1234", data, args, files),
    inputError(/^Invalid multipart\/form-data$/),
  );
});

test("data after the final boundary is ignored [test_data_after_final_boundary]", () => {
  const [args, files] = formDataArgs();
  parseMultipartFormData("1234", crlf(`${SIMPLE}\n`), args, files);
  assert.equal(onlyFile(files).filename, "ab.txt");
  assert.deepEqual(onlyFile(files).body, Buffer.from("Foo"));
});

test("fields, repeated names, content types and empty values all land in the maps", () => {
  const data = crlf(`--b
Content-Disposition: form-data; name="a"

1
--b
Content-Disposition: form-data; name="a"

two
lines
--b
Content-Disposition: form-data; name="empty"


--b
Content-Disposition: form-data; name="up"; filename="x.bin"
Content-Type: application/octet-stream

\u0000\u0001
--b--
`);
  const [args, files] = formDataArgs();
  parseMultipartFormData("b", data, args, files);
  assert.deepEqual(args.get("a"), [Buffer.from("1"), Buffer.from("two\r\nlines")]);
  assert.deepEqual(args.get("empty"), [Buffer.alloc(0)]);
  const file = onlyFile(files, "up");
  assert.equal(file.contentType, "application/octet-stream");
  assert.deepEqual(file.body, Buffer.from([0, 1]));
  // Values are views into the body, not copies.
  assert.equal(file.body.buffer, data.buffer);
});

test("a missing, empty or unterminated body is an input error, never a crash", () => {
  const cases: Array<[string | Buffer, Buffer, RegExp]> = [
    ["1234", Buffer.alloc(0), /no final boundary/],
    [
      "1234",
      crlf('--1234\nContent-Disposition: form-data; name="a"\n\nFoo\n'),
      /no final boundary/,
    ],
    [
      "1234",
      crlf('--1234\nContent-Disposition: form-data; name="a"\n\nFoo\n--1234'),
      /no final boundary/,
    ],
    ["", crlf(SIMPLE), /boundary is empty/],
    ['"', crlf(SIMPLE), /no final boundary/],
    ['""', crlf(SIMPLE), /boundary is empty/],
    [
      "1234",
      crlf("preamble\n--1234\nContent-Disposition: form-data; name=a\n\nx\n--1234--"),
      /missing headers/,
    ],
    ["1234", crlf('--1234\nContent-Disposition: form-data; name="a\nb"\n\nx\n--1234--'), /./],
    ["1234", crlf("--1234\nno colon here\n\nx\n--1234--"), /No colon/],
    ["1234", crlf("--1234\n Content-Disposition: form-data; name=a\n\nx\n--1234--"), /whitespace/],
  ];
  for (const [boundary, data, pattern] of cases) {
    const [args, files] = formDataArgs();
    assert.throws(
      () => parseMultipartFormData(boundary, data, args, files),
      inputError(pattern),
      data.toString("latin1"),
    );
  }
  // A part whose blank line runs straight into the next boundary has an empty value.
  const [args, files] = formDataArgs();
  parseMultipartFormData(
    "1234",
    crlf('--1234\nContent-Disposition: form-data; name="a"\n\n--1234--'),
    args,
    files,
  );
  assert.deepEqual(args.get("a"), [Buffer.alloc(0)]);
});

test("nested quotes and semicolons in parameters parse in linear time [test_disposition_param_linear_performance]", () => {
  function f(n: number): number {
    const start = performance.now();
    const message = Buffer.from(
      `--1234\r\nContent-Disposition: form-data; x="${";".repeat(n)}"; name="files"; filename="a.txt"\r\n\r\nFoo\r\n--1234--\r\n`,
    );
    const [args, files] = formDataArgs();
    parseMultipartFormData(
      "1234",
      message,
      args,
      files,
      new ParseMultipartConfig({ maxPartHeaderSize: 1e6 }),
    );
    assert.equal(onlyFile(files).filename, "a.txt");
    return performance.now() - start;
  }
  // Tornado compares 10³ with 10⁴ semicolons by ratio; on a shared CPU the ratio is noise, so
  // this bounds the time of 2·10⁵: a few ms when linear, tens of seconds when quadratic.
  const small = Math.min(f(1_000), f(1_000), f(1_000));
  const large = Math.min(f(200_000), f(200_000));
  assert.ok(large < 3000, `disposition param parsing is not linear: ${small} vs ${large} ms`);
  // And a hostile header-sized (64 KiB) run of quotes and semicolons stays fast.
  const start = performance.now();
  const [value] = parseHeader(`form-data; x="${'";'.repeat(32_768)}; name=a`);
  assert.equal(value, "form-data");
  assert.ok(performance.now() - start < 3000); // ms: tens when linear, on a busy CPU
});

test("maxParts, maxPartHeaderSize and enabled limit parsing [test_multipart_config]", () => {
  const body = crlf(`--1234
Content-Disposition: form-data; name="files"; filename="ab.txt"

--1234--`);
  let [args, files] = formDataArgs();
  parseMultipartFormData("1234", body, args, files, new ParseMultipartConfig());
  assert.equal(onlyFile(files).filename, "ab.txt");
  assert.deepEqual(onlyFile(files).body, Buffer.alloc(0));

  [args, files] = formDataArgs();
  assert.throws(
    () =>
      parseMultipartFormData("1234", body, args, files, new ParseMultipartConfig({ maxParts: 0 })),
    inputError(/too many parts/),
  );
  assert.throws(
    () =>
      parseMultipartFormData(
        "1234",
        body,
        args,
        files,
        new ParseMultipartConfig({ maxPartHeaderSize: 10 }),
      ),
    inputError(/header too large/),
  );
  assert.throws(
    () =>
      parseMultipartFormData(
        "1234",
        body,
        args,
        files,
        new ParseMultipartConfig({ enabled: false }),
      ),
    inputError(/multipart\/form-data parsing is disabled/),
  );
  assert.equal(files.size, 0);
  assert.throws(() => new ParseMultipartConfig({ maxParts: -1 }), RangeError);
  assert.throws(() => new ParseMultipartConfig({ maxPartHeaderSize: 1.5 }), RangeError);
});

test("10⁵ parts in a small body stop at the part limit without adding any (GHSA-qjxf-f2mg-c6mc)", () => {
  const part = '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n';
  const body = Buffer.from(`${part.repeat(100_000)}--b--`);
  const [args, files] = formDataArgs();
  const start = performance.now();
  assert.throws(() => parseMultipartFormData("b", body, args, files), inputError(/too many parts/));
  assert.ok(performance.now() - start < 3000); // ms: tens when linear, on a busy CPU
  assert.equal(args.size, 0);
  // Exactly maxParts parts pass.
  const hundred = Buffer.from(`${part.repeat(100)}--b--`);
  parseMultipartFormData("b", hundred, args, files);
  assert.equal(args.get("a")?.length, 100);
});

test("many malformed parts give one error (CVE-2025-47287)", () => {
  const body = Buffer.from(`${"--b\r\ngarbage\r\n".repeat(90)}--b--`);
  const [args, files] = formDataArgs();
  assert.throws(
    () => parseMultipartFormData("b", body, args, files),
    inputError(/missing headers/),
  );
});

test("parseBodyArguments reads urlencoded bodies, keeping blanks", () => {
  const [args, files] = formDataArgs();
  args.set("a", [Buffer.from("0")]);
  parseBodyArguments(
    "application/x-www-form-urlencoded; charset=UTF-8",
    Buffer.from("a=1&b=%C3%A9&c=&d&a=x+y&&__proto__=p"),
    args,
    files,
  );
  assert.deepEqual(args.get("a"), [Buffer.from("0"), Buffer.from("1"), Buffer.from("x y")]);
  assert.deepEqual(args.get("b"), [Buffer.from("é")]);
  assert.deepEqual(args.get("c"), [Buffer.alloc(0)]);
  assert.deepEqual(args.get("d"), [Buffer.alloc(0)]);
  assert.deepEqual(args.get("__proto__"), [Buffer.from("p")]);
  assert.equal(files.size, 0);
});

test("parseBodyArguments reads multipart bodies with quoted boundaries", () => {
  const [args, files] = formDataArgs();
  parseBodyArguments('multipart/form-data; boundary="1234"', crlf(SIMPLE), args, files);
  assert.equal(onlyFile(files).filename, "ab.txt");
  const [args2, files2] = formDataArgs();
  parseBodyArguments(
    "multipart/form-data; charset=utf-8; boundary=1234",
    crlf(SIMPLE),
    args2,
    files2,
  );
  assert.equal(onlyFile(files2).filename, "ab.txt");
});

test("parseBodyArguments refuses bad multipart content types and boundaries", () => {
  const cases: Array<[string, RegExp]> = [
    [
      "multipart/form-dataxyz; boundary=1234",
      /^Invalid multipart\/form-data: Invalid content type$/,
    ],
    ["multipart/form-data", /multipart boundary not found/],
    ["multipart/form-data; boundary=", /multipart boundary not found/],
    ["multipart/form-data; boundary=zzz", /no final boundary found/],
  ];
  for (const [contentType, pattern] of cases) {
    const [args, files] = formDataArgs();
    assert.throws(
      () => parseBodyArguments(contentType, crlf(SIMPLE), args, files),
      (error: unknown) => {
        inputError(pattern)(error);
        assert.ok((error as Error).cause instanceof HTTPInputError);
        return true;
      },
    );
  }
});

test("parseBodyArguments refuses a Content-Encoding and ignores other types", () => {
  const headers = new HTTPHeaders({ "Content-Encoding": "gzip" });
  for (const contentType of [
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=1234",
  ]) {
    const [args, files] = formDataArgs();
    assert.throws(
      () => parseBodyArguments(contentType, crlf(SIMPLE), args, files, headers),
      inputError(/Unsupported Content-Encoding: "gzip"/),
    );
  }
  const [args, files] = formDataArgs();
  parseBodyArguments("application/json", Buffer.from("a=1"), args, files, headers);
  parseBodyArguments("", Buffer.from("a=1"), args, files);
  assert.equal(args.size, 0);
});

test("urlencoded bodies with more fields than the limit are refused", () => {
  const body = Buffer.from("a=1&".repeat(1_000_000));
  const [args, files] = formDataArgs();
  const start = performance.now();
  assert.throws(
    () => parseBodyArguments("application/x-www-form-urlencoded", body, args, files),
    inputError(/more than 1000 fields/),
  );
  assert.ok(performance.now() - start < 3000); // ms: tens when linear, on a busy CPU
  const config = new ParseBodyConfig({ urlencoded: new ParseUrlencodedConfig({ maxFields: 3 }) });
  parseBodyArguments(
    "application/x-www-form-urlencoded",
    Buffer.from("a&b&c"),
    args,
    files,
    null,
    config,
  );
  assert.equal(args.size, 3);
  assert.throws(() =>
    parseBodyArguments(
      "application/x-www-form-urlencoded",
      Buffer.from("a&b&c&d"),
      args,
      files,
      null,
      config,
    ),
  );
});

test("setParseBodyConfig changes the global default", (t) => {
  const original = getParseBodyConfig();
  t.after(() => setParseBodyConfig(original));
  setParseBodyConfig(
    new ParseBodyConfig({ multipart: new ParseMultipartConfig({ enabled: false }) }),
  );
  const [args, files] = formDataArgs();
  assert.throws(
    () =>
      parseBodyArguments(
        "multipart/form-data; boundary=foo",
        Buffer.from("--foo--\r\n"),
        args,
        files,
      ),
    inputError(/multipart\/form-data parsing is disabled/),
  );
  setParseBodyConfig(original);
  parseBodyArguments("multipart/form-data; boundary=foo", Buffer.from("--foo--\r\n"), args, files);
  assert.throws(() => setParseBodyConfig({} as ParseBodyConfig), TypeError);
});

test("parseHeader splits parameters outside quotes and decodes RFC 2231", () => {
  const [value, params] = parseHeader(`form-data; foo="b\\\\a\\"r"; file*=utf-8''T%C3%A4st`);
  assert.equal(value, "form-data");
  assert.equal(params["file"], "Täst");
  assert.equal(params["foo"], 'b\\a"r');
  assert.deepEqual(parseHeader("text/html; Charset=UTF-8"), [
    "text/html",
    Object.assign(Object.create(null), { charset: "UTF-8" }),
  ]);
  // Continuations, numbered and encoded.
  const [, p2] = parseHeader(`attachment; title*0*=us-ascii'en'This%20is%20; title*1="fun"`);
  assert.equal(p2["title"], "This is fun");
  const [, p3] = parseHeader(`a; name*=iso-8859-1''%E9t%E9; x*=bogus-charset''%41`);
  assert.equal(p3["name"], "été");
  assert.equal(p3["x"], "A");
  // Valueless parameters are dropped; empty input gives an empty value.
  assert.deepEqual(
    Object.keys(parseHeader("permessage-deflate; client_no_context_takeover")[1]),
    [],
  );
  assert.deepEqual(parseHeader(""), ["", Object.create(null)]);
  assert.equal(parseHeader("a; __proto__=x")[1]["__proto__"], "x");
  assert.throws(() => parseHeader("a; n*=x; n*0=y"), inputError(/RFC 2231/));
});

test("encodeHeader is parseHeader's inverse, sorted", () => {
  assert.equal(
    encodeHeader("permessage-deflate", {
      client_no_context_takeover: null,
      client_max_window_bits: 15,
    }),
    "permessage-deflate; client_max_window_bits=15; client_no_context_takeover",
  );
  assert.equal(encodeHeader("x", {}), "x");
});
