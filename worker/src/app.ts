/** Builds the Hono app: request context, errors, body limits, auth, routers, OpenAPI, studio. */
import { bodyLimit } from 'hono/body-limit';
import { AppError } from './errors';
import { MAX_BODY_BYTES, MAX_JSON_DEPTH } from './lib/json-limits';
import { authenticate } from './auth/middleware';
import { onError, onNotFound } from './http/error-handler';
import { requestContext } from './http/request-context';
import { createRouter } from './http/router';
import { auditRoutes } from './routes/audit';
import { copilotRoutes } from './routes/copilot';
import { authRoutes } from './routes/auth';
import { hookRoutes } from './routes/hooks';
import { memberRoutes } from './routes/members';
import { devOutboxRoutes } from './routes/dev-outbox';
import { emailVerificationRoutes } from './routes/email-verification';
import { invitationRoutes } from './routes/invitations';
import { passwordResetRoutes } from './routes/password-reset';
import { mfaRoutes } from './routes/mfa';
import { runRoutes } from './routes/runs';
import { secretRoutes } from './routes/secrets';
import { statsRoutes } from './routes/stats';
import { settingsRoutes } from './routes/settings';
import { ssoRoutes } from './routes/sso';
import { studioRoutes } from './routes/studio';
import { tokenRoutes } from './routes/tokens';
import { toolRoutes } from './routes/tools';
import { workflowRoutes } from './routes/workflows';

const OPENAPI_INFO = {
  title: 'Automate API',
  version: '1.0.0',
  description:
    'Multi-tenant workflow automation. Every error answers {"error": {"code", "message", "requestId", "details?"}}. ' +
    `A JSON body may nest at most ${MAX_JSON_DEPTH} levels and be at most ${MAX_BODY_BYTES} bytes (docs/workflow-file.md#limits).`,
};

export function createApp() {
  const api = createRouter();
  api.use(
    '*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new AppError('payload_too_large', `Body larger than ${MAX_BODY_BYTES} bytes`);
      },
    }),
  );
  api.use('*', authenticate);
  api.route('/', authRoutes);
  api.route('/', emailVerificationRoutes);
  api.route('/', passwordResetRoutes);
  api.route('/', memberRoutes);
  api.route('/', invitationRoutes);
  api.route('/', devOutboxRoutes);
  api.route('/', mfaRoutes);
  api.route('/', tokenRoutes);
  api.route('/', workflowRoutes);
  api.route('/', auditRoutes);
  api.route('/', secretRoutes);
  api.route('/', runRoutes);
  api.route('/', toolRoutes);
  api.route('/', statsRoutes);
  api.route('/', copilotRoutes);
  api.route('/', settingsRoutes);
  api.route('/', ssoRoutes);
  api.openAPIRegistry.registerComponent('securitySchemes', 'session', {
    type: 'apiKey',
    in: 'cookie',
    name: 'automate_session',
  });
  api.openAPIRegistry.registerComponent('securitySchemes', 'token', {
    type: 'http',
    scheme: 'bearer',
    description: 'Tenant API token (atm_...)',
  });
  // Generated once per isolate from the same zod schemas that validate requests.
  let openapi: unknown;
  api.get('/openapi.json', (c) => {
    openapi ??= api.getOpenAPI31Document({ openapi: '3.1.0', info: OPENAPI_INFO, servers: [{ url: '/api' }] });
    return c.json(openapi);
  });

  const app = createRouter();
  app.use('*', requestContext);
  app.onError(onError);
  app.notFound(onNotFound);
  // Liveness, and the benchmark's baseline: a bare route through the same Worker and router.
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.route('/api', api);
  app.route('/', hookRoutes);
  app.route('/', studioRoutes);
  return app;
}
