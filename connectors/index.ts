/**
 * Every built-in connector, registered once when this module loads, and the SDK.
 * The engine imports `runAction` and the API `catalog` from here.
 */
import { HttpConnector } from './http';
import { LegacyERPAdapter } from './legacy-erp';
import { register } from './sdk';
import { SlackConnector } from './slack';

register(HttpConnector);
register(SlackConnector);
register(LegacyERPAdapter);

export * from './sdk';
