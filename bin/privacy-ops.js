#!/usr/bin/env node
// The operators' and auditors' CLI (`npx privacy-ops …`). In the repository it runs from its
// TypeScript sources through tsx (a development dependency, installed by `npm ci`); installed from
// the package, from the JavaScript compiled into lib/ when the package was packed (the sources
// are not in the package).
const { existsSync } = require('node:fs');
const path = require('node:path');

const sources = path.join(__dirname, '..', 'cli', 'main.ts');

function loadCli() {
  if (!existsSync(sources)) return require('../lib/cli/main.js');
  require('tsx/cjs');
  return require(sources);
}

loadCli()
  .runCli(process.argv.slice(2), {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  })
  .then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
