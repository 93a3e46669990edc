/**
 * The header of a .npy file is a Python literal (a dict of strings, booleans, integers and tuples); this
 * small recursive-descent reader parses it without ever evaluating it (src/data/npy.ts reads the dict).
 */

/** Tuples nested deeper than this are no header numpy writes (a structured dtype nests a level or two). */
const MAX_NESTING = 16;

export type PyValue = string | number | boolean | null | PyValue[] | { tuple: PyValue[] } | Map<string, PyValue>;

/** A header that is not such a literal; the message says what and at which character. */
export class HeaderSyntax extends Error {}

export function parsePythonLiteral(text: string): PyValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new HeaderSyntax(`${what} at character ${i}`);
  };
  const skip = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const value = (depth: number): PyValue => {
    if (depth > MAX_NESTING) fail(`nested more than ${MAX_NESTING} deep`);
    skip();
    const c = text[i];
    if (c === undefined) return fail('ended where a value was expected');
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) fail('a string is not closed');
      const s = text.slice(i + 1, end);
      if (s.includes('\\') || s.includes('\n')) fail('a string holds an escape or a line break');
      i = end + 1;
      return s;
    }
    if (c === '{') {
      i++;
      const map = new Map<string, PyValue>();
      for (;;) {
        skip();
        if (text[i] === '}') {
          i++;
          return map;
        }
        const key = value(depth + 1);
        if (typeof key !== 'string') fail('a dict key is not a string');
        skip();
        if (text[i] !== ':') fail(`expected ':' after the key '${key as string}'`);
        i++;
        if (map.has(key as string)) fail(`the key '${key as string}' is given twice`);
        map.set(key as string, value(depth + 1));
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') fail("expected ',' or '}'");
      }
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      i++;
      const items: PyValue[] = [];
      let trailingComma = false;
      for (;;) {
        skip();
        if (text[i] === close) {
          i++;
          // (3) is the number 3 in Python; only (3,) is a tuple.
          if (c === '(' && items.length === 1 && !trailingComma) return items[0];
          return c === '(' ? { tuple: items } : items;
        }
        items.push(value(depth + 1));
        skip();
        trailingComma = text[i] === ',';
        if (trailingComma) i++;
        else if (text[i] !== close) fail(`expected ',' or '${close}'`);
      }
    }
    const word = /^(?:True|False|None|[+-]?\d+L?)/.exec(text.slice(i, i + 40));
    if (!word) return fail(`unexpected ${JSON.stringify(c)}`);
    i += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    // Python 2 wrote long integers with an L suffix: (60000L, 784L).
    return Number(word[0].replace('L', ''));
  };
  const result = value(0);
  skip();
  if (i < text.length) fail('unexpected text after the dict');
  return result;
}

