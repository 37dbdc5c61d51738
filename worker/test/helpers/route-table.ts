/** Every /api route with what it needs, for the security and bad-input suites. */
import type { Session } from './api';

export interface Fixture {
  members: { owner: Session; admin: Session; editor: Session; viewer: Session };
  fullToken: string;
  /** An active token of this tenant (not `fullToken`). */
  tokenId: string;
  workflowKey: string;
  hookId: string;
  runId: string;
  /** A stored secret of this tenant. */
  secretKey: string;
  /** A pending invitation of this tenant. */
  invitationId: string;
}

type Role = 'viewer' | 'editor' | 'admin' | 'owner';

export interface RouteCase {
  method: string;
  /** As in the OpenAPI document, prefixed with /api. */
  template: string;
  path: (f: Fixture) => string;
  permission: 'public' | { role: Role; scope?: string };
  body?: (f: Fixture) => unknown;
  /**
   * `object`: the path names tenant A's object; anyone else gets 404.
   * `own-key`: the path's key is per tenant, so it names the caller's own object.
   */
  crossTenant?: 'object' | 'own-key';
}

const wfFile = (f: Fixture) => ({
  key: f.workflowKey,
  name: 'Replaced',
  trigger: { type: 'api' },
  steps: [{ id: 's', type: 'transform', output: {} }],
});

