// Bundles a service (or the provisioning CLI) into dist/ with esbuild: the workspace libraries
// and generated Prisma client are inlined, npm packages stay external and come from the image's
// production node_modules. Arguments: entry[:outName] ...; default: the service's main and migrate.
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

/** The directory Node's resolution would load a package from, starting at dir (undefined for built-ins). */
function packageDirFrom(dir, specifier) {
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(at) === at) return undefined;
  }
}

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
        // A library may depend on another major version than the one hoisted to the root (its own
        // node_modules, e.g. libs/http's ajv 8 and jose 6): dist/main.js would load the wrong one
        // from the service's directory, so such a package is bundled from where the library finds it.
        b.onResolve({ filter: /^[^./]/ }, (resolved) => {
          if (resolved.path.startsWith('@eventflow/') || resolved.path.startsWith('node:')) return undefined;
          // Inside a package bundled for that reason, its own dependencies are bundled too.
          if (resolved.importer.includes('/node_modules/')) return undefined;
          const fromImporter = packageDirFrom(resolved.resolveDir, resolved.path);
          const fromService = packageDirFrom(process.cwd(), resolved.path);
          // Also when the service cannot resolve it at all (installed only under the library).
          return fromImporter && fromImporter !== fromService ? undefined : { path: resolved.path, external: true };
        });
      },
    },
  ],
});
console.log(`built ${Object.keys(entryPoints).join(', ')} into dist/`);
