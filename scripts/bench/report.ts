/**
 * The benchmark's outputs: a Markdown table and an SVG picture (settled orders/s and POST→e-mail
 * latency percentiles against the offered rate), both generated from the results JSON.
 */
import { perUserOrderHolds, type PerUserOrderResult } from './ordering.js';
import type { BenchResults, StepResult } from './types.js';

const fmt = (value: number | null | undefined, digits = 0): string => (value === null || value === undefined ? '—' : value.toFixed(digits));
const ms = (value: number | null | undefined): string =>
  value === null || value === undefined ? '—' : value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;

export function stepLabel(step: StepResult): string {
  const where = step.target === 'gateway' ? ' via entry point' : '';
  const instances = step.instances !== undefined ? ` × ${step.instances} instance${step.instances === 1 ? '' : 's'}` : '';
  if (step.kind === 'closed') return `${step.connections} clients closed-loop${where}${instances}`;
  return `${step.offeredRate}/s${where}${instances}${step.note ? ` (${step.note})` : ''}`;
}

/** The process-group keys of a service in a step: `<service>` and its named instances `<service>-<name>`. */
const keysOf = (record: Record<string, number>, service: string): string[] =>
  Object.keys(record).filter((k) => k === service || (k.startsWith(`${service}-`) && k.length === service.length + 2));

export function perUserOrderSummary(result: PerUserOrderResult): string {
  const { inversions: inv } = result;
  return (
    `${perUserOrderHolds(result) ? 'held' : '**BROKEN**'}: ${result.orderedPairs} ordered pairs of ${result.users} users ` +
    `(${result.crossInstancePairs} across instances; ${result.concurrentPairs} overlapping pairs not ordered), ` +
    `inversions billing ${inv.billing} / order ${inv.order} / notification ${inv.notification}` +
    `${result.incomplete > 0 ? `, ${result.incomplete} incomplete` : ''}`
  );
}

export function markdownTable(results: BenchResults): string {
  const services = ['user-service', 'billing-service', 'order-service', 'notification-service'];
  const lines = [
    '| step | offered/s | accepted/s | settled/s | HTTP p50 / p99 | POST→final p50 / p99 | POST→e-mail p50 / p95 / p99 | backlog at end, drain | CPU ms / settled order | CPU % user / billing / order / notif | peak RSS MB (max service) | commits / order | WAL KB / order |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const step of results.steps) {
    // With several instances: CPU summed over a service's instances, RSS of the largest process.
    const cpu = services.map((s) => fmt(keysOf(step.cpuMs, s).reduce((sum, k) => sum + (step.cpuMs[k] ?? 0), 0) / 10 / step.seconds, 0)).join(' / ');
    const rss = Math.max(...services.flatMap((s) => keysOf(step.peakMemoryMb, s).map((k) => step.peakMemoryMb[k] ?? 0)));
    lines.push(
      `| ${stepLabel(step)} | ${fmt(step.offeredPerSecond, 1)} | ${fmt(step.acceptedPerSecond, 1)}${step.rejected503 > 0 ? ` (${step.rejected503} × 503)` : ''} | ${fmt(step.settledPerSecond, 1)} | ${ms(step.http.p50)} / ${ms(step.http.p99)} | ${ms(step.toFinal.p50)} / ${ms(step.toFinal.p99)} | ${ms(step.toEmail.p50)} / ${ms(step.toEmail.p95)} / ${ms(step.toEmail.p99)} | ${step.backlogAtEnd.unsettledOrders} orders, ${fmt(step.drainSeconds, 1)} s | ${fmt(step.serviceCpuMsPerSettledOrder, 1)} | ${cpu} | ${rss} | ${fmt(step.commitsPerOrder, 1)} | ${fmt(step.walBytesPerOrder / 1024, 1)} |`,
    );
  }
  return lines.join('\n');
}

