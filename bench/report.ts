/** Renders the suite's results as BENCHMARKS.md. */
import type { Machine } from './machine.js';
import type { Scenario, ScenarioResult, Table } from './scenario.js';

export type Outcome =
  | { scenario: Scenario; status: 'measured'; result: ScenarioResult; seconds: number }
  | { scenario: Scenario; status: 'skipped'; reason: string }
  | { scenario: Scenario; status: 'failed'; error: string };

export interface Report {
  machine: Machine;
  date: string;
  command: string;
  loadBefore: string;
  loadAfter: string;
  outcomes: Outcome[];
}

export function renderReport(r: Report): string {
  const out: string[] = [
    '# Benchmarks',
    '',
    `Written by \`${r.command}\` on ${r.date}. Re-run it to measure your machine; the figures below are from this one.`,
    '',
    '| | |',
    '| --- | --- |',
    `| CPU | ${r.machine.cpu}, ${r.machine.cores} cores |`,
    `| memory | ${r.machine.memoryGiB} GiB |`,
    `| OS | ${r.machine.os} |`,
    `| Node.js | ${r.machine.node} |`,
    `| commit | ${r.machine.commit} |`,
    `| load average (1/5/15 min) | ${r.loadBefore} before, ${r.loadAfter} after |`,
    '',
    '## Summary',
    '',
    '| scenario | goal | result | |',
    '| --- | --- | --- | --- |',
  ];
  for (const o of r.outcomes) {
    const s = o.scenario;
    const [result, verdict] =
      o.status === 'measured'
        ? [o.result.headline, o.result.goalMet === null ? '' : o.result.goalMet ? 'goal met' : '**goal missed**']
        : o.status === 'skipped'
          ? [`not measured: ${o.reason}`, 'skipped']
          : [`failed: ${o.error}`, '**failed**'];
    out.push(`| ${s.id}. ${s.title} | ${s.goal} | ${result} | ${verdict} |`);
  }
  for (const o of r.outcomes) {
    const s = o.scenario;
    out.push('', `## ${s.id}. ${s.title}`, '', `Goal: ${s.goal}.`, '');
    if (o.status === 'measured') {
      out.push(`${o.result.headline}.`, '');
      for (const t of o.result.tables) out.push(...renderTable(t), '');
      for (const n of o.result.notes) out.push(`- ${n}`);
      out.push(`- Took ${o.seconds.toFixed(0)} s.`);
    } else {
      out.push(o.status === 'skipped' ? `Not measured: ${o.reason}.` : `Failed: ${o.error}`, '', `How it will measure: ${s.design}`);
    }
  }
  return `${out.join('\n')}\n`;
}

function renderTable(t: Table): string[] {
  const numeric = t.header.map((_, i) => t.rows.every((row) => /^[\d.,×% -]+$|^n\/a$|^–$/.test(row[i] ?? '')));
  return [
    `${t.caption}:`,
    '',
    `| ${t.header.join(' | ')} |`,
    `| ${numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`,
    ...t.rows.map((row) => `| ${row.join(' | ')} |`),
  ];
}
