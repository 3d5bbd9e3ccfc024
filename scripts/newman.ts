/**
 * `npm run newman -- [newman options]`: runs the Postman collection and prints every request
 * (method, URL, headers, body) and response (status, headers, body) on the command line.
 * Without `--env-var baseUrl=...` it targets the collection's initial value, arch.homework.
 */
import { spawnSync } from 'node:child_process';
import { repoRoot } from '@eventflow/system-harness';

const args = ['newman', 'run', 'postman/eventflow.postman_collection.json', '--verbose', '--color', 'off', '--timeout-request', '15000', ...process.argv.slice(2)];
console.log(`npx ${args.join(' ')}`);
const result = spawnSync('npx', args, { cwd: repoRoot, stdio: 'inherit' });
process.exit(result.status ?? 1);