/** Per process (each instance, Kafka, the registry, PostgreSQL): CPU % of one core and peak memory, per step. */
export function processTable(results: BenchResults): string {
  const names = [...new Set(results.steps.flatMap((s) => Object.keys(s.cpuMs)))];
  const lines = [`| step | ${names.map((n) => `${n} CPU % / MB`).join(' | ')} |`, `|---|${names.map(() => '---').join('|')}|`];
  for (const step of results.steps) {
    lines.push(`| ${stepLabel(step)} | ${names.map((n) => `${fmt((step.cpuMs[n] ?? 0) / 10 / step.seconds, 0)} / ${fmt(step.peakMemoryMb[n])}`).join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Per step: p50 / p99 of each hop of an order (BenchDatabases.hops). */
export function hopsTable(results: BenchResults): string {
  const steps = results.steps.filter((s) => s.hops && Object.keys(s.hops).length > 0);
  const names = [...new Set(steps.flatMap((s) => Object.keys(s.hops ?? {})))];
  const lines = [`| step | ${names.join(' | ')} |`, `|---|${names.map(() => '---').join('|')}|`];
  for (const step of steps) lines.push(`| ${stepLabel(step)} | ${names.map((n) => `${ms(step.hops?.[n]?.p50 ?? null)} / ${ms(step.hops?.[n]?.p99 ?? null)}`).join(' | ')} |`);
  return lines.join('\n');
}

/** Per step: the per-user order check (ordering.ts). */
export function perUserOrderTable(results: BenchResults): string {
  const lines = [
    '| step | users | ordered pairs (across instances) | overlapping pairs (not ordered) | inversions billing / order / notification | ties order / notification (same ms) | incomplete | per-user order |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const step of results.steps) {
    const r = step.perUserOrder;
    if (!r) continue;
    lines.push(
      `| ${stepLabel(step)} | ${r.users} | ${r.orderedPairs} (${r.crossInstancePairs}) | ${r.concurrentPairs} | ${r.inversions.billing} / ${r.inversions.order} / ${r.inversions.notification} | ${r.ties.order} / ${r.ties.notification} | ${r.incomplete} | ${perUserOrderHolds(r) ? 'held' : '**broken**'} |`,
    );
  }
  const examples = results.steps.flatMap((s) => s.perUserOrder?.examples ?? []);
  return [...lines, ...(examples.length > 0 ? ['', 'Inversions:', ...examples.map((e) => `- ${e}`)] : [])].join('\n');
}

export function markdownSummary(results: BenchResults): string {
  const { anchors, headline } = results;
  const instancesRun = results.steps.some((s) => s.instances !== undefined);
  return [
    `# Benchmark ${results.startedAt} (commit ${results.commit}${results.dirty ? ', uncommitted changes' : ''})`,
    '',
    `Machine: ${results.machine.cpus} × ${results.machine.cpuModel}, ${results.machine.memoryGb} GB, Node ${results.machine.node}. Services started from production builds (\`node dist/main.js\`). ${results.smoke ? '**Smoke run: the figures mean nothing.**' : ''}`,
    '',
    `**Anchors:** pgbench TPC-B ${fmt(anchors.pgbench.tps)} tps (scale ${anchors.pgbench.scale}, ${anchors.pgbench.clients} clients, ${anchors.pgbench.seconds} s); ` +
      `HTTP floor ${anchors.httpFloor.map((f) => `${f.requestsPerSecond} req/s on ${f.url}`).join(', ')}.`,
    '',
    `**Headline:** peak settled ${fmt(headline.peakSettledPerSecond, 1)} orders/s (step ${headline.peakStep}) → ` +
      `**R = ${headline.R.toFixed(3)}** (peak settled orders/s ÷ pgbench TPS); ` +
      `${fmt(headline.serviceCpuMsPerSettledOrder, 1)} ms of service CPU per settled order at peak; ` +
      `peak RSS per service ${fmt(headline.maxServiceRssMb)} MB; ` +
      `orders per HTTP-floor request ${headline.settledPerHttpFloor.toFixed(3)}.`,
    '',
    markdownTable(results),
    '',
    ...(results.steps.some((s) => s.perUserOrder)
      ? [
          '**Per-user order** (docs/architecture.md, "Per-user ordering"): for consecutive accepted orders of one user where the first was answered before the second was sent, the first must be charged (billing\'s ledger: the higher balance_after), reach its final state (orders.completed_at) and get its e-mail (messages.sent_at) before the second. ' +
            (instancesRun ? 'In the instances steps each user places two orders in a row, 1/rate apart, sent to order-service\'s instances in turn (with two instances, one on each).' : ''),
          '',
          perUserOrderTable(results),
          '',
        ]
      : []),
    ...(instancesRun ? ['**Per process** (CPU % of one core / peak MB):', '', processTable(results), ''] : []),
    ...(results.steps.some((s) => s.hops && Object.keys(s.hops).length > 0)
      ? [
          "**Where the time goes**, POST → e-mail by hop, p50 / p99 in ms, from the services' own rows: *relay* = from the start of the transaction that wrote an outbox row to the start of the relay's transaction that sent it; *to X* = from there to the start of X's consuming transaction (Kafka, the fetch, the queue behind earlier batches).",
          '',
          hopsTable(results),
          '',
        ]
      : []),
    'settled/s: orders whose final state and e-mail were both stored during the step. Latencies from the services\' own timestamps (orders.created_at → completed_at, → messages.sent_at) of orders placed during the step. CPU % is of one core; the machine has ' +
      `${results.machine.cpus}. Backlog: orders placed but not settled when the step ended; drain: seconds until none was left.`,
    '',
  ].join('\n');
}

/** Two panels: settled and accepted orders/s against offered; e-mail latency percentiles (log scale) against offered. */
export function svgChart(results: BenchResults): string {
  const steps = results.steps.filter((s) => s.kind === 'open' && s.target === 'direct' && !s.note);
  const width = 960;
  const height = 400;
  const panel = { w: 380, h: 280, top: 60 };
  const lefts = [70, 560];
  const maxX = Math.max(10, ...steps.map((s) => s.offeredPerSecond)) * 1.05;
  const maxY = Math.max(10, ...steps.map((s) => Math.max(s.settledPerSecond, s.acceptedPerSecond))) * 1.1;
  const latencies = steps.flatMap((s) => [s.toEmail.p50, s.toEmail.p95, s.toEmail.p99]).filter((v): v is number => v !== null && v > 0);
  const minLog = Math.floor(Math.log10(Math.max(1, Math.min(10, ...latencies))));
  const maxLog = Math.ceil(Math.log10(Math.max(1000, ...latencies)));
  const x = (left: number, v: number) => left + (v / maxX) * panel.w;
  const yLin = (v: number) => panel.top + panel.h - (v / maxY) * panel.h;
  const yLog = (v: number) => panel.top + panel.h - ((Math.log10(Math.max(v, 10 ** minLog)) - minLog) / (maxLog - minLog)) * panel.h;
  const parts: string[] = [];
  const text = (tx: number, ty: number, s: string, extra = '') => parts.push(`<text x="${tx.toFixed(1)}" y="${ty.toFixed(1)}" ${extra}>${s}</text>`);
  const line = (points: Array<[number, number]>, color: string, dash = '') => {
    if (points.length === 0) return;
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" ${dash ? `stroke-dasharray="${dash}"` : ''} points="${points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ')}"/>`);
    for (const [px, py] of points) parts.push(`<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3" fill="${color}"/>`);
  };
  const axes = (left: number, title: string, yTicks: Array<[number, string]>) => {
    parts.push(`<rect x="${left}" y="${panel.top}" width="${panel.w}" height="${panel.h}" fill="none" stroke="#999"/>`);
    text(left + panel.w / 2, panel.top - 12, title, 'text-anchor="middle" font-weight="bold"');
    for (const [py, label] of yTicks) {
      parts.push(`<line x1="${left}" x2="${left + panel.w}" y1="${py.toFixed(1)}" y2="${py.toFixed(1)}" stroke="#eee"/>`);
      text(left - 6, py + 4, label, 'text-anchor="end"');
    }
    const step = maxX > 200 ? 50 : maxX > 80 ? 20 : 10;
    for (let v = 0; v <= maxX; v += step) text(x(left, v), panel.top + panel.h + 16, String(v), 'text-anchor="middle"');
    text(left + panel.w / 2, panel.top + panel.h + 36, 'offered orders/s (open-loop, direct to order-service)', 'text-anchor="middle"');
  };
  const linTicks: Array<[number, string]> = [];
  const yStep = maxY > 200 ? 50 : maxY > 80 ? 20 : 10;
  for (let v = 0; v <= maxY; v += yStep) linTicks.push([yLin(v), String(v)]);
  const logTicks: Array<[number, string]> = [];
  for (let e = minLog; e <= maxLog; e += 1) logTicks.push([yLog(10 ** e), ms(10 ** e)]);
  const [l0, l1] = lefts as [number, number];
  axes(l0, 'orders/s', linTicks);
  line(steps.map((s) => [x(l0, s.offeredPerSecond), yLin(s.offeredPerSecond)]), '#bbb', '4 4');
  line(steps.map((s) => [x(l0, s.offeredPerSecond), yLin(s.acceptedPerSecond)]), '#1f77b4');
  line(steps.map((s) => [x(l0, s.offeredPerSecond), yLin(s.settledPerSecond)]), '#2ca02c');
  axes(l1, 'POST → e-mail latency', logTicks);
  const colors: Array<['p50' | 'p95' | 'p99', string]> = [['p50', '#2ca02c'], ['p95', '#ff7f0e'], ['p99', '#d62728']];
  for (const [key, color] of colors) {
    line(steps.filter((s) => s.toEmail[key] !== null).map((s) => [x(l1, s.offeredPerSecond), yLog(s.toEmail[key] as number)]), color);
  }
  const legend = (lx: number, items: Array<[string, string]>) =>
    items.forEach(([label, color], i) => {
      parts.push(`<rect x="${lx + i * 110}" y="${height - 22}" width="12" height="12" fill="${color}"/>`);
      text(lx + i * 110 + 16, height - 12, label);
    });
  legend(l0, [['accepted/s', '#1f77b4'], ['settled/s', '#2ca02c'], ['offered', '#bbb']]);
  legend(l1, [['p50', '#2ca02c'], ['p95', '#ff7f0e'], ['p99', '#d62728']]);
  text(width / 2, 24, `eventflow ${results.commit}: R = ${results.headline.R.toFixed(3)} (peak ${fmt(results.headline.peakSettledPerSecond, 1)} settled/s ÷ pgbench ${fmt(results.anchors.pgbench.tps)} tps)`, 'text-anchor="middle" font-size="15"');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>\n`;
}
