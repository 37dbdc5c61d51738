/**
 * Vite plugin that lowers TC39 standard decorators (`@registerConnector`) with esbuild,
 * as wrangler's build does for production. Vite 8 transforms TypeScript with Oxc,
 * which only lowers legacy (experimentalDecorators) decorators and passes standard
 * ones through; workerd cannot parse them yet, so a test importing a decorated class
 * fails with "SyntaxError: Invalid or unexpected token".
 *
 * Use in vitest.config.ts: `plugins: [standardDecorators(), cloudflareTest(...)]`.
 */
import { transform } from 'esbuild';
import type { Plugin } from 'vite';

/** A decorator at the start of a line: `@name` before a class or member. */
const DECORATOR = /^\s*(export\s+)?@[A-Za-z_$]/m;

export function standardDecorators(): Plugin {
  return {
    name: 'automate:standard-decorators',
    enforce: 'pre',
    async transform(code, id) {
      const file = id.split('?')[0];
      if (!/\.[cm]?tsx?$/.test(file) || file.includes('/node_modules/') || !DECORATOR.test(code)) return null;
      const out = await transform(code, {
        loader: file.endsWith('x') ? 'tsx' : 'ts',
        target: 'es2022',
        format: 'esm',
        sourcemap: true,
        sourcefile: file,
        tsconfigRaw: {
          compilerOptions: {
            experimentalDecorators: false,
            useDefineForClassFields: true,
            verbatimModuleSyntax: false,
          },
        },
      });
      return { code: out.code, map: out.map };
    },
  };
}
