// ESLint: the recommended JavaScript and TypeScript rules, plus a few that keep the engine honest.
import fs from 'node:fs';
import path from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * `mosaic/doors`: the folders' boundaries. engine/ imports nothing outside engine/; common/ (errors,
 * retries, the logger interface) imports nothing outside common/, and others reach it through
 * its door like any folder; app/, which
 * wires the parts into processes, is used by bin/ alone; any other
 * folder enters a top-level folder only through its `index.ts`, and a subfolder that has an
 * `index.ts` (connectors/evm/, gateway/feed/, ...) only through it, from anywhere outside that
 * subfolder. A subfolder without one is open to its parent folder: gateway/plugins/ is the
 * gateway's wiring, each fastify plugin registered by gateway.ts alone, so a door would only
 * repeat the list. test/ and bench/ reach internals on purpose and are not checked. A local rule
 * rather than `no-restricted-imports`, whose patterns see the import's text, not the folder it
 * lands in from the importing file.
 */
const root = import.meta.dirname;
const doors = {
  meta: { type: 'problem', schema: [] },
  create(context) {
    const from = path.relative(root, context.filename);
    const [top] = from.split(path.sep);
    function check(node) {
      const spec = node.source?.value;
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = path.relative(root, path.resolve(path.dirname(context.filename), spec));
      const report = (message) => context.report({ node: node.source, message: `${spec}: ${message}` });
      const parts = target.split(path.sep);
      if (top === 'engine' && parts[0] !== 'engine') return report('engine/ imports nothing outside engine/');
      if (top === 'common' && parts[0] !== 'common') return report('common/ imports nothing outside common/');
      if (parts[0] === 'app' && top !== 'app' && top !== 'bin')
        return report('app/ wires the parts: only bin/ uses it');
      for (let depth = 1; depth < parts.length; depth++) {
        const folder = parts.slice(0, depth).join(path.sep);
        if (from.startsWith(folder + path.sep)) continue; // inside it already
        const door = path.join(folder, 'index.ts');
        const hasDoor = fs.existsSync(path.join(root, door));
        if (depth > 1 && !hasDoor) continue;
        if (target !== door) return report(hasDoor ? `import it through ${door}` : `${folder}/ has no door`);
        return;
      }
    }
    return {
      ImportDeclaration: check,
      ExportAllDeclaration: check,
      ExportNamedDeclaration: check,
      ImportExpression: check,
    };
  },
};

export default tseslint.config(
  { ignores: ['**/dist/', 'data/', 'node_modules/', '.*-dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        setImmediate: 'readonly',
        clearTimeout: 'readonly',
        performance: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['**/*.ts', '**/*.js'],
    ignores: ['test/**', 'bench/**'],
    plugins: { mosaic: { rules: { doors } } },
    rules: { 'mosaic/doors': 'error' },
  },
  {
    // The dashboard runs in the browser.
    files: ['gateway/dashboard/**/*.js'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        location: 'readonly',
        history: 'readonly',
        WebSocket: 'readonly',
        fetch: 'readonly',
        getComputedStyle: 'readonly',
        requestAnimationFrame: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        sessionStorage: 'readonly',
        crypto: 'readonly',
        atob: 'readonly',
        btoa: 'readonly',
        TextEncoder: 'readonly',
        HTMLElement: 'readonly',
      },
    },
  },
);
