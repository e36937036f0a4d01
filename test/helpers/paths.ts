// Paths for tests: compiled tests run from dist/test, fixtures stay in test/fixtures.

import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (the folder with package.json). */
export const repoRoot: string = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../..");

/** A path under test/fixtures. */
export function fixture(...parts: string[]): string {
  return join(repoRoot, "test", "fixtures", ...parts);
}
