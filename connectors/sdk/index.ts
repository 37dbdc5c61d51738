/**
 * The connector SDK: what a connector is made of (ConnectorAdapter, ActionSpec,
 * ConnectorError), how it is registered, and helpers for talking HTTP safely.
 * Guide: docs/connectors.md.
 */
export { ActionSpec, DEFAULT_ATTEMPT_TIMEOUT_MS, MAX_ATTEMPT_TIMEOUT_MS } from './action-spec';
export type { ActionInput, ActionOutput, ActionSpecDefinition, AttemptTimeout } from './action-spec';
export { ConnectorAdapter, requireSecret, requireSetting, settingVariable } from './connector-adapter';
export type { ExecutionContext } from './connector-adapter';
export { ConnectorError, isConnectorError, toConnectorError } from './connector-error';
export type { ConnectorErrorOptions } from './connector-error';
export {
  ConnectorRegistry,
  attemptTimeoutMs,
  catalog,
  defaultRegistry,
  getConnector,
  register,
  registerConnector,
  runAction,
  settingsFor,
} from './registry';
export type { CatalogEntry, ConnectorClass, RunActionContext } from './registry';
export { assertPublicUrl, privateHostReason } from './network-guard';
export {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  bodySnippet,
  describeUrl,
  errorForStatus,
  fetchText,
  isRetryableStatus,
  parseRetryAfter,
} from './http-helpers';
export type { FetchTextOptions, FetchTextResult } from './http-helpers';
