/**
 * Writes `events/schemas/<type>.json` from the zod schemas of the wire contract (`npm run schemas`).
 * The unit test `test/unit/events-schemas.test.ts` fails when the committed files are out of date.
 */
import { mkdirSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { eventJsonSchemaFiles } from '../events/json-schema';

const root = path.resolve(__dirname, '..');
const dir = path.join(root, 'events', 'schemas');
mkdirSync(dir, { recursive: true });
const files = eventJsonSchemaFiles();
const wanted = new Set(Object.keys(files).map((f) => path.basename(f)));
for (const existing of readdirSync(dir)) {
  if (existing.endsWith('.json') && !wanted.has(existing)) unlinkSync(path.join(dir, existing));
}
for (const [file, text] of Object.entries(files)) {
  writeFileSync(path.join(root, file), text);
  console.log(`wrote ${file}`);
}
