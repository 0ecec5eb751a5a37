// Bundles the dashboard (web/dashboard/, preact + htm) into dist/dashboard/ for the master's
// HTTP server (runtime/http/dashboard.ts): one script, one style sheet, one page; nothing is
// fetched from the internet at run time. Part of `npm run build`.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

const out = 'dist/dashboard';
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ['web/dashboard/main.ts'],
  tsconfig: 'web/dashboard/tsconfig.json',
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  outfile: `${out}/app.js`,
  legalComments: 'none',
  logLevel: 'warning',
});
for (const f of ['index.html', 'app.css']) copyFileSync(`web/dashboard/${f}`, `${out}/${f}`);
