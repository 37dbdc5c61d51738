/** HOTP and TOTP against the RFCs' own test vectors (RFC 4226 Appendix D, RFC 6238 Appendix B). */
import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, hotp, matchingStep, otpauthUri, totp } from '../src/auth/mfa/totp';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('RFC 4226 HOTP', () => {
  it('gives the Appendix D values for counters 0 to 9', async () => {
    const key = ascii('12345678901234567890');
    const expected = [
      '755224',
      '287082',
      '359152',
      '969429',
      '338314',
      '254676',
      '287922',
      '162583',
      '399871',
      '520489',
    ];
    const got = await Promise.all(expected.map((_, counter) => hotp(key, counter)));
    expect(got).toEqual(expected);
  });
});

describe('RFC 6238 TOTP', () => {
  // Appendix B: 8 digits, the seed repeated to the hash's length.
  const seeds = {
    'SHA-1': ascii('12345678901234567890'),
    'SHA-256': ascii('12345678901234567890123456789012'),
    'SHA-512': ascii('1234567890123456789012345678901234567890123456789012345678901234'),
  } as const;
  const vectors: [number, string, keyof typeof seeds][] = [
    [59, '94287082', 'SHA-1'],
    [59, '46119246', 'SHA-256'],
    [59, '90693936', 'SHA-512'],
    [1111111109, '07081804', 'SHA-1'],
    [1111111109, '68084774', 'SHA-256'],
    [1111111109, '25091201', 'SHA-512'],
    [1111111111, '14050471', 'SHA-1'],
    [1111111111, '67062674', 'SHA-256'],
    [1111111111, '99943326', 'SHA-512'],
    [1234567890, '89005924', 'SHA-1'],
    [1234567890, '91819424', 'SHA-256'],
    [1234567890, '93441116', 'SHA-512'],
    [2000000000, '69279037', 'SHA-1'],
    [2000000000, '90698825', 'SHA-256'],
    [2000000000, '38618901', 'SHA-512'],
    [20000000000, '65353130', 'SHA-1'],
    [20000000000, '77737706', 'SHA-256'],
    [20000000000, '47863826', 'SHA-512'],
  ];
  it.each(vectors)('T = %i s gives %s with %s', async (seconds, code, hash) => {
    expect(await totp(seeds[hash], seconds * 1000, 8, hash)).toBe(code);
  });

  it('takes the step before and after now, and only steps after the last one used', async () => {
    const key = ascii('12345678901234567890');
    const now = 1111111111_000; // step 37037037
    const step = Math.floor(now / 30_000);
    for (const d of [-1, 0, 1])
      expect(await matchingStep(key, await totp(key, now + d * 30_000), now, null)).toBe(step + d);
    expect(await matchingStep(key, await totp(key, now - 60_000), now, null)).toBeNull();
    expect(await matchingStep(key, await totp(key, now + 60_000), now, null)).toBeNull();
    // Replay: the step already accepted, and any before it, is refused.
    expect(await matchingStep(key, await totp(key, now), now, step)).toBeNull();
    expect(await matchingStep(key, await totp(key, now - 30_000), now, step)).toBeNull();
    expect(await matchingStep(key, await totp(key, now + 30_000), now, step)).toBe(step + 1);
    expect(await matchingStep(key, 'abcdef', now, null)).toBeNull();
  });
});

describe('base32 and the otpauth URI', () => {
  it('round-trips and matches RFC 4648 vectors', () => {
    expect(base32Encode(ascii('foobar'))).toBe('MZXW6YTBOI');
    expect(new TextDecoder().decode(base32Decode('MZXW6YTBOI'))).toBe('foobar');
    const bytes = crypto.getRandomValues(new Uint8Array(20));
    expect(base32Decode(base32Encode(bytes))).toEqual(bytes);
  });

  it('names issuer and account, SHA1, 6 digits, 30 s', () => {
    const text = otpauthUri('JBSWY3DPEHPK3PXP', 'ana@example.com', 'Automate');
    expect(text.startsWith('otpauth://totp/Automate:ana%40example.com?')).toBe(true);
    const uri = new URL(text);
    expect(Object.fromEntries(uri.searchParams)).toEqual({
      secret: 'JBSWY3DPEHPK3PXP',
      issuer: 'Automate',
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    });
  });
});
