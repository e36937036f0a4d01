import assert from "node:assert/strict";
import { connect } from "node:net";
import { test } from "node:test";
import zlib from "node:zlib";
import { bindUnusedPort } from "../src/testing.js";
import {
  Configurable,
  type ConfigurableClass,
  configurable,
  errnoFromException,
  DecompressionError,
  GzipDecompressor,
  reUnescape,
  ZlibDecompressor,
  TimeoutError,
  timedeltaToMs,
  latin1,
  websocketMask,
} from "../src/util.js";

// ---------------------------------------------------------------------------------------------
// Configurable: the hierarchy of Tornado's util_test, with an inner configurable level.

interface TestOptions {
  posArg?: number;
  a?: number;
  b?: number;
}

const TestConfigurable = configurable(
  class TestConfigurable extends Configurable {
    static override configurableDefault(): ConfigurableClass {
      return TestConfig1;
    }
  },
);

class TestConfig1 extends TestConfigurable {
  a: number | undefined;
  posArg: number | undefined;
  constructor(options: TestOptions = {}) {
    super(options);
    this.a = options.a;
    this.posArg = options.posArg;
  }
}

class TestConfig2 extends TestConfigurable {
  b: number | undefined;
  posArg: number | undefined;
  constructor(options: TestOptions = {}) {
    super(options);
    this.b = options.b;
    this.posArg = options.posArg;
  }
}

const TestConfig3 = configurable(
  class TestConfig3 extends TestConfigurable {
    static override configurableDefault(): ConfigurableClass {
      return TestConfig3A;
    }
  },
);

class TestConfig3A extends TestConfig3 {
  a: number | undefined;
  constructor(options: TestOptions = {}) {
    super(options);
    this.a = options.a;
  }
}

class TestConfig3B extends TestConfig3 {
  b: number | undefined;
  constructor(options: TestOptions = {}) {
    super(options);
    this.b = options.b;
  }
}

/** Restores both hierarchies after the test, as Tornado's setUp/tearDown do. */
function keepConfiguration(t: { after: (fn: () => void) => void }): void {
  const saved = TestConfigurable.saveConfiguration();
  const saved3 = TestConfig3.saveConfiguration();
  t.after(() => {
    TestConfigurable.restoreConfiguration(saved);
    TestConfig3.restoreConfiguration(saved3);
  });
}

/** Whatever the configuration, the implementations construct directly with their own options. */
function checkSubclasses(): void {
  assert.ok(new TestConfig1() instanceof TestConfig1);
  assert.ok(new TestConfig2() instanceof TestConfig2);
  assert.equal(new TestConfig1({ a: 1 }).a, 1);
  assert.equal(new TestConfig2({ b: 2 }).b, 2);
}

test("the base builds its default implementation [test_default]", (t) => {
  keepConfiguration(t);
  const obj = new TestConfigurable() as TestConfig1;
  assert.ok(obj instanceof TestConfig1);
  assert.ok(obj instanceof TestConfigurable);
  assert.equal(obj.a, undefined);
  const withA = new TestConfigurable({ a: 1 }) as TestConfig1;
  assert.ok(withA instanceof TestConfig1);
  assert.equal(withA.a, 1);
  checkSubclasses();
});

test("configure picks the class the base builds [test_config_class]", (t) => {
  keepConfiguration(t);
  TestConfigurable.configure(TestConfig2);
  const obj = new TestConfigurable() as TestConfig2;
  assert.ok(obj instanceof TestConfig2);
  assert.equal(obj.b, undefined);
  const withB = new TestConfigurable({ b: 2 }) as TestConfig2;
  assert.ok(withB instanceof TestConfig2);
  assert.equal(withB.b, 2);
  assert.equal(TestConfigurable.configuredClass(), TestConfig2);
  checkSubclasses();
});

test("configured defaults apply through the base only, under the given options [test_config_args]", (t) => {
  keepConfiguration(t);
  TestConfigurable.configure(null, { a: 3 });
  const obj = new TestConfigurable() as TestConfig1;
  assert.ok(obj instanceof TestConfig1);
  assert.equal(obj.a, 3);
  const given = new TestConfigurable({ posArg: 42, a: 4 }) as TestConfig1;
  assert.equal(given.a, 4);
  assert.equal(given.posArg, 42);
  checkSubclasses();
  assert.equal(new TestConfig1().a, undefined);
});

test("a configured class gets the configured defaults [test_config_class_args]", (t) => {
  keepConfiguration(t);
  TestConfigurable.configure(TestConfig2, { b: 5 });
  const obj = new TestConfigurable() as TestConfig2;
  assert.ok(obj instanceof TestConfig2);
  assert.equal(obj.b, 5);
  const given = new TestConfigurable({ posArg: 42, b: 6 }) as TestConfig2;
  assert.equal(given.b, 6);
  assert.equal(given.posArg, 42);
  checkSubclasses();
  assert.equal(new TestConfig2().b, undefined);
});

