/** A tenant ready to run workflows: owner, a full-scope token, the example's secrets. */
import { SCOPES } from '../../src/auth/principal';
import { call, createToken, putSecrets, signup, type Session } from './api';

export interface Workspace {
  owner: Session;
  token: string;
}

export async function workspace(name?: string): Promise<Workspace> {
  const owner = await signup(name);
  await putSecrets(owner);
  const token = await createToken(owner, [...SCOPES]);
  return { owner, token };
}

/** Imports and publishes a workflow file; returns its webhook id. */
export async function publish(ws: Workspace, file: unknown): Promise<{ hookId: string; version: number }> {
  const res = await call('POST', '/api/workflows/import?publish=true', { token: ws.token, body: file });
  if (res.status >= 300) throw new Error(`publish failed: ${res.status} ${res.text}`);
  const detail = await call('GET', `/api/workflows/${(file as { key: string }).key}`, { token: ws.token });
  return { hookId: detail.json.hookId, version: res.json.version };
}

export async function startRun(
  ws: Workspace,
  key: string,
  payload: unknown,
  headers: Record<string, string> = {},
): Promise<string> {
  const res = await call('POST', `/api/workflows/${key}/runs`, { token: ws.token, body: { payload }, headers });
  if (res.status !== 202) throw new Error(`run failed to start: ${res.status} ${res.text}`);
  return res.json.runId;
}
