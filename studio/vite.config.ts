/**
 * The studio: a static SvelteKit SPA served by Workers Assets under /studio (wrangler.toml
 * `[assets] directory = "studio/dist"`); any path the assets don't have reaches the Worker,
 * which answers with 200.html (worker/src/routes/studio.ts). SvelteKit 3 takes its config
 * here rather than in svelte.config.js. Paths are absolute so the build works from any cwd.
 */
import path from 'node:path';
import adapter from '@sveltejs/adapter-static';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

const here = import.meta.dirname;
const out = path.join(here, 'dist/studio');

export default defineConfig({
  root: here,
  plugins: [
    sveltekit({
      adapter: adapter({ pages: out, assets: out, fallback: '200.html' }),
      paths: { base: '/studio' },
      compilerOptions: { runes: true },
    }),
  ],
  // The API is same-origin in production; in `vite dev` proxy it to a running `npm run dev`.
  server: { proxy: { '/api': process.env.AUTOMATE_URL ?? 'http://127.0.0.1:8787' } },
});
