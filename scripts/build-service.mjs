// Bundles a service (or the provisioning CLI) into dist/ with esbuild: the workspace libraries
// and generated Prisma client are inlined, npm packages stay external and come from the image's
// production node_modules. Arguments: entry[:outName] ...; default: the service's main and migrate.
import { existsSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const args = process.argv.slice(2);
const entries = args.length > 0 ? args : ['src/main.ts:main', 'src/cli/migrate.ts:cli/migrate'];
const entryPoints = Object.fromEntries(
  entries
    .map((entry) => entry.split(':'))
    .filter(([file]) => existsSync(file))
    .map(([file, out]) => [out ?? file.replace(/^src\//, '').replace(/\.ts$/, ''), file]),
);

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [
    {
      name: 'external-npm-packages',
      setup(b) {
        // Bare specifiers are npm packages (external) unless they are this workspace's libraries.
        b.onResolve({ filter: /^[^./]/ }, (resolved) =>
          resolved.path.startsWith('@eventflow/') ? undefined : { path: resolved.path, external: true },
        );
      },
    },
  ],
});
console.log(`built ${Object.keys(entryPoints).join(', ')} into dist/`);
