import { createApp } from './app';
import type { Env } from './env';

export { RunCoordinator } from './run/run-coordinator';

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
