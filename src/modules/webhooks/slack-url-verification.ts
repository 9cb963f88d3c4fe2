/**
 * Slack checks an Events API Request URL once, when it is saved, with a signed
 * `{ "type": "url_verification", "challenge": "..." }` that it expects back in a 200. That request is
 * a handshake, not an event: it starts no run. Only a verified Slack delivery gets here.
 */
export function slackChallengeOf(contentType: string | undefined, rawBody: Buffer): string | null {
  const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
  // Challenges are small; anything larger is an event, so not even parsed here.
  if (mediaType !== 'application/json' || rawBody.length > MAX_CHALLENGE_BODY_BYTES) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const { type, challenge } = parsed as Record<string, unknown>;
  return type === 'url_verification' && typeof challenge === 'string' && challenge.length <= MAX_CHALLENGE_CHARS
    ? challenge
    : null;
}

const MAX_CHALLENGE_BODY_BYTES = 1024;
const MAX_CHALLENGE_CHARS = 256;
