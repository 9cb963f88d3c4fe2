export const SECRET_PLACEHOLDER = 'whsec_PASTE_YOUR_SECRET';

export interface SnippetInput {
  url: string;
  scheme: string;
  /** Only a secret the person was just shown; otherwise the placeholder. */
  secret?: string;
  body?: string;
}

export interface SigningSnippets {
  curl: string;
  node: string;
}

/** Single-quoted for a POSIX shell: the only character to escape is the quote itself. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Copy-paste senders for Standard Webhooks: HMAC-SHA256 over `${id}.${timestamp}.${body}` with the
 * base64-decoded part of the secret after `whsec_`, sent as `webhook-signature: v1,<base64>`.
 * Other schemes are signed by their providers, so there is nothing to paste (null).
 */
export function signingSnippets(input: SnippetInput): SigningSnippets | null {
  if (input.scheme !== 'standard-webhooks') return null;
  const secret = input.secret ?? SECRET_PLACEHOLDER;
  const body = input.body ?? '{"name":"Ada"}';
  const curl = [
    `URL=${shellQuote(input.url)}`,
    `SECRET=${shellQuote(secret)}`,
    `BODY=${shellQuote(body)}`,
    'ID="msg_$(date +%s%N)"',
    'TS=$(date +%s)',
    `KEY_HEX=$(printf '%s' "\${SECRET#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \\n')`,
    `SIG=$(printf '%s' "$ID.$TS.$BODY" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$KEY_HEX" -binary | base64)`,
    'curl -sS -X POST "$URL" \\',
    "  -H 'content-type: application/json' \\",
    '  -H "webhook-id: $ID" \\',
    '  -H "webhook-timestamp: $TS" \\',
    '  -H "webhook-signature: v1,$SIG" \\',
    '  --data-raw "$BODY"',
  ].join('\n');
  const node = [
    "import { createHmac, randomUUID } from 'node:crypto';",
    '',
    `const url = ${JSON.stringify(input.url)};`,
    `const secret = process.env.HOOKRUN_SECRET ?? ${JSON.stringify(secret)};`,
    `const body = JSON.stringify(${body});`,
    'const id = `msg_${randomUUID()}`;',
    'const timestamp = String(Math.floor(Date.now() / 1000));',
    "const key = Buffer.from(secret.slice('whsec_'.length), 'base64');",
    "const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');",
    'const res = await fetch(url, {',
    "  method: 'POST',",
    '  headers: {',
    "    'content-type': 'application/json',",
    "    'webhook-id': id,",
    "    'webhook-timestamp': timestamp,",
    "    'webhook-signature': `v1,${signature}`,",
    '  },',
    '  body,',
    '});',
    'console.log(res.status, await res.text());',
  ].join('\n');
  return { curl, node };
}