test("an implementation that is itself configurable dispatches again [test_config_multi_level]", (t) => {
  keepConfiguration(t);
  TestConfigurable.configure(TestConfig3, { a: 1 });
  const obj = new TestConfigurable() as TestConfig3A;
  assert.ok(obj instanceof TestConfig3A);
  assert.equal(obj.a, 1);

  TestConfigurable.configure(TestConfig3);
  TestConfig3.configure(TestConfig3B, { b: 2 });
  const obj2 = new TestConfigurable() as TestConfig3B;
  assert.ok(obj2 instanceof TestConfig3B);
  assert.equal(obj2.b, 2);
});

test("each base keeps its own configuration [test_config_inner_level]", (t) => {
  keepConfiguration(t);
  assert.ok(new TestConfig3() instanceof TestConfig3A);
  TestConfig3.configure(TestConfig3B);
  assert.ok(new TestConfig3() instanceof TestConfig3B);

  // Configuring the inner base leaves the outer one alone, and the other way round.
  assert.ok(new TestConfigurable() instanceof TestConfig1);
  TestConfigurable.configure(TestConfig2);
  assert.ok(new TestConfigurable() instanceof TestConfig2);
  assert.ok(new TestConfig3() instanceof TestConfig3B);
  assert.equal(TestConfig3.configurableBase(), TestConfig3);
  assert.equal(TestConfig1.configurableBase(), TestConfigurable);
  assert.equal(TestConfig3B.configurableBase(), TestConfig3);
});

test("configure through a subclass sets its base's configuration", (t) => {
  keepConfiguration(t);
  TestConfig1.configure(TestConfig1, { a: 7 });
  const obj = new TestConfigurable() as TestConfig1;
  assert.equal(obj.a, 7);
});

test("configure rejects a class outside the hierarchy; configurable needs a Configurable", (t) => {
  keepConfiguration(t);
  class Stranger extends Configurable {}
  assert.throws(() => TestConfigurable.configure(Stranger), {
    name: "TypeError",
    code: "ERR_INVALID_CONFIGURABLE",
  });
  assert.throws(() => TestConfig3.configure(TestConfig2), { code: "ERR_INVALID_CONFIGURABLE" });
  assert.throws(() => Stranger.configuredClass(), { code: "ERR_INVALID_CONFIGURABLE" });
  assert.throws(() => configurable(class NotConfigurable {} as unknown as typeof Configurable), {
    code: "ERR_INVALID_CONFIGURABLE",
  });
  const NoDefault = configurable(class NoDefault extends Configurable {});
  assert.throws(() => new NoDefault(), /must define static configurableDefault/);
});

test("fields and #private members of the base are set once on the built instance", () => {
  let baseConstructed = 0;
  const Counter = configurable(
    class Counter extends Configurable {
      #count = 0;
      readonly start: number;
      constructor(options: { start?: number } = {}) {
        super(options);
        baseConstructed++;
        this.start = options.start ?? 0;
      }
      static override configurableDefault(): ConfigurableClass {
        return FastCounter;
      }
      increment(): number {
        return this.start + ++this.#count;
      }
    },
  );
  class FastCounter extends Counter {
    readonly fast = true;
  }
  Counter.configure(null, { start: 10 });
  const counter = new Counter() as FastCounter;
  assert.ok(counter instanceof FastCounter);
  assert.equal(counter.fast, true);
  assert.equal(baseConstructed, 1);
  assert.equal(counter.increment(), 11);
  assert.equal(counter.increment(), 12);
});

test("a base can hand out existing instances by overriding instantiate", () => {
  const cache = new Map<unknown, Configurable>();
  const Cached = configurable(
    class Cached extends Configurable {
      static override configurableDefault(): ConfigurableClass {
        return CachedImpl;
      }
      static override instantiate(
        build: () => Configurable,
        impl: ConfigurableClass,
        options: { force?: boolean } | undefined,
      ): Configurable {
        if (options?.force) return build();
        let instance = cache.get(impl);
        if (instance === undefined) cache.set(impl, (instance = build()));
        return instance;
      }
    },
  );
  class CachedImpl extends Cached {}
  const first = new Cached();
  assert.ok(first instanceof CachedImpl);
  assert.equal(new Cached(), first);
  assert.notEqual(new Cached({ force: true }), first);
  assert.notEqual(new CachedImpl(), first);
});

test("configurable also works as a standard class decorator", () => {
  @configurable
  class Decorated extends Configurable {
    static override configurableDefault(): ConfigurableClass {
      return DecoratedImpl;
    }
  }
  class DecoratedImpl extends Decorated {}
  assert.ok(new Decorated() instanceof DecoratedImpl);
  assert.equal(DecoratedImpl.configurableBase(), Decorated);
});

