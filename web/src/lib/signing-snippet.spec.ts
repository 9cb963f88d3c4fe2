import { describe, expect, it } from '@jest/globals';

import { standardWebhooksCurl } from './signing-snippet';

describe('standardWebhooksCurl', () => {
  it('fills in the URL and signs id.timestamp.body with the secret, as Standard Webhooks wants', () => {
    const snippet = standardWebhooksCurl('http://localhost:3000/webhooks/workflows/abc');
    expect(snippet.split('\n')[0]).toBe("URL='http://localhost:3000/webhooks/workflows/abc'");
    expect(snippet).toContain(`BODY='{"name":"Ada"}'`);
    expect(snippet).toContain('"$MSG_ID.$TS.$BODY"');
    expect(snippet).toContain('openssl dgst -sha256 -mac HMAC');
    expect(snippet).toContain('-H "webhook-signature: v1,$SIG"');
    expect(snippet).toContain('${SECRET#whsec_}');
    expect(snippet).not.toContain('undefined');
  });

  it('quotes single quotes in the URL and body for the shell', () => {
    const snippet = standardWebhooksCurl("http://h/x'y", `{"a":"it's"}`);
    expect(snippet).toContain(`URL='http://h/x'\\''y'`);
    expect(snippet).toContain(`BODY='{"a":"it'\\''s"}'`);
  });
});
