/** Shell-quoted with single quotes, so that any URL or body pastes safely. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * A copy-paste delivery signed for Standard Webhooks with curl and openssl (as in the README): the secret stays a
 * placeholder, since the console never sees it again after the trigger is made or rotated.
 */
export function standardWebhooksCurl(url: string, body: string = '{"name":"Ada"}'): string {
  return [
    `URL=${shellQuote(url)}`,
    `SECRET='whsec_...'   # shown once when the trigger was made or its secret rotated`,
    `BODY=${shellQuote(body)}`,
    `MSG_ID=msg_$(date +%s%N); TS=$(date +%s)`,
    `SIG=$(printf '%s' "$MSG_ID.$TS.$BODY" \\`,
    `  | openssl dgst -sha256 -mac HMAC -macopt hexkey:$(printf '%s' "\${SECRET#whsec_}" | base64 -d | xxd -p -c 256) -binary \\`,
    `  | base64)`,
    `curl -s -X POST "$URL" -H 'content-type: application/json' \\`,
    `  -H "webhook-id: $MSG_ID" -H "webhook-timestamp: $TS" -H "webhook-signature: v1,$SIG" \\`,
    `  -d "$BODY"`,
  ].join('\n');
}
