import { describe, expect, it } from '@jest/globals';

import { slackChallengeOf } from './slack-url-verification.js';

const body = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('slackChallengeOf', () => {
  it("gives the challenge of Slack's url_verification request", () => {
    const request = {
      token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl',
      challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
      type: 'url_verification',
    };
    expect(slackChallengeOf('application/json', body(request))).toBe(request.challenge);
    expect(slackChallengeOf('application/json; charset=utf-8', body(request))).toBe(request.challenge);
  });

  it.each([
    ['an event', 'application/json', body({ type: 'event_callback', challenge: 'x' })],
    ['a challenge that is not a string', 'application/json', body({ type: 'url_verification', challenge: 1 })],
    [
      'a challenge over 256 characters',
      'application/json',
      body({ type: 'url_verification', challenge: 'x'.repeat(257) }),
    ],
    ['a form body', 'application/x-www-form-urlencoded', Buffer.from('type=url_verification&challenge=x')],
    ['no content type', undefined, body({ type: 'url_verification', challenge: 'x' })],
    ['invalid JSON', 'application/json', Buffer.from('{"type": "url_verification"')],
    ['an array', 'application/json', body([{ type: 'url_verification', challenge: 'x' }])],
    ['a large body', 'application/json', body({ type: 'url_verification', challenge: 'x', pad: 'y'.repeat(2000) })],
  ])('gives null for %s', (_label, contentType, raw) => {
    expect(slackChallengeOf(contentType, raw)).toBeNull();
  });
});