export const ROUTES: RouteCase[] = [
  { method: 'POST', template: '/api/auth/signup', path: () => '/api/auth/signup', permission: 'public' },
  { method: 'POST', template: '/api/auth/login', path: () => '/api/auth/login', permission: 'public' },
  { method: 'POST', template: '/api/auth/logout', path: () => '/api/auth/logout', permission: 'public' },
  { method: 'GET', template: '/api/auth/me', path: () => '/api/auth/me', permission: { role: 'viewer', scope: 'any' } },
  { method: 'GET', template: '/api/auth/mfa', path: () => '/api/auth/mfa', permission: { role: 'viewer' } },
  {
    method: 'POST',
    template: '/api/auth/mfa/enroll',
    path: () => '/api/auth/mfa/enroll',
    permission: { role: 'viewer' },
  },
  {
    method: 'POST',
    template: '/api/auth/mfa/enroll/confirm',
    path: () => '/api/auth/mfa/enroll/confirm',
    permission: { role: 'viewer' },
    body: () => ({ code: '123456' }),
  },
  {
    method: 'POST',
    template: '/api/auth/mfa/recovery-codes',
    path: () => '/api/auth/mfa/recovery-codes',
    permission: { role: 'viewer' },
    body: () => ({ code: '123456' }),
  },
  {
    method: 'POST',
    template: '/api/auth/mfa/disable',
    path: () => '/api/auth/mfa/disable',
    permission: { role: 'viewer' },
    body: () => ({ code: '123456' }),
  },
  {
    method: 'POST',
    template: '/api/auth/mfa/verify',
    path: () => '/api/auth/mfa/verify',
    permission: 'public',
    body: () => ({ challenge: 'x', code: '123456' }),
  },
  {
    method: 'DELETE',
    template: '/api/members/{id}/mfa',
    path: (f) => `/api/members/${f.members.viewer.user.id}/mfa`,
    permission: { role: 'owner' },
    crossTenant: 'object',
  },
  {
    method: 'POST',
    template: '/api/auth/verify-email',
    path: () => '/api/auth/verify-email',
    permission: 'public',
    body: () => ({ token: 'x'.repeat(43) }),
  },
  {
    method: 'POST',
    template: '/api/auth/verify-email/resend',
    path: () => '/api/auth/verify-email/resend',
    permission: { role: 'viewer' },
  },
  {
    method: 'POST',
    template: '/api/auth/password/forgot',
    path: () => '/api/auth/password/forgot',
    permission: 'public',
    body: () => ({ email: `nobody-${crypto.randomUUID()}@example.com` }),
  },
  {
    method: 'POST',
    template: '/api/auth/password/reset',
    path: () => '/api/auth/password/reset',
    permission: 'public',
    body: () => ({ token: 'x'.repeat(43), password: 'correct horse battery staple' }),
  },
  {
    method: 'POST',
    template: '/api/auth/invitation',
    path: () => '/api/auth/invitation',
    permission: 'public',
    body: () => ({ token: 'x'.repeat(43) }),
  },
  {
    method: 'POST',
    template: '/api/auth/invitation/accept',
    path: () => '/api/auth/invitation/accept',
    permission: 'public',
    body: () => ({ token: 'x'.repeat(43), name: 'N', password: 'correct horse battery staple' }),
  },
  { method: 'GET', template: '/api/dev/outbox', path: () => '/api/dev/outbox', permission: 'public' },
  { method: 'GET', template: '/api/members', path: () => '/api/members', permission: { role: 'admin' } },
  { method: 'GET', template: '/api/invitations', path: () => '/api/invitations', permission: { role: 'admin' } },
  {
    method: 'POST',
    template: '/api/invitations',
    path: () => '/api/invitations',
    permission: { role: 'admin' },
    body: () => ({ email: `i-${crypto.randomUUID()}@example.com`, role: 'viewer' }),
  },
  {
    method: 'DELETE',
    template: '/api/invitations/{id}',
    path: (f) => `/api/invitations/${f.invitationId}`,
    permission: { role: 'admin' },
    crossTenant: 'object',
  },
  {
    method: 'PATCH',
    template: '/api/members/{id}',
    path: (f) => `/api/members/${f.members.viewer.user.id}`,
    permission: { role: 'admin' },
    body: () => ({ role: 'viewer' }),
    crossTenant: 'object',
  },
  {
    method: 'DELETE',
    template: '/api/members/{id}',
    path: (f) => `/api/members/${f.members.viewer.user.id}`,
    permission: { role: 'admin' },
    crossTenant: 'object',
  },
  {
    method: 'POST',
    template: '/api/tokens',
    path: () => '/api/tokens',
    permission: { role: 'admin' },
    body: () => ({ name: 'x' }),
  },
  { method: 'GET', template: '/api/tokens', path: () => '/api/tokens', permission: { role: 'admin' } },
  {
    method: 'DELETE',
    template: '/api/tokens/{id}',
    path: (f) => `/api/tokens/${f.tokenId}`,
    permission: { role: 'admin' },
    crossTenant: 'object',
  },
  {
    method: 'POST',
    template: '/api/workflows/import',
    path: () => '/api/workflows/import',
    permission: { role: 'editor', scope: 'workflows:write' },
    body: wfFile,
    crossTenant: 'own-key',
  },
  {
    method: 'GET',
    template: '/api/workflows',
    path: () => '/api/workflows',
    permission: { role: 'viewer', scope: 'workflows:read' },
  },
  {
    method: 'GET',
    template: '/api/workflows/{key}',
    path: (f) => `/api/workflows/${f.workflowKey}`,
    permission: { role: 'viewer', scope: 'workflows:read' },
    crossTenant: 'object',
  },
  {
    method: 'PUT',
    template: '/api/workflows/{key}',
    path: (f) => `/api/workflows/${f.workflowKey}`,
    permission: { role: 'editor', scope: 'workflows:write' },
    body: wfFile,
    crossTenant: 'object',
  },
  {
    method: 'POST',
    template: '/api/workflows/validate',
    path: () => '/api/workflows/validate',
    permission: { role: 'viewer', scope: 'workflows:read' },
    body: wfFile,
  },
  {
    method: 'PATCH',
    template: '/api/workflows/{key}',
    path: (f) => `/api/workflows/${f.workflowKey}`,
    permission: { role: 'editor', scope: 'workflows:write' },
    body: () => ({ name: 'Renamed' }),
    crossTenant: 'object',
  },
  {
    method: 'DELETE',
    template: '/api/workflows/{key}',
    path: (f) => `/api/workflows/${f.workflowKey}`,
    permission: { role: 'editor', scope: 'workflows:write' },
    crossTenant: 'object',
  },
  {
    method: 'POST',
    template: '/api/workflows/{key}/disable',
    path: (f) => `/api/workflows/${f.workflowKey}/disable`,
    permission: { role: 'editor', scope: 'workflows:write' },
    crossTenant: 'object',
  },
  {
    method: 'GET',
    template: '/api/workflows/{key}/runs/count',
    path: (f) => `/api/workflows/${f.workflowKey}/runs/count`,
    permission: { role: 'viewer', scope: 'workflows:read' },
    crossTenant: 'object',
  },
  {
    method: 'POST',
    template: '/api/workflows/{key}/publish',
    path: (f) => `/api/workflows/${f.workflowKey}/publish`,
    permission: { role: 'editor', scope: 'workflows:write' },
    crossTenant: 'object',
  },
  {
    method: 'GET',
    template: '/api/workflows/{key}/versions',
    path: (f) => `/api/workflows/${f.workflowKey}/versions`,
    permission: { role: 'viewer', scope: 'workflows:read' },
    crossTenant: 'object',
  },
  {
    method: 'POST',
    template: '/api/workflows/{key}/versions/{n}/activate',
    path: (f) => `/api/workflows/${f.workflowKey}/versions/1/activate`,
    permission: { role: 'editor', scope: 'workflows:write' },
    crossTenant: 'object',
  },
  {
    method: 'GET',
    template: '/api/workflows/{key}/export',
    path: (f) => `/api/workflows/${f.workflowKey}/export`,
    permission: { role: 'viewer', scope: 'workflows:read' },
    crossTenant: 'object',
  },
  {
    method: 'POST',
    template: '/api/workflows/{key}/runs',
    path: (f) => `/api/workflows/${f.workflowKey}/runs`,
    permission: { role: 'editor', scope: 'runs:trigger' },
    body: () => ({ payload: {} }),
    crossTenant: 'object',
  },
  {
    method: 'POST',
    template: '/api/workflows/{key}/test',
    path: (f) => `/api/workflows/${f.workflowKey}/test`,
    permission: { role: 'editor', scope: 'workflows:write' },
    body: () => ({ payload: {} }),
    crossTenant: 'object',
  },
  {
    method: 'POST',
    template: '/api/workflows/{key}/hook',
    path: (f) => `/api/workflows/${f.workflowKey}/hook`,
    permission: { role: 'editor', scope: 'workflows:write' },
    crossTenant: 'object',
  },
  { method: 'GET', template: '/api/runs', path: () => '/api/runs', permission: { role: 'viewer', scope: 'runs:read' } },
  {
    method: 'GET',
    template: '/api/runs/{id}',
    path: (f) => `/api/runs/${f.runId}`,
    permission: { role: 'viewer', scope: 'runs:read' },
    crossTenant: 'object',
  },
  {
    method: 'POST',
    template: '/api/runs/{id}/retry',
    path: (f) => `/api/runs/${f.runId}/retry`,
    permission: { role: 'editor', scope: 'runs:trigger' },
    crossTenant: 'object',
  },
  {
    method: 'GET',
    template: '/api/connectors',
    path: () => '/api/connectors',
    permission: { role: 'viewer', scope: 'workflows:read' },
  },
  {
    method: 'POST',
    template: '/api/rules/test',
    path: () => '/api/rules/test',
    permission: { role: 'editor', scope: 'workflows:read' },
    body: () => ({ rule: { '==': [1, 1] }, data: {} }),
  },
  {
    method: 'POST',
    template: '/api/copilot/draft',
    path: () => '/api/copilot/draft',
    permission: { role: 'editor', scope: 'workflows:write' },
    body: () => ({ prompt: 'When an order comes in, notify #sales on Slack' }),
  },
  {
    method: 'GET',
    template: '/api/secrets',
    path: () => '/api/secrets',
    permission: { role: 'admin', scope: 'secrets:write' },
  },
  {
    method: 'PUT',
    template: '/api/secrets/{key}',
    path: (f) => `/api/secrets/${f.secretKey}`,
    permission: { role: 'admin', scope: 'secrets:write' },
    body: () => ({ value: 'replaced-value-123' }),
  },
  {
    method: 'POST',
    template: '/api/secrets/{key}/rotate',
    path: (f) => `/api/secrets/${f.secretKey}/rotate`,
    permission: { role: 'admin', scope: 'secrets:write' },
    body: () => ({ value: 'rotated-value-123' }),
    crossTenant: 'object',
  },
  {
    method: 'DELETE',
    template: '/api/secrets/{key}',
    path: (f) => `/api/secrets/${f.secretKey}`,
    permission: { role: 'admin', scope: 'secrets:write' },
    crossTenant: 'object',
  },
  {
    method: 'GET',
    template: '/api/audit',
    path: () => '/api/audit',
    permission: { role: 'admin', scope: 'audit:read' },
  },
  {
    method: 'GET',
    template: '/api/stats/overview',
    path: () => '/api/stats/overview',
    permission: { role: 'viewer', scope: 'runs:read' },
  },
  // The settings are the caller's own tenant's (no id in the path): `own-key`.
  {
    method: 'GET',
    template: '/api/settings',
    path: () => '/api/settings',
    permission: { role: 'viewer', scope: 'runs:read' },
    crossTenant: 'own-key',
  },
  {
    method: 'PATCH',
    template: '/api/settings',
    path: () => '/api/settings',
    permission: { role: 'admin' },
    body: () => ({ runRetentionDays: 30 }),
    crossTenant: 'own-key',
  },
  // Single sign-on: the caller's own tenant's configuration (no id in the path), owners only.
  { method: 'GET', template: '/api/sso', path: () => '/api/sso', permission: { role: 'owner' } },
  {
    method: 'PUT',
    template: '/api/sso',
    path: () => '/api/sso',
    permission: { role: 'owner' },
    body: () => ({
      issuer: 'https://login.example.com',
      clientId: 'automate',
      clientSecret: { $secret: 'OIDC_CLIENT_SECRET' },
      domains: ['example.org'],
      defaultRole: 'viewer',
      enabled: true,
    }),
  },
  { method: 'DELETE', template: '/api/sso', path: () => '/api/sso', permission: { role: 'owner' } },
  {
    method: 'GET',
    template: '/api/auth/sso/lookup',
    path: () => '/api/auth/sso/lookup?email=a%40example.org',
    permission: 'public',
  },
  {
    method: 'GET',
    template: '/api/auth/sso/start',
    path: () => '/api/auth/sso/start?email=a%40example.org',
    permission: 'public',
  },
  { method: 'GET', template: '/api/auth/sso/callback', path: () => '/api/auth/sso/callback', permission: 'public' },
];
