import { describe, expect, it } from 'vitest';
import { catalog, getConnector, register, settingsFor } from '.';
import { HttpConnector } from './http';

describe('connectors/index.ts', () => {
  it('registers every built-in connector', () => {
    const codes = catalog().map((c) => c.code);
    expect(codes).toEqual(expect.arrayContaining(['http', 'legacy_erp', 'slack']));
    for (const entry of catalog()) {
      expect(entry.actions.length).toBeGreaterThan(0);
      for (const action of entry.actions) {
        expect(action.inputs).toMatchObject({ type: 'object' });
        expect(action.outputs).toMatchObject({ type: 'object' });
        // What GET /api/connectors sends must survive JSON.
        expect(JSON.parse(JSON.stringify(action))).toEqual(action);
      }
    }
  });

  it('refuses to register a built-in twice', () => {
    expect(() => register(HttpConnector)).toThrow(/"http" is already registered/);
    expect(getConnector('http')).toBeInstanceOf(HttpConnector);
  });

  it('builds settings from CONNECTOR_<CODE>_<NAME> Worker variables', () => {
    const env = {
      CONNECTOR_LEGACY_ERP_URL: 'https://erp.example.com/soap',
      CONNECTOR_SLACK_API_URL: 'https://slack.example/api',
      DB: {},
    };
    expect(settingsFor('legacy_erp', env)).toEqual({ URL: 'https://erp.example.com/soap' });
    expect(settingsFor('slack', env)).toEqual({ API_URL: 'https://slack.example/api' });
    expect(settingsFor('http', env)).toEqual({});
  });
});
