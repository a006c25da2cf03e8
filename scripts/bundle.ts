/**
 * `npm run build` bundles the CLI after tsc: our code and its libraries in a few files
 * under dist/cli/, so that a command does not resolve and load some 900 module files
 * one by one (kysely alone is 280). Each command's own module stays a chunk of its own,
 * loaded only when that command runs. Left outside, loaded from node_modules as before:
 * PGlite, which finds its WebAssembly and data files next to its own module; pino, whose
 * transports start threads from files beside it; MJML, whose minifiers load their plugins
 * and settings by name at run time (and would bring TypeScript into the bundle).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { projectRoot } from '../src/paths.js';

const keptOutside = ['@electric-sql/pglite', '@electric-sql/pglite-socket', 'pino', 'mjml'];

const packagesOutside: Plugin = {
  name: 'packages-outside',
  setup(plugins) {
    plugins.onResolve({ filter: /^[^./]/ }, (args) => {
      const outside = args.path.startsWith('node:') || keptOutside.some((name) => args.path === name || args.path.startsWith(`${name}/`));
      return outside ? { external: true } : undefined;
    });
  },
};

const outdir = path.join(projectRoot, 'dist/cli');
// Chunks are named by their content: without this, every build would leave the last one's behind.
await rm(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: projectRoot,
  entryPoints: { 'feed-digest': 'src/cli/main.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  // Libraries written as CommonJS call require() for Node's own modules.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  plugins: [packagesOutside],
});
