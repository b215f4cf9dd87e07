import fs from 'node:fs';
import path from 'node:path';

let root: string | undefined;

/**
 * The folder holding Tracklane's package.json, from ts-jest (src/) or compiled (dist/src/).
 * dist/ holds a copy of package.json (tsc copies JSON imports), so the schemas folder is
 * checked too; schemas/ and src/state/scripts/ are read from the package at run time.
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) || !fs.existsSync(path.join(dir, 'schemas'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the tracklane package root from ' + __dirname);
    dir = parent;
  }
  return (root = dir);
}

/** Reads one of the package's own Avro schemas, e.g. `schemas/tracklane/DeadLetter.avsc`. */
export function readPackageSchema(relative: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(packageRoot(), relative), 'utf8'));
}