// ---------------------------------------------------------------------------------------------
// GzipDecompressor

test("GzipDecompressor decompresses a stream fed one byte at a time", () => {
  const data = Buffer.from("hello gzip ".repeat(1000));
  const compressed = zlib.gzipSync(data);
  const d = new GzipDecompressor();
  const parts: Buffer[] = [];
  for (const byte of compressed) parts.push(d.decompress(Buffer.from([byte])));
  parts.push(d.flush());
  assert.deepEqual(Buffer.concat(parts), data);
});

test("decompress returns at most maxLength and keeps the rest of the input in unconsumedTail", () => {
  const data = Buffer.alloc(1 << 20, "abcdefgh");
  const compressed = zlib.gzipSync(data);
  const d = new GzipDecompressor();
  const parts: Buffer[] = [];
  let input: Buffer = compressed;
  let calls = 0;
  do {
    const out = d.decompress(input, 10_000);
    assert.ok(out.length <= 10_000);
    parts.push(out);
    input = d.unconsumedTail;
    calls++;
  } while (input.length > 0 && calls < 1000);
  parts.push(d.flush());
  assert.deepEqual(Buffer.concat(parts), data);
  assert.ok(calls > 1);
});

test("a compression bomb is inflated only as far as the caller asks", () => {
  // 64 MiB of zeros in about 64 KiB.
  const bomb = zlib.gzipSync(Buffer.alloc(64 << 20), { level: 9 });
  assert.ok(bomb.length < 128 * 1024);
  const d = new GzipDecompressor();
  const first = d.decompress(bomb, 64 * 1024);
  assert.equal(first.length, 64 * 1024);
  // Most of the input is still unread: nothing past 64 KiB was inflated.
  assert.ok(d.unconsumedTail.length > bomb.length / 2);
  // A caller that stops at its limit stops the inflation with it.
  let total = first.length;
  let input = d.unconsumedTail;
  while (input.length > 0 && total < 1 << 20) {
    total += d.decompress(input, 64 * 1024).length;
    input = d.unconsumedTail;
  }
  assert.equal(total, 1 << 20);
  assert.ok(input.length > 0);
  assert.throws(() => d.flush(1024), {
    name: "DecompressionError",
    code: "ERR_DECOMPRESS_TOO_LARGE",
  });
});

test("corrupt gzip data throws DecompressionError and closes the decompressor", () => {
  const d = new GzipDecompressor();
  assert.throws(
    () => d.decompress(Buffer.from("definitely not gzip")),
    (e) => {
      assert.ok(e instanceof DecompressionError);
      assert.equal(e.code, "ERR_DECOMPRESS_DATA");
      assert.equal(e.zlibCode, "Z_DATA_ERROR");
      return true;
    },
  );
  assert.throws(() => d.decompress(zlib.gzipSync("x")), { code: "ERR_DECOMPRESS_CLOSED" });
});

test("flush detects truncated input and closes the decompressor", () => {
  const compressed = zlib.gzipSync(Buffer.from("some text that gets cut"));
  const d = new GzipDecompressor();
  const partial = d.decompress(compressed.subarray(0, compressed.length - 4));
  assert.equal(partial.toString(), "some text that gets cut");
  assert.throws(() => d.flush(), { name: "DecompressionError", code: "ERR_DECOMPRESS_TRUNCATED" });
  assert.throws(() => d.decompress(Buffer.alloc(0)), { code: "ERR_DECOMPRESS_CLOSED" });
});

test("close releases the decompressor; later calls throw ERR_DECOMPRESS_CLOSED", () => {
  const d = new GzipDecompressor();
  d.decompress(zlib.gzipSync("partial").subarray(0, 12));
  d.close();
  d.close();
  assert.throws(() => d.decompress(Buffer.from("x")), { code: "ERR_DECOMPRESS_CLOSED" });
  assert.throws(() => d.flush(), { code: "ERR_DECOMPRESS_CLOSED" });
});

test("flush of a complete stream returns what is left, and concatenated members all decode", () => {
  const d = new GzipDecompressor();
  const two = Buffer.concat([zlib.gzipSync("hello "), zlib.gzipSync("world")]);
  const out = Buffer.concat([d.decompress(two), d.flush()]);
  assert.equal(out.toString(), "hello world");
  assert.throws(() => new GzipDecompressor().decompress(Buffer.alloc(1), -1), {
    name: "RangeError",
    code: "ERR_OUT_OF_RANGE",
  });
});

