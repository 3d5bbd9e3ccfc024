/**
 * Summarises V8 CPU profiles (`node --cpu-prof`, as `npm run bench -- --profile` writes them):
 * busy time inclusive by package and the top functions by self time.
 *
 *   npx tsx scripts/bench/profile-summary.ts .stack/profiles/order-service.*.cpuprofile [--top 15]
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '15' } } });
const top = Number(values.top);

/** Which package a frame belongs to: the npm package, node's internals, or this workspace's bundled code. */
function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) return 'node (internals)';
  if (url.includes('/dist/')) return 'eventflow (bundled)';
  return url;
}

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    const node = byId.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') return;
    busy += dt;
    const key = `${functionName || '(anonymous)'} ${packageOf(url, functionName)}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at);
      if (!frame || frame.callFrame.functionName === '(root)') continue;
      const pkg = packageOf(frame.callFrame.url, frame.callFrame.functionName);
      // Node's internals and native frames sit under nearly every stack: only their self time says something.
      if (pkg !== 'node (internals)' && pkg !== '(native)') seen.add(pkg);
    }
    for (const pkg of seen) inclusive.set(pkg, (inclusive.get(pkg) ?? 0) + dt);
  });
  const pct = (ms: number) => `${((100 * ms) / busy).toFixed(1)} %`;
  console.log(`\n${basename(file)}: ${(total / 1000).toFixed(1)} s profiled, ${(busy / 1000).toFixed(1)} s busy`);
  console.log('  inclusive by package (share of busy time):');
  for (const [pkg, ms] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`    ${pct(ms).padStart(7)}  ${pkg}`);
  console.log('  top functions by self time:');
  for (const [fn, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`    ${pct(ms).padStart(7)}  ${fn}`);
}
