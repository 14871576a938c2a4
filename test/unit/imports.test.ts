import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

/** Every module under src/ with the src/ modules it imports (static and dynamic, types included). */
function importGraph(): Map<string, string[]> {
  const files = (readdirSync(SRC, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(join(SRC, file), 'utf8');
    const targets: string[] = [];
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g)) {
      targets.push(relative(SRC, resolve(dirname(join(SRC, file)), m[1]!)) + '.ts');
    }
    graph.set(file, targets);
  }
  return graph;
}

/** The cycles of a graph, each as the list of its modules (Tarjan's strongly connected components). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indexOf.has(v)) visit(v);
  return found;
}

describe('the import graph of src/', () => {
  const graph = importGraph();

  it('finds the modules and their imports', () => {
    expect(graph.get('cli.ts')).toContain('commands/replay.ts');
    expect(graph.get('commands/replay.ts')).toContain('commands/flags.ts');
  });

  it('has no cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('a cycle, when there is one, is found', () => {
    const g = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(cycles(g)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('nothing imports the CLI entry', () => {
    const importers = [...graph].filter(([, targets]) => targets.includes('cli.ts')).map(([file]) => file);
    expect(importers).toEqual([]);
  });

  it('the core (split, parse, track) imports no validation library and nothing past itself', () => {
    const core = [...graph.keys()].filter((f) => /^(split|parse|track)\//.test(f));
    expect(core.length).toBeGreaterThan(3);
    for (const file of core) {
      const text = readFileSync(join(SRC, file), 'utf8');
      expect(text, file).not.toMatch(/from 'zod[/'"]|import\('zod|from '[./]*validation\.js'/);
      for (const target of graph.get(file)!) {
        expect(target, `${file} imports ${target}`).toMatch(/^(split|parse|track)\/|^(model|format|defaults)\.ts$/);
      }
    }
  });
});
