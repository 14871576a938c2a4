/**
 * Applies a BOSH ops file to a manifest as the bosh CLI does (github.com/cppforlife/go-patch,
 * patch/pointer.go and patch/replace_op.go), for the features our ops files use: `replace`
 * steps whose paths are map keys, `name=value` array matches and a trailing `-`, any of them
 * optional with `?` (which, as in go-patch, makes every later token optional too). Neither
 * Debian nor npm packages go-patch, hence this interpreter; anything beyond those features
 * throws instead of guessing. Error messages are go-patch's.
 */

type Token =
  | { kind: 'key'; key: string; optional: boolean }
  | { kind: 'match'; key: string; value: string; optional: boolean }
  | { kind: 'append' };

export interface OpsStep {
  type: string;
  path: string;
  value?: unknown;
}

type Node = unknown;
type YamlMap = Record<string, Node>;

const isMap = (node: Node): node is YamlMap => typeof node === 'object' && node !== null && !Array.isArray(node);
// RFC 6901 escapes, plus go-patch's ~7 for ':'.
const decode = (text: string): string => text.replace(/~0|~1|~7/g, (escape) => ({ '~0': '~', '~1': '/', '~7': ':' })[escape]!);
const encode = (text: string): string => text.replace(/[~/:]/g, (c) => ({ '~': '~0', '/': '~1', ':': '~7' })[c]!);

export function parsePointer(path: string): Token[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new Error("Expected to start with '/'");
  const pieces = path.split('/').slice(1);
  let optional = false;
  return pieces.map((raw, i): Token => {
    if (raw.includes(':')) throw new Error(`ops-file interpreter: modifiers (${raw}) are not supported`);
    const text = decode(raw);
    if (i === pieces.length - 1 && text === '-') return { kind: 'append' };
    if (/^-?\d+$/.test(text)) throw new Error(`ops-file interpreter: array indexes (${raw}) are not supported`);
    if (text.endsWith('?')) optional = true;
    const eq = text.indexOf('=');
    if (eq >= 0) return { kind: 'match', key: text.slice(0, eq), value: text.slice(eq + 1).replace(/\?$/, ''), optional };
    return { kind: 'key', key: text.replace(/\?$/, ''), optional };
  });
}

/** go-patch's Pointer.String(): `?` is written only on the first optional token. */
function pointerString(tokens: Token[]): string {
  let optionalShown = false;
  const mark = (optional: boolean): string => {
    if (!optional || optionalShown) return '';
    optionalShown = true;
    return '?';
  };
  const parts = tokens.map((t) => {
    if (t.kind === 'append') return '-';
    if (t.kind === 'match') return `${encode(t.key)}=${encode(t.value)}${mark(t.optional)}`;
    return `${encode(t.key)}${mark(t.optional)}`;
  });
  return ['', ...parts].join('/');
}

function goType(node: Node): string {
  if (Array.isArray(node)) return '[]interface {}';
  if (isMap(node)) return 'map[interface {}]interface {}';
  if (node === null || node === undefined) return '<nil>';
  return typeof node === 'number' ? (Number.isInteger(node) ? 'int' : 'float64') : typeof node === 'boolean' ? 'bool' : 'string';
}

/** ReplaceOp.Apply: returns the new document (the input is changed in place where go-patch does). */
export function replace(doc: Node, path: string, value: unknown): Node {
  const tokens = parsePointer(path);
  const cloned = structuredClone(value);
  if (tokens.length === 0) return cloned;
  let obj: Node = doc;
  let update = (next: Node): void => {
    doc = next;
  };
  for (const [i, token] of tokens.entries()) {
    const isLast = i === tokens.length - 1;
    const here = pointerString(tokens.slice(0, i + 1));
    if (token.kind === 'append') {
      if (!Array.isArray(obj)) throw new Error(`Expected to find an array at path '${here}' but found '${goType(obj)}'`);
      update([...obj, cloned]);
    } else if (token.kind === 'match') {
      if (!Array.isArray(obj)) throw new Error(`Expected to find an array at path '${here}' but found '${goType(obj)}'`);
      const array: Node[] = obj;
      // go-patch compares with Go's ==: only a string item value equals the path's string.
      const found = array.flatMap((item, index) => (isMap(item) && item[token.key] === token.value ? [index] : []));
      if (token.optional && found.length === 0) {
        if (isLast) {
          update([...array, cloned]);
        } else {
          obj = { [token.key]: token.value };
          update([...array, obj]);
        }
      } else {
        if (found.length !== 1) {
          throw new Error(`Expected to find exactly one matching array item for path '${here}' but found ${found.length}`);
        }
        const index = found[0]!;
        if (isLast) {
          const next = [...array];
          next[index] = cloned;
          update(next);
        } else {
          obj = array[index];
        }
      }
    } else {
      if (!isMap(obj)) throw new Error(`Expected to find a map at path '${here}' but found '${goType(obj)}'`);
      const map: YamlMap = obj;
      const found = Object.hasOwn(map, token.key);
      if (!found && !token.optional) {
        const keys = Object.keys(map).sort();
        const siblings = keys.length === 0 ? 'found no other map keys' : `found map keys: '${keys.join("', '")}'`;
        throw new Error(`Expected to find a map key '${token.key}' for path '${here}' (${siblings})`);
      }
      if (isLast) {
        map[token.key] = cloned;
      } else {
        update = (next: Node): void => {
          map[token.key] = next;
        };
        obj = map[token.key];
        if (!found) {
          const following = tokens[i + 1]!;
          obj = following.kind === 'key' ? {} : [];
          map[token.key] = obj;
        }
      }
    }
  }
  return doc;
}

/** Applies every step of an ops file in order, as `bosh int -o` / `bosh deploy -o` do. */
export function applyOps(manifest: Node, ops: OpsStep[]): Node {
  return ops.reduce((doc, step, i) => {
    if (step.type !== 'replace') throw new Error(`ops-file interpreter: step ${i}: only 'replace' is supported, got '${step.type}'`);
    return replace(doc, step.path, step.value ?? null);
  }, structuredClone(manifest));
}
