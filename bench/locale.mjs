#!/usr/bin/env node
// tornado.locale throughput: tornado-ts against Python Tornado (Debian's python3-tornado)
// running the same calls on the same inputs.
//
//   npm run build && node bench/locale.mjs [count]
//
// Shapes (each `count` calls, median of several rounds):
// - formatDate: relative dates spread over the last two years, en_US;
// - formatDay: fr_FR with translated month and weekday names (CSV);
// - translate: CSV lookups, half plural;
// - ngettext: a gettext catalog with Russian plural forms (parsed formula vs Python's c2py);
// - list / friendlyNumber: short lists and 7-digit numbers, en_US.
// Ratios above 1 mean tornado-ts is faster. Python Tornado is skipped when not installed.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as locale from "tornado-ts/locale";

const COUNT = Math.min(Math.max(Number(process.argv[2] ?? 50_000) || 50_000, 1_000), 1_000_000);
const ROUNDS = 5;
const DAY = 86_400_000;

const dir = mkdtempSync(join(tmpdir(), "tornado-ts-bench-locale-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const csvDir = join(dir, "csv");
mkdirSync(csvDir);
writeFileSync(
  join(csvDir, "fr_FR.csv"),
  [
    "April,avril",
    "November,novembre",
    "Sunday,dimanche",
    "Monday,lundi",
    '"%(weekday)s, %(month_name)s %(day)s","%(weekday)s %(day)s %(month_name)s"',
    "school,\u00e9cole",
    "%(n)s cat,%(n)s chat,singular",
    "%(n)s cats,%(n)s chats,plural",
  ].join("\n"),
);

// A little-endian .mo with a Russian Plural-Forms header, written by hand.
function writeMo(entries) {
  const list = entries.map(([o, t]) => [Buffer.from(o), Buffer.from(t)]);
  list.sort((a, b) => Buffer.compare(a[0], b[0]));
  const n = list.length;
  let at = 28 + 16 * n;
  const head = Buffer.alloc(at);
  head.writeUInt32LE(0x950412de, 0);
  head.writeUInt32LE(n, 8);
  head.writeUInt32LE(28, 12);
  head.writeUInt32LE(28 + 8 * n, 16);
  const chunks = [head];
  for (const [table, column] of [
    [28, 0],
    [28 + 8 * n, 1],
  ]) {
    list.forEach((pair, i) => {
      head.writeUInt32LE(pair[column].length, table + 8 * i);
      head.writeUInt32LE(at, table + 8 * i + 4);
      chunks.push(pair[column], Buffer.alloc(1));
      at += pair[column].length + 1;
    });
  }
  return Buffer.concat(chunks);
}
const gettextDir = join(dir, "mo");
mkdirSync(join(gettextDir, "ru_RU", "LC_MESSAGES"), { recursive: true });
writeFileSync(
  join(gettextDir, "ru_RU", "LC_MESSAGES", "bench.mo"),
  writeMo([
    [
      "",
      "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\n",
    ],
    [
      "file\0files",
      "\u0444\u0430\u0439\u043b\0\u0444\u0430\u0439\u043b\u0430\0\u0444\u0430\u0439\u043b\u043e\u0432",
    ],
  ]),
);

const NOW = Date.UTC(2026, 10, 21, 23, 30);
const dates = Array.from(
  { length: 1000 },
  (_, i) => NOW - Math.floor(((i * 7919) % 1000) * 0.73 * DAY) - i * 61_000,
);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(fn) {
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    fn(COUNT);
    rounds.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return median(rounds);
}

locale.loadTranslations(csvDir);
const en = locale.get("en_US");
const fr = locale.get("fr_FR");
let sink = 0;
const ours = {
  formatDate: time((n) => {
    for (let i = 0; i < n; i++) sink += en.formatDate(dates[i % 1000], { now: NOW }).length;
  }),
  formatDay: time((n) => {
    for (let i = 0; i < n; i++) sink += fr.formatDay(dates[i % 1000]).length;
  }),
  translate: time((n) => {
    for (let i = 0; i < n; i++) {
      sink += (i & 1 ? fr.translate("school") : fr.translate("%(n)s cat", "%(n)s cats", i % 3))
        .length;
    }
  }),
  list: time((n) => {
    const parts = ["Alice", "Bob", "Carol", "Dave"];
    for (let i = 0; i < n; i++) sink += en.list(parts.slice(0, i % 5)).length;
  }),
  friendlyNumber: time((n) => {
    for (let i = 0; i < n; i++) sink += en.friendlyNumber(1_000_000 + i).length;
  }),
};
locale.loadGettextTranslations(gettextDir, "bench");
const ru = locale.get("ru_RU");
ours.ngettext = time((n) => {
  for (let i = 0; i < n; i++) sink += ru.translate("file", "files", i % 200).length;
});
if (sink === 0) throw new Error("nothing computed");

const PYTHON = String.raw`
import datetime, json, sys, time, types
import tornado.locale as L
count, rounds, now_ms, csv_dir, mo_dir, dates = json.load(sys.stdin)
EPOCH = datetime.datetime(1970, 1, 1)
class Fixed(datetime.datetime):
    @classmethod
    def utcnow(cls): return EPOCH + datetime.timedelta(milliseconds=now_ms)
    @classmethod
    def now(cls, tz=None):
        n = EPOCH + datetime.timedelta(milliseconds=now_ms)
        return n if tz is None else n.replace(tzinfo=tz)
L.datetime = types.SimpleNamespace(datetime=Fixed, timedelta=datetime.timedelta, timezone=datetime.timezone)
dts = [EPOCH + datetime.timedelta(milliseconds=d) for d in dates]
def timed(fn):
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn(count)
        out.append((time.perf_counter() - start) * 1000)
    return sorted(out)[len(out) // 2]
L.load_translations(csv_dir)
en, fr = L.get("en_US"), L.get("fr_FR")
def fd(n):
    for i in range(n): en.format_date(dts[i % 1000])
def fday(n):
    for i in range(n): fr.format_day(dts[i % 1000])
def tr(n):
    for i in range(n):
        fr.translate("school") if i & 1 else fr.translate("%(n)s cat", "%(n)s cats", i % 3)
parts = ["Alice", "Bob", "Carol", "Dave"]
def ls(n):
    for i in range(n): en.list(parts[: i % 5])
def num(n):
    for i in range(n): en.friendly_number(1000000 + i)
res = {"formatDate": timed(fd), "formatDay": timed(fday), "translate": timed(tr), "list": timed(ls), "friendlyNumber": timed(num)}
L.Locale._cache = {}
L.load_gettext_translations(mo_dir, "bench")
ru = L.get("ru_RU")
def ng(n):
    for i in range(n): ru.translate("file", "files", i % 200)
res["ngettext"] = timed(ng)
json.dump(res, sys.stdout)
`;

let python = null;
for (const candidate of ["/usr/bin/python3", "python3"]) {
  const probe = spawnSync(candidate, ["-c", "import tornado"], { stdio: "ignore" });
  if (probe.status === 0) {
    const r = spawnSync(candidate, ["-c", PYTHON], {
      input: JSON.stringify([COUNT, ROUNDS, NOW, csvDir, gettextDir, dates]),
      encoding: "utf8",
      timeout: 300_000,
    });
    if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
    python = JSON.parse(r.stdout);
    break;
  }
}

console.log(
  `tornado.locale, ${COUNT} calls per shape, median of ${ROUNDS} rounds (ms; ratio > 1: tornado-ts faster)`,
);
for (const [shape, ms] of Object.entries(ours)) {
  const py = python?.[shape];
  const ratio =
    py === undefined ? "" : `  python ${py.toFixed(1).padStart(8)}  ratio ${(py / ms).toFixed(2)}x`;
  console.log(`${shape.padEnd(15)} tornado-ts ${ms.toFixed(1).padStart(8)}${ratio}`);
}
if (python === null) console.log("(Python Tornado not installed: apt-get install python3-tornado)");
