/**
 * `replay --explain`: for every line of a log, the record it was read as, the
 * operation the tracker attributed it to (or why none), and the rule that
 * decided. It gathers what the pipeline reports (lines, records, the tracker's
 * decisions) and renders it once the input is complete, so it keeps a summary of
 * every line in memory: meant for a log or an excerpt being looked into, not for
 * following one.
 */
import type { Line, LogRecord } from '../model.js';
import type { Decision } from '../track/tracker.js';

/** One line as `--explain --json` prints it. */
export interface ExplainedLine {
  /** 1-based line number. */
  line: number;
  offset: number;
  /** The record kind; a continuation line (backtrace, multi-line message) has its entry's kind. */
  record: LogRecord['kind'];
  /** True for a continuation line of the entry that starts at `recordOffset`. */
  continuation: boolean;
  recordOffset: number;
  /** Every decision the tracker took on the record (an order poll is told to each active operation). */
  decisions: { operation: string | null; rule: string }[];
  text: string;
}

const MAX_TEXT = 300;

export class Explainer {
  private readonly lines: { offset: number; text: string }[] = [];
  private readonly records = new Map<number, { kind: LogRecord['kind']; end: number }>();
  readonly decisions: Decision[] = [];

  line(line: Line): void {
    this.lines.push({ offset: line.offset, text: line.text.length > MAX_TEXT ? `${line.text.slice(0, MAX_TEXT)}…` : line.text });
  }

  record(record: LogRecord): void {
    this.records.set(record.line.offset, { kind: record.kind, end: record.end });
  }

  /** Every line, explained, in file order. */
  explained(): ExplainedLine[] {
    const byRecord = new Map<number, { operation: string | null; rule: string }[]>();
    for (const d of this.decisions) {
      const list = byRecord.get(d.offset) ?? [];
      list.push({ operation: d.operation, rule: d.rule });
      byRecord.set(d.offset, list);
    }
    const out: ExplainedLine[] = [];
    let current: { offset: number; kind: LogRecord['kind']; end: number } | null = null;
    this.lines.forEach((l, i) => {
      const starts = this.records.get(l.offset);
      if (starts !== undefined) current = { offset: l.offset, ...starts };
      const within = current !== null && l.offset >= current.offset && l.offset < current.end;
      const rec = within ? current! : null;
      out.push({
        line: i + 1,
        offset: l.offset,
        record: rec?.kind ?? 'unknown',
        continuation: rec !== null && rec.offset !== l.offset,
        recordOffset: rec?.offset ?? l.offset,
        decisions: rec !== null ? (byRecord.get(rec.offset) ?? []) : [],
        text: l.text,
      });
    });
    return out;
  }
}

/** The human form: the line's number, kind, operation and rule, then its text indented. */
export function renderExplained(lines: readonly ExplainedLine[]): string {
  const numberAt = new Map(lines.map((l) => [l.offset, l.line]));
  let out = '';
  for (const l of lines) {
    const kind = l.continuation ? `  (cont.)` : l.record;
    const told =
      l.continuation
        ? `continues the ${l.record} entry of line ${numberAt.get(l.recordOffset) ?? '?'}`
        : l.decisions.length === 0
          ? 'no decision'
          : l.decisions.map((d) => `${d.operation ?? '-'}: ${d.rule}`).join('\n' + ' '.repeat(20));
    out += `${String(l.line).padStart(5)}  ${kind.padEnd(11)} ${told}\n        ${l.text}\n`;
  }
  return out;
}
