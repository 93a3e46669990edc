/**
 * Post-build step for dist/types (npm run build, after `tsc -p tsconfig.build.json`).
 *
 * The sources import each other without extensions (`from './device'`), which Vite and
 * `moduleResolution: bundler` accept, and tsc copies those specifiers into the .d.ts files unchanged.
 * Under `node16` / `nodenext` a consumer's TypeScript reads our .d.ts files as ES modules (the package is
 * "type": "module") and cannot resolve an extension-less relative import, so every type behind one
 * becomes `any` or an error. This rewrites each relative specifier to what Node would load:
 * './device' -> './device.js', './worker' -> './worker/index.js' (when that is the file), and fails the
 * build on a specifier that resolves to no declaration file.
 *
 * It also puts `/// <reference types="@webgpu/types" />` at the top of each entry's declarations, so a
 * consumer gets the GPU* types (a dependency of this package) without listing them in tsconfig "types".
 */
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const typesDir = path.join(root, 'dist/types');
const ENTRIES = ['index.d.ts', 'internals.d.ts', 'node.d.ts'];
const REFERENCE = '/// <reference types="@webgpu/types" />';

function declarationFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return declarationFiles(file);
    return name.endsWith('.d.ts') ? [file] : [];
  });
}

/** The specifier Node would need for `spec` imported from `file`, or undefined if no declaration matches. */
function resolved(file, spec) {
  if (/\.(js|mjs|cjs|json)$/.test(spec)) return spec;
  const base = path.resolve(path.dirname(file), spec);
  if (existsSync(`${base}.d.ts`)) return `${spec}.js`;
  if (existsSync(path.join(base, 'index.d.ts'))) return `${spec}/index.js`;
  return undefined;
}

if (!existsSync(typesDir)) throw new Error(`${typesDir} is missing: run tsc -p tsconfig.build.json first.`);
const unresolved = [];
let rewritten = 0;
// `from './x'`, `import('./x')`, `import './x'` and `declare module './x'`, single or double quotes.
const pattern = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\bmodule\s+)(['"])(\.{1,2}\/[^'"]*)\2/g;
for (const file of declarationFiles(typesDir)) {
  const before = readFileSync(file, 'utf8');
  let text = before.replace(pattern, (match, lead, quote, spec) => {
    const target = resolved(file, spec);
    if (!target) {
      unresolved.push(`${path.relative(root, file)}: '${spec}'`);
      return match;
    }
    if (target !== spec) rewritten++;
    return `${lead}${quote}${target}${quote}`;
  });
  if (/\?raw['"]|vite\/client/.test(text)) unresolved.push(`${path.relative(root, file)}: refers to a Vite-only module (?raw or vite/client)`);
  const relative = path.relative(typesDir, file);
  if (ENTRIES.includes(relative) && !text.startsWith(REFERENCE)) text = `${REFERENCE}\n${text}`;
  if (text !== before) writeFileSync(file, text);
}
if (unresolved.length) {
  throw new Error(`Declarations import files that do not exist (or Vite-only modules):\n  ${unresolved.join('\n  ')}`);
}
for (const entry of ENTRIES) if (!existsSync(path.join(typesDir, entry))) throw new Error(`dist/types/${entry} is missing; package.json "exports" points at it.`);
console.log(`fix_declarations: ${rewritten} relative specifiers given .js extensions in dist/types`);
