#!/usr/bin/env node
// Template rendering: tornado-ts against eta, ejs, handlebars and Python's tornado.template.
//
//   npm run build && node bench/template.mjs [seconds-per-round]
//
// The page: a layout (tornado-ts and Python: {% extends %}; eta: layout(); ejs and handlebars:
// the page rendered into a layout template) around a table of 100 items, each with three
// escaped fields and a conditional. Every engine escapes HTML. Each contender renders for a
// fixed time per round, rounds alternate between contenders, the median renders/s is
// reported with the ratio of tornado-ts to each peer (above 1 means tornado-ts is faster).
// Python times its own renders in a subprocess (skipped when python3 cannot import tornado).
// Target: >= 1.0x eta.
import { spawnSync } from "node:child_process";
import ejs from "ejs";
import { Eta } from "eta";
import Handlebars from "handlebars";
import { DictLoader } from "tornado-ts/template";

const SECONDS = Math.min(Math.max(Number(process.argv[2] ?? 0.5) || 0.5, 0.05), 5);
const ROUNDS = 5;

const items = Array.from({ length: 100 }, (_, i) => ({
  name: i % 7 === 0 ? `Item <${i}> & friends` : `Item ${i}`,
  email: `user${i}@example.com`,
  note: i % 5 === 0 ? `"quoted" note ${i}` : `plain note number ${i}`,
  active: i % 3 !== 0,
}));
const data = { title: "Items & more", items };

// --- tornado-ts (and Python tornado: the same templates)
const tornadoTemplates = {
  "base.html":
    "<!DOCTYPE html>\n<html>\n<head><title>{% block title %}Site{% end %}</title></head>\n" +
    "<body>\n<h1>{{ title }}</h1>\n{% block body %}{% end %}\n<footer>footer</footer>\n</body>\n</html>\n",
  "page.html":
    '{% extends "base.html" %}\n{% block title %}{{ title }}{% end %}\n{% block body %}\n<table>\n' +
    '{% for item in items %}\n<tr class="{% if item.active %}on{% else %}off{% end %}">' +
    "<td>{{ item.name }}</td><td>{{ item.email }}</td><td>{{ item.note }}</td></tr>\n" +
    "{% end %}\n</table>\n{% end %}\n",
};
const loader = new DictLoader(tornadoTemplates);
const tornadoPage = loader.load("page.html");
const renderTornado = () => tornadoPage.generate(data);

// --- eta
const eta = new Eta({ autoEscape: true, cache: true });
eta.loadTemplate(
  "@layout",
  "<!DOCTYPE html>\n<html>\n<head><title><%= it.title %></title></head>\n" +
    "<body>\n<h1><%= it.title %></h1>\n<%~ it.body %>\n<footer>footer</footer>\n</body>\n</html>\n",
);
eta.loadTemplate(
  "@page",
  '<% layout("@layout") %>\n<table>\n<% for (const item of it.items) { %>\n' +
    '<tr class="<% if (item.active) { %>on<% } else { %>off<% } %>">' +
    "<td><%= item.name %></td><td><%= item.email %></td><td><%= item.note %></td></tr>\n" +
    "<% } %>\n</table>\n",
);
const renderEta = () => eta.render("@page", data);

// --- ejs
const ejsLayout = ejs.compile(
  "<!DOCTYPE html>\n<html>\n<head><title><%= title %></title></head>\n" +
    "<body>\n<h1><%= title %></h1>\n<%- body %>\n<footer>footer</footer>\n</body>\n</html>\n",
);
const ejsPage = ejs.compile(
  "<table>\n<% for (const item of items) { %>\n" +
    '<tr class="<% if (item.active) { %>on<% } else { %>off<% } %>">' +
    "<td><%= item.name %></td><td><%= item.email %></td><td><%= item.note %></td></tr>\n" +
    "<% } %>\n</table>\n",
);
const renderEjs = () => ejsLayout({ title: data.title, body: ejsPage(data) });

// --- handlebars
const hbsLayout = Handlebars.compile(
  "<!DOCTYPE html>\n<html>\n<head><title>{{title}}</title></head>\n" +
    "<body>\n<h1>{{title}}</h1>\n{{{body}}}\n<footer>footer</footer>\n</body>\n</html>\n",
);
const hbsPage = Handlebars.compile(
  "<table>\n{{#each items}}\n" +
    '<tr class="{{#if active}}on{{else}}off{{/if}}">' +
    "<td>{{name}}</td><td>{{email}}</td><td>{{note}}</td></tr>\n" +
    "{{/each}}\n</table>\n",
);
const renderHandlebars = () => hbsLayout({ title: data.title, body: hbsPage(data) });

const contenders = [
  ["tornado-ts", renderTornado],
  ["eta", renderEta],
  ["ejs", renderEjs],
  ["handlebars", renderHandlebars],
];

let sink = 0;
function measure(fn) {
  let count = 0;
  const start = performance.now();
  const deadline = start + SECONDS * 1000;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 50; i++) sink += fn().length;
    count += 50;
    now = performance.now();
  }
  return (count * 1000) / (now - start);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const [, fn] of contenders) for (let i = 0; i < 2000; i++) sink += fn().length;
const rates = new Map(contenders.map(([name]) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, fn] of contenders) rates.get(name).push(measure(fn));
}

const results = contenders.map(([name]) => [name, median(rates.get(name))]);

// --- Python tornado.template
const python = ["/usr/bin/python3", "python3"].find(
  (p) => spawnSync(p, ["-c", "import tornado"], { stdio: "ignore" }).status === 0,
);
if (python !== undefined) {
  const run = spawnSync(python, [new URL("template_tornado.py", import.meta.url).pathname], {
    input: JSON.stringify({
      templates: tornadoTemplates,
      main: "page.html",
      namespace: data,
      seconds: SECONDS,
      rounds: ROUNDS,
    }),
    encoding: "utf8",
    timeout: 120_000,
  });
  if (run.status === 0) {
    const out = JSON.parse(run.stdout);
    results.push(["python tornado.template", out.rendersPerSecond]);
    const same = out.output === renderTornado().replaceAll("&#x27;", "&#39;");
    console.log(`tornado-ts output identical to Python tornado's: ${same}`);
  } else {
    console.log(`python tornado.template failed: ${run.stderr}`);
  }
} else {
  console.log("python tornado.template skipped: apt-get install python3-tornado");
}

const ours = results[0][1];
console.log(`\ntemplate page, 100 rows, ${ROUNDS} rounds x ${SECONDS}s, median renders/s`);
for (const [name, rate] of results) {
  const ratio = name === "tornado-ts" ? "" : `  tornado-ts ${(ours / rate).toFixed(2)}x`;
  console.log(`${name.padEnd(24)} ${rate.toFixed(0).padStart(9)}/s${ratio}`);
}
if (sink === 0) console.log("");
