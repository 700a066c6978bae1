import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { BUNDLE_SETTINGS } from '../infra/constructs/pipeline-function';
import { lambdaBuildOptions } from '../local/function-bundle';
import type { TemplateFunction } from '../local/template-model';
import { quantile } from '../test/support/quantiles';
import { INIT_RUNS, OUT, round } from './settings';

/**
 * Each function's bundle as Lambda gets it (esbuild with the project's settings, written under
 * .local/bench): its size, where its bytes come from, and the time `require` takes to initialise
 * it in a fresh Node.js process with the function's template variables.
 */
export async function measureBundles(functions: Iterable<TemplateFunction>) {
  mkdirSync(OUT, { recursive: true });
  const results: Record<
    string,
    {
      bytes: number;
      kib: number;
      initMsMedian: number;
      initMsRuns: number[];
      largestPackagesKiB: Record<string, number>;
    }
  > = {};
  for (const { key: fn, entry, variables: vars } of functions) {
    const outfile = path.join(OUT, 'bundles', `${fn}.js`);
    const built = await build({
      ...lambdaBuildOptions([entry]),
      metafile: true,
      outfile,
      sourcemap: BUNDLE_SETTINGS.sourcemap,
    });
    const bytes = statSync(outfile).size;
    // Where the bytes come from: minified output bytes by npm package (or project folder).
    const byPackage: Record<string, number> = {};
    for (const output of Object.values(built.metafile!.outputs))
      for (const [input, info] of Object.entries(output.inputs)) {
        const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
        const name = m ? m[1] : input.split('/')[0];
        byPackage[name] = (byPackage[name] ?? 0) + info.bytesInOutput;
      }
    const largestPackagesKiB = Object.fromEntries(
      Object.entries(byPackage)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([k, v]) => [k, round(v / 1024, 1)]),
    );
    const runs: number[] = [];
    const script = `const { performance } = require('node:perf_hooks'); const t = performance.now(); require(${JSON.stringify(outfile)}); process.stdout.write(String(performance.now() - t));`;
    for (let i = 0; i < INIT_RUNS; i += 1) {
      const child = spawnSync(process.execPath, ['-e', script], {
        env: {
          PATH: process.env.PATH,
          ...vars,
          AWS_REGION: 'eu-west-3',
          AWS_ACCESS_KEY_ID: 'x',
          AWS_SECRET_ACCESS_KEY: 'x',
          POWERTOOLS_DEV: 'false',
        },
        encoding: 'utf8',
      });
      if (child.status !== 0)
        throw new Error(`${fn} bundle does not load: ${child.stderr.slice(0, 400)}`);
      runs.push(round(Number(child.stdout), 1));
    }
    results[fn] = {
      bytes,
      kib: round(bytes / 1024, 1),
      initMsMedian: quantile(runs, 0.5),
      initMsRuns: runs,
      largestPackagesKiB,
    };
  }
  return results;
}
