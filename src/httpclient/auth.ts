// Authorization header values for the HTTP client: Basic (RFC 7617) and Digest (RFC 7616).

import { createHash, randomBytes } from "node:crypto";
import { encodeUsernamePassword } from "../httputil/misc.js";
import { type HTTPRequest, invalid } from "./request.js";

/** True for a `Digest` challenge. @internal */
export function isDigest(challenge: string): boolean {
  return /^digest\s/i.test(challenge);
}

/** Parses `key=value, key="quoted"` auth parameters. */
function parseAuthParams(text: string): Map<string, string> {
  const params = new Map<string, string>();
  const re = /([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (const m of text.matchAll(re)) {
    params.set(m[1]!.toLowerCase(), m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3]!);
  }
  return params;
}

function hashHex(algorithm: string, text: string): string {
  return createHash(algorithm).update(text, "utf8").digest("hex");
}

/**
 * The `Authorization` value answering a digest challenge (RFC 7616: MD5, SHA-256 and their
 * `-sess` forms; qop `auth`, or none for RFC 2069 servers).
 * @throws TypeError for an unsupported algorithm or qop.
 */
export function digestAuthorization(request: HTTPRequest, challenge: string): string {
  const params = parseAuthParams(challenge.replace(/^digest\s+/i, ""));
  const realm = params.get("realm") ?? "";
  const nonce = params.get("nonce") ?? "";
  const algorithmName = params.get("algorithm") ?? "MD5";
  const upper = algorithmName.toUpperCase();
  const sess = upper.endsWith("-SESS");
  const base = sess ? upper.slice(0, -5) : upper;
  const algorithm = base === "MD5" ? "md5" : base === "SHA-256" ? "sha256" : null;
  if (algorithm === null)
    throw invalid(`unsupported digest algorithm ${JSON.stringify(algorithmName)}`);
  const qopOffered = params.get("qop");
  let qop: string | null = null;
  if (qopOffered !== undefined) {
    const offered = qopOffered.split(",").map((q) => q.trim().toLowerCase());
    if (!offered.includes("auth"))
      throw invalid(`unsupported digest qop ${JSON.stringify(qopOffered)}`);
    qop = "auth";
  }
  const url = new URL(request.url);
  const uri = `${url.pathname || "/"}${url.search}`;
  const username = request.authUsername ?? "";
  const password = request.authPassword ?? "";
  const cnonce = randomBytes(16).toString("hex");
  const nc = "00000001";
  let ha1 = hashHex(algorithm, `${username}:${realm}:${password}`);
  if (sess) ha1 = hashHex(algorithm, `${ha1}:${nonce}:${cnonce}`);
  const ha2 = hashHex(algorithm, `${request.method}:${uri}`);
  const response =
    qop === null
      ? hashHex(algorithm, `${ha1}:${nonce}:${ha2}`)
      : hashHex(algorithm, `${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
  const quote = (s: string): string => `"${s.replace(/(["\\])/g, "\\$1")}"`;
  let value = `Digest username=${quote(username)}, realm=${quote(realm)}, nonce=${quote(nonce)}, uri=${quote(uri)}, algorithm=${algorithmName}, response=${quote(response)}`;
  const opaque = params.get("opaque");
  if (opaque !== undefined) value += `, opaque=${quote(opaque)}`;
  if (qop !== null) value += `, qop=${qop}, nc=${nc}, cnonce=${quote(cnonce)}`;
  return value;
}

/** `Basic <base64>` for a user name and password. @internal */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${encodeUsernamePassword(username, password).toString("base64")}`;
}
