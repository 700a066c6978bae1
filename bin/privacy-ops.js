#!/usr/bin/env node
// The operators' and auditors' CLI (`npx privacy-ops …`): runs cli/main.ts through tsx, installed by `npm ci`.
require('tsx/cjs');
const { runCli } = require('../cli/main.ts');

runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
