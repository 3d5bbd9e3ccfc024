/**
 * Writes charts/eventflow/files/kafka-acls.json: the broker ACLs of a release, generated from the
 * event catalogue (libs/events access.ts). The chart renders it into a ConfigMap (what the
 * provisioning Job applies is the same list, compiled into the image); `npm run chart` fails when
 * the file and the catalogue differ. Usage: npx tsx scripts/kafka-acls.ts [--check]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kafkaAcls } from '@eventflow/events';
import { repoRoot } from '@eventflow/system-harness';

export const aclFile = join(repoRoot, 'charts', 'eventflow', 'files', 'kafka-acls.json');
export const releaseAclsJson = (): string => `[\n${kafkaAcls({ namespaces: [''], test: false }).map((rule) => `  ${JSON.stringify(rule)}`).join(',\n')}\n]\n`;

if (import.meta.url.endsWith('kafka-acls.ts') && process.argv[1]?.endsWith('kafka-acls.ts')) {
  if (process.argv.includes('--check')) {
    if (readFileSync(aclFile, 'utf8') !== releaseAclsJson()) {
      console.error(`${aclFile} differs from the catalogue: run npx tsx scripts/kafka-acls.ts`);
      process.exit(1);
    }
  } else {
    writeFileSync(aclFile, releaseAclsJson());
    console.log(`wrote ${aclFile}`);
  }
}
