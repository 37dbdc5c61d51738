import { describe, expect, it } from 'vitest';
import { ConnectorError, assertPublicUrl } from '.';

const deny = { allowPrivateNetwork: false };
const allow = { allowPrivateNetwork: true };

function refusal(url: string, ctx = deny): ConnectorError {
  try {
    assertPublicUrl(url, ctx);
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectorError);
    return err as ConnectorError;
  }
  throw new Error(`expected ${url} to be refused`);
}

describe('assertPublicUrl', () => {
  it.each([
    ['http://127.0.0.1/', 'loopback'],
    ['http://127.8.9.10:8080/x', 'loopback'],
    ['http://localhost:8787/', 'loopback'],
    ['http://LOCALHOST./', 'loopback'],
    ['http://api.localhost/', 'loopback'],
    ['http://0.0.0.0/', 'this network'],
    ['http://10.1.2.3/', 'private'],
    ['http://172.16.0.1/', 'private'],
    ['http://172.31.255.255/', 'private'],
    ['http://192.168.1.1/', 'private'],
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://100.64.0.1/', 'carrier-grade'],
    ['http://224.0.0.1/', 'multicast'],
    ['http://255.255.255.255/', 'reserved'],
    // Other spellings of IPv4 addresses, normalised by the URL parser.
    ['http://2130706433/', 'loopback'],
    ['http://0x7f.1/', 'loopback'],
    ['http://0177.0.0.1/', 'loopback'],
    ['http://127.1/', 'loopback'],
    ['http://0xa9fea9fe/', 'link-local'],
    // IPv6, including IPv4 embedded in it.
    ['http://[::1]/', 'loopback'],
    ['http://[::]/', 'unspecified'],
    ['http://[fc00::1]/', 'unique local'],
    ['http://[fd12:3456:789a::1]/', 'unique local'],
    ['http://[fe80::1]/', 'link-local'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://[::ffff:169.254.169.254]/', 'link-local'],
    ['http://[::ffff:a9fe:a9fe]/', 'link-local'],
    ['http://[::ffff:10.0.0.1]/', 'private'],
    ['http://[::127.0.0.1]/', 'loopback'],
    ['http://[64:ff9b::192.168.0.1]/', 'private'],
    ['http://[2002:c0a8:0101::1]/', 'private'],
    ['http://[ff02::1]/', 'multicast'],
    // Special-use and single-label names.
    ['http://metadata.google.internal/computeMetadata/v1/', 'private-network name'],
    ['http://printer.local/', 'private-network name'],
    ['http://db:5432/', 'single-label'],
  ])('refuses %s', (url, why) => {
    const err = refusal(url);
    expect(err.retryable).toBe(false);
    expect(err.code).toBe('BLOCKED_URL');
    expect(err.message).toContain(why);
  });

  it.each([
    'https://api.example.com/v1',
    'http://8.8.8.8/',
    'http://172.32.0.1/',
    'http://192.169.0.1/',
    'http://[2606:4700::1111]/',
    'http://[::ffff:8.8.8.8]/',
  ])('allows the public address %s', (url) => {
    expect(assertPublicUrl(url, deny).href).toBe(new URL(url).href);
  });

  it('allows private addresses when the deployment allows private networks', () => {
    for (const url of ['http://127.0.0.1:8787/', 'http://169.254.169.254/', 'http://[::1]/', 'http://localhost/']) {
      expect(assertPublicUrl(url, allow).href).toBe(new URL(url).href);
    }
  });

  it('refuses schemes other than http and https, whatever the setting', () => {
    for (const url of ['file:///etc/passwd', 'ftp://example.com/', 'gopher://example.com/', 'data:text/plain,hi']) {
      expect(refusal(url, allow).message).toMatch(/only http and https/);
    }
  });
});
