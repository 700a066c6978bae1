import type { Context } from 'aws-lambda';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { builtinModules, createRequire } from 'node:module';
import * as path from 'node:path';
import { BUNDLE_SETTINGS } from '../infra/constructs/pipeline-function';

const PROJECT_ROOT = path.resolve(__dirname, '..');

/** A Lambda handler as a function module exports it. */
export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

/** The CommonJS wrapper a bundle is evaluated in: the parameters are the module's free variables. */
const WRAPPER_PARAMETERS = ['exports', 'require', 'module', '__filename', '__dirname', 'process'];

/** One function's code as Lambda runs it: one CommonJS file, with its source map inline. */
export interface FunctionBundle {
  /** Source file relative to the repository root. */
  readonly entry: string;
  /** Where the bundle would live (names its frames in stack traces; nothing is written). */
  readonly filename: string;
  /** A function expression `(exports, require, module, __filename, __dirname, process) => …`. */
  readonly code: string;
}

/**
 * The esbuild options every function is bundled with (`BUNDLE_SETTINGS`, what Lambda runs): one
 * CommonJS file per entry, for Node.js on Lambda's target, the SDK bundled. Callers add where the
 * output goes and how its source map is kept.
 */
export function lambdaBuildOptions(entries: readonly string[]): BuildOptions {
  return {
    entryPoints: entries.map((e) => path.resolve(PROJECT_ROOT, e)),
    bundle: true,
    minify: BUNDLE_SETTINGS.minify,
    mainFields: [...BUNDLE_SETTINGS.mainFields],
    alias: { ...BUNDLE_SETTINGS.alias },
    platform: 'node',
    target: BUNDLE_SETTINGS.target,
    format: 'cjs',
    logLevel: 'error',
  };
}

/** A Node.js built-in module specifier (`node:http`, `http`, `fs/promises`…). */
const BUILTIN = new RegExp(
  `^(node:.+|${builtinModules.map((m) => m.replace(/[/]/g, '\\/')).join('|')})$`,
);

/**
 * Loads Node.js built-ins that the code imports dynamically (`await import('node:http')`, as the
 * SDK's HTTP handler does) with `require`, as the static imports are: a bundle evaluated by the
 * runtime has no module loader for `import()` inside jest's sandbox. Same modules, same values.
 */
const builtinsThroughRequire: Plugin = {
  name: 'builtins-through-require',
  setup(b) {
    b.onResolve({ filter: BUILTIN }, (args) =>
      args.kind === 'dynamic-import' ? { path: args.path, namespace: 'builtin' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

const bundles = new Map<string, Promise<FunctionBundle>>();

/**
 * The bundle of a function entry, built with the project's own settings (`BUNDLE_SETTINGS`: what
 * Lambda runs), in memory, the source map inline and the output wrapped in a CommonJS function so
 * each instance can evaluate it with its own `process`. Entries not bundled yet in this process
 * among `siblings` are built in the same esbuild run (they share most of their modules); later
 * calls reuse the result. A failed build is not kept: the next call tries again.
 */
export function bundleFunction(
  entry: string,
  siblings: readonly string[] = [],
): Promise<FunctionBundle> {
  const missing = [...new Set([entry, ...siblings])].filter((e) => !bundles.has(e));
  if (missing.length === 0) return bundles.get(entry)!;
  const outdir = path.join(PROJECT_ROOT, '.local', 'bundles');
  const built = build({
    ...lambdaBuildOptions(missing),
    outdir,
    outbase: PROJECT_ROOT,
    write: false,
    sourcemap: BUNDLE_SETTINGS.sourcemap ? 'inline' : false,
    plugins: [builtinsThroughRequire],
    // esbuild keeps the source map right across a banner, unlike a wrapper added afterwards.
    banner: { js: `(function (${WRAPPER_PARAMETERS.join(', ')}) {` },
    footer: { js: '})' },
  });
  for (const e of missing) {
    const filename = path.join(outdir, e.replace(/\.ts$/, '.js'));
    const bundle = built.then((result) => {
      const output = result.outputFiles.find((f) => f.path === filename);
      if (!output) throw new Error(`esbuild produced no bundle for ${e}`);
      return { entry: e, filename, code: output.text };
    });
    bundles.set(e, bundle);
    // Whoever awaits the bundle sees the error; the others must not leave it unhandled.
    bundle.catch(() => bundles.delete(e));
  }
  return bundles.get(entry)!;
}

/**
 * A view of the real `process` whose `env` is `env`: everything else (streams, timers, events,
 * `hrtime`…) is the real process. Assigning `process.env` replaces only the view's.
 */
export function processWithEnvironment(env: Record<string, string>): NodeJS.Process {
  let own: Record<string, string | undefined> = env;
  return new Proxy(process, {
    get: (target, property) => (property === 'env' ? own : Reflect.get(target, property)),
    set: (target, property, value) => {
      if (property === 'env') own = value as Record<string, string | undefined>;
      else Reflect.set(target, property, value);
      return true;
    },
  });
}

/**
 * Evaluates a bundle as a fresh module, as one Lambda instance loads it: its own module state
 * (clients, caches, counters), and `process.env` equal to `env` (also through `node:process`).
 * Evaluated in the caller's realm, so the module shares the globals (`globalThis`) of the code
 * that loads it, whether under tsx or inside jest.
 */
export function loadFunctionModule(
  bundle: FunctionBundle,
  env: Record<string, string>,
): { handler: LambdaHandler } {
  const view = processWithEnvironment(env);
  const nodeRequire = createRequire(bundle.filename);
  const require = Object.assign(
    (id: string): unknown => (id === 'process' || id === 'node:process' ? view : nodeRequire(id)),
    { resolve: nodeRequire.resolve, cache: nodeRequire.cache, main: undefined },
  );
  const module = { exports: {} as Record<string, unknown> };
  // Indirect eval: global scope of this realm; `sourceURL` names the bundle in stack traces.
  const wrapper = (0, eval)(`${bundle.code}\n//# sourceURL=${bundle.filename}`) as (
    ...args: unknown[]
  ) => void;
  wrapper(module.exports, require, module, bundle.filename, path.dirname(bundle.filename), view);
  const handler = module.exports.handler;
  if (typeof handler !== 'function') throw new Error(`${bundle.entry} does not export a handler`);
  return { handler: handler as LambdaHandler };
}
