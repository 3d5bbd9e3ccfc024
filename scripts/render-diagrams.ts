/**
 * `npm run diagrams`: renders every diagrams/*.mmd to diagrams/rendered/<name>.svg and .png with
 * mermaid-cli, and writes diagrams/rendered/<name>.sha256, the SHA-256 of the source it was
 * rendered from, which `scripts/check-docs.ts` compares (file times mean nothing in a fresh clone).
 *
 *   npm run diagrams                 # render all
 *   npm run diagrams -- --changed    # only the diagrams whose source changed or whose outputs are missing
 *   npm run diagrams -- services     # only diagrams whose name contains one of the words
 *
 * Rendering needs a Chromium. It uses PUPPETEER_EXECUTABLE_PATH if set, else Debian's
 * /usr/bin/chromium, which it installs with apt-get (with fonts-liberation) when missing
 * (idempotent; as root or with password-less sudo). Puppeteer's own browser download is never
 * used: it cannot be fetched on these machines. Takes about 2 s per diagram.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderMermaid } from '@mermaid-js/mermaid-cli';
import puppeteer, { type Browser } from 'puppeteer-core';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const diagramsDir = join(repoRoot, 'diagrams');
const renderedDir = join(diagramsDir, 'rendered');

/**
 * SHA-256 (hex) of a diagram source, with CRLF read as LF so a checkout with Windows line endings
 * is not stale. On a Unix checkout it equals `sha256sum diagrams/<name>.mmd`. check-docs.ts
 * computes the same.
 */
const sourceDigest = (source: Buffer): string => createHash('sha256').update(source.toString('utf8').replace(/\r\n/g, '\n')).digest('hex');

const args = process.argv.slice(2);
const onlyChanged = args.includes('--changed');
const words = args.filter((a) => !a.startsWith('--'));

/** Mermaid settings shared by every picture; deterministic ids keep the SVGs stable in git. */
const mermaidConfig = {
  theme: 'default',
  deterministicIds: true,
  deterministicIDSeed: 'eventflow',
  // Some shapes are drawn with rough.js even in the classic look; a fixed seed makes them repeatable.
  handDrawnSeed: 1,
  fontFamily: 'Liberation Sans, Arial, Helvetica, sans-serif',
  securityLevel: 'strict',
  sequence: { mirrorActors: false, showSequenceNumbers: false, wrap: false, noteAlign: 'left' },
  flowchart: { htmlLabels: true, curve: 'basis' },
} as const;

function run(command: string, commandArgs: string[]): boolean {
  return spawnSync(command, commandArgs, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
}

const installed = (pkg: string): boolean =>
  spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' }).stdout?.includes('install ok installed') ?? false;

/**
 * The Chromium to drive: PUPPETEER_EXECUTABLE_PATH, or Debian's /usr/bin/chromium. Debian's
 * chromium and the Liberation fonts the pictures are drawn with are installed when missing
 * (idempotent: nothing happens when they are there).
 */
function ensureChromium(): string {
  const fromEnv = process.env['PUPPETEER_EXECUTABLE_PATH'];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`PUPPETEER_EXECUTABLE_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  const debian = '/usr/bin/chromium';
  const hasDpkg = spawnSync('dpkg-query', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!hasDpkg) {
    if (existsSync(debian)) return debian;
    throw new Error(`no ${debian} and no apt to install it: set PUPPETEER_EXECUTABLE_PATH to a Chromium or Chrome`);
  }
  const missing = ['chromium', 'fonts-liberation'].filter((pkg) => !installed(pkg));
  if (missing.length > 0) {
    console.log(`installing ${missing.join(', ')} from Debian's packages`);
    const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    const apt = (...aptArgs: string[]) => (asRoot ? run('apt-get', aptArgs) : run('sudo', ['-n', 'apt-get', ...aptArgs]));
    const install = () => apt('install', '-y', '--no-install-recommends', ...missing);
    // Straight away if the package lists are usable; refresh them only when that fails.
    if (!install() && !(apt('update') && install())) {
      throw new Error(`could not install ${missing.join(', ')} (needs root or password-less sudo, and Debian's package sources)`);
    }
  }
  if (!existsSync(debian)) throw new Error(`chromium is installed but ${debian} is not there`);
  return debian;
}

/** The .mmd files to render, and rendered files whose source is gone. */
function plan(): { sources: string[]; orphans: string[] } {
  const all = readdirSync(diagramsDir)
    .filter((f) => f.endsWith('.mmd'))
    .sort();
  const names = new Set(all.map((f) => basename(f, '.mmd')));
  const orphans = existsSync(renderedDir)
    ? readdirSync(renderedDir).filter((f) => /\.(svg|png|sha256)$/.test(f) && !names.has(f.replace(/\.(svg|png|sha256)$/, '')))
    : [];
  let sources = words.length > 0 ? all.filter((f) => words.some((w) => f.includes(w))) : all;
  if (onlyChanged) {
    sources = sources.filter((f) => {
      const name = basename(f, '.mmd');
      const digestFile = join(renderedDir, `${name}.sha256`);
      return (
        !existsSync(join(renderedDir, `${name}.svg`)) ||
        !existsSync(join(renderedDir, `${name}.png`)) ||
        !existsSync(digestFile) ||
        readFileSync(digestFile, 'utf8').trim() !== sourceDigest(readFileSync(join(diagramsDir, f)))
      );
    });
  }
  return { sources, orphans };
}

async function renderOne(browser: Browser, file: string): Promise<void> {
  const started = Date.now();
  const name = basename(file, '.mmd');
  const source = readFileSync(join(diagramsDir, file));
  const definition = source.toString('utf8');
  const common = { backgroundColor: 'white', mermaidConfig: mermaidConfig as never, svgId: `eventflow-${name}` };
  const svg = await renderMermaid(browser, definition, 'svg', common);
  // Twice the CSS pixels: sharp when zoomed, still a modest file.
  const png = await renderMermaid(browser, definition, 'png', { ...common, viewport: { width: 1600, height: 1200, deviceScaleFactor: 2 } });
  writeFileSync(join(renderedDir, `${name}.svg`), svg.data);
  writeFileSync(join(renderedDir, `${name}.png`), png.data);
  writeFileSync(join(renderedDir, `${name}.sha256`), `${sourceDigest(source)}\n`);
  console.log(`  ${name}: svg ${(svg.data.length / 1024).toFixed(0)} KiB, png ${(png.data.length / 1024).toFixed(0)} KiB (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

async function main(): Promise<number> {
  const started = Date.now();
  mkdirSync(renderedDir, { recursive: true });
  const { sources, orphans } = plan();
  for (const orphan of orphans) {
    rmSync(join(renderedDir, orphan));
    console.log(`  removed ${orphan} (its .mmd is gone)`);
  }
  if (sources.length === 0) {
    console.log('diagrams: nothing to render');
    return 0;
  }
  const executablePath = ensureChromium();
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--headless', '--disable-dev-shm-usage'],
  });
  let failed = 0;
  try {
    console.log(`rendering ${sources.length} diagram(s) with ${executablePath}`);
    for (const file of sources) {
      try {
        await renderOne(browser, file);
      } catch (error) {
        failed += 1;
        console.error(`  ${file}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  } finally {
    await browser.close();
  }
  console.log(`diagrams: ${sources.length - failed} rendered, ${failed} failed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return failed === 0 ? 0 : 1;
}

process.exit(await main());
