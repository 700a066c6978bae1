import { existsSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The folder holding the package's package.json: the repository in a clone, the installed
 * package (node_modules/privacy-ops) in an app that imports the construct. The functions are
 * bundled from the TypeScript sources there, whether this code runs from `infra/` or compiled
 * from `lib/infra/`. Refuses to guess when no package.json is above `from`.
 */
export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir)
      throw new Error(`privacy-ops: no package.json above ${from}; the package is incomplete`);
  }
}

/** The root of this package. */
export const PACKAGE_ROOT = packageRoot();