test("raw deflate messages with a sync flush decode one by one, bombs stopped at the limit", () => {
  // WebSocket permessage-deflate: each message is raw deflate ending in a sync flush (the
  // trailing 00 00 ff ff, which the sender strips and the receiver appends back).
  const messages = ["hello", "hello again", "x".repeat(10_000)];
  const d = new ZlibDecompressor({ format: "raw" });
  const tail = Buffer.from([0x00, 0x00, 0xff, 0xff]);
  for (const message of messages) {
    const frame = zlib.deflateRawSync(message, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    assert.deepEqual(frame.subarray(-4), tail);
    const out = d.decompress(frame, 1 << 20);
    assert.equal(out.toString(), message);
    assert.equal(d.unconsumedTail.length, 0);
  }
  const bomb = zlib.deflateRawSync(Buffer.alloc(32 << 20));
  const limited = new ZlibDecompressor({ format: "raw" });
  const first = limited.decompress(bomb, 1 << 20);
  assert.equal(first.length, 1 << 20);
  assert.ok(limited.unconsumedTail.length > 0);
  limited.close();
});

test("the deflate format reads zlib-wrapped data; bad options are RangeErrors", () => {
  const d = new ZlibDecompressor({ format: "deflate" });
  const data = Buffer.from("zlib wrapped ".repeat(100));
  const out = Buffer.concat([d.decompress(zlib.deflateSync(data)), d.flush()]);
  assert.deepEqual(out, data);
  assert.throws(() => new ZlibDecompressor({ windowBits: 16 }), RangeError);
  assert.throws(() => new ZlibDecompressor({ format: "brotli" as "raw" }), {
    code: "ERR_INVALID_ARG_VALUE",
  });
  assert.throws(
    () => new ZlibDecompressor({ format: "raw" }).decompress(Buffer.from([0xff, 0xff])),
    {
      name: "DecompressionError",
      message: /^raw: /,
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Small helpers

test("reUnescape undoes regex escaping [test_re_unescape]", () => {
  const cases: [string, string][] = [
    ["\\/favicon\\.ico", "/favicon.ico"],
    ["index\\.html", "index.html"],
    ["Hello\\,\\ World\\!", "Hello, World!"],
    ["\\!\\$\\@\\#\\%\\;", "!$@#%;"],
    ["a\\\nb\\\u{1f600}", "a\nb\u{1f600}"],
  ];
  for (const [escaped, text] of cases) assert.equal(reUnescape(escaped), text);
});

test("reUnescape rejects escapes with no literal meaning [test_re_unescape_raises_error_on_invalid_input]", () => {
  for (const escape of ["\\d", "\\b", "\\Z", "\\n"]) {
    assert.throws(() => reUnescape(escape), { name: "RangeError", code: "ERR_INVALID_ESCAPE" });
  }
});

test("timedeltaToMs converts duration parts to milliseconds [test_timedelta_to_seconds]", () => {
  assert.equal(timedeltaToMs({ hours: 1 }), 3_600_000);
  assert.equal(timedeltaToMs({ days: 1, seconds: 1.5, microseconds: 500 }), 86_401_500.5);
  assert.equal(timedeltaToMs({ weeks: 1 }), 604_800_000);
  assert.equal(timedeltaToMs(250), 250);
  assert.throws(() => timedeltaToMs({ seconds: Number.NaN }), RangeError);
});

test("errnoFromException names the errno of a refused connection", async (t) => {
  const { server, port } = await bindUnusedPort();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const error = await new Promise<Error>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    t.after(() => socket.destroy());
    socket.once("error", resolve);
  });
  assert.equal(errnoFromException(error), "ECONNREFUSED");
  assert.equal(errnoFromException({ errno: -104 }), "ECONNRESET");
  assert.equal(errnoFromException(new Error("plain")), undefined);
  assert.equal(errnoFromException(null), undefined);
});

test("websocketMask XORs with the repeating mask (RFC 6455 example) and is its own inverse", () => {
  const mask = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const masked = websocketMask(mask, Buffer.from("Hello"));
  assert.deepEqual(masked, Buffer.from([0x7f, 0x9f, 0x4d, 0x51, 0x58]));
  assert.equal(websocketMask(mask, masked).toString(), "Hello");
  assert.throws(() => websocketMask(Buffer.alloc(3), masked), RangeError);
});

test("TimeoutError has its name and code", () => {
  const error = new TimeoutError();
  assert.equal(error.name, "TimeoutError");
  assert.equal(error.code, "ERR_TIMEOUT");
  assert.equal(error.message, "Timeout");
});

test("latin1 decodes every byte to the character of the same code, over a range", () => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const text = latin1(all);
  assert.equal(text.length, 256);
  for (let i = 0; i < 256; i++) assert.equal(text.charCodeAt(i), i);
  assert.equal(text, all.toString("latin1"));
  assert.equal(latin1(all, 65, 70), "ABCDE");
  assert.equal(latin1(all.subarray(200), 1, 3), "\xc9\xca");
  assert.equal(latin1(Buffer.alloc(0)), "");
});
