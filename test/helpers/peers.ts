// Outside peers (Debian packages) that some tests talk to. A missing peer skips its tests with
// one line naming the package; under CI=true a missing peer fails the run instead.
import { spawnSync } from "node:child_process";

const cache = new Map<string, boolean>();

function probe(key: string, check: () => boolean): boolean {
  let ok = cache.get(key);
  if (ok === undefined) {
    try {
      ok = check();
    } catch {
      ok = false;
    }
    cache.set(key, ok);
  }
  return ok;
}

function runs(command: string, args: string[]): boolean {
  const r = spawnSync(command, args, { stdio: "ignore", timeout: 20_000 });
  return r.status === 0;
}

let pythonPath: string | null | undefined;

/** A python3 that can `import tornado` (Debian's python3-tornado), or null. */
export function pythonWithTornado(): string | null {
  if (pythonPath === undefined) {
    pythonPath = null;
    for (const candidate of ["/usr/bin/python3", "python3"]) {
      if (runs(candidate, ["-c", "import tornado"])) {
        pythonPath = candidate;
        break;
      }
    }
  }
  return pythonPath;
}

const CHECKS: Record<string, { pkg: string; check: () => boolean }> = {
  "python3-tornado": { pkg: "python3-tornado", check: () => pythonWithTornado() !== null },
  curl: { pkg: "curl", check: () => runs("curl", ["--version"]) },
  msgfmt: { pkg: "gettext", check: () => runs("msgfmt", ["--version"]) },
  wrk: { pkg: "wrk", check: () => runs("wrk", ["--version"]) || runs("which", ["wrk"]) },
  h2load: { pkg: "nghttp2-client", check: () => runs("h2load", ["--version"]) },
};

/**
 * For `test(name, { skip: needPeer("curl") }, fn)`: false when the peer is here; else the
 * skip reason naming the Debian package. Under CI=true a missing peer throws, failing the file.
 */
export function needPeer(name: keyof typeof CHECKS | string): string | false {
  const entry = CHECKS[name];
  if (entry === undefined) throw new Error(`unknown peer ${name}`);
  if (probe(name, entry.check)) return false;
  const reason = `needs ${name}: apt-get install ${entry.pkg}`;
  if (process.env["CI"] === "true") throw new Error(`CI=true and peer missing: ${reason}`);
  return reason;
}
