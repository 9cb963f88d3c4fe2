import { describe, expect, it } from '@jest/globals';

import { ValidationError } from '../../common/domain.error.js';
import { parseWaitQuery } from './run-wait.parser.js';

function refusal(wait: unknown, reply: unknown, replies = true): { field: string; message: string } {
  try {
    parseWaitQuery(wait, reply, replies);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).details[0];
  }
  throw new Error('not refused');
}

describe('parseWaitQuery', () => {
  it('takes 1 to 30 seconds, with reply=output where the route takes it', () => {
    expect(parseWaitQuery(undefined, undefined, true)).toBeNull();
    expect(parseWaitQuery('1', undefined, true)).toEqual({ seconds: 1, reply: 'run' });
    expect(parseWaitQuery('30', 'output', true)).toEqual({ seconds: 30, reply: 'output' });
    expect(parseWaitQuery('5', undefined, false)).toEqual({ seconds: 5, reply: 'run' });
  });

  it.each([['0'], ['31'], ['abc'], [''], ['1.5'], ['-1'], [' 5'], ['1e1'], [['5', '6']]])(
    'refuses wait=%j, naming wait',
    (wait) => {
      expect(refusal(wait, undefined)).toEqual({
        field: 'wait',
        message: 'wait must be a whole number of seconds from 1 to 30',
      });
    },
  );

  it('refuses a reply other than output, a reply without wait, and a reply where the route takes none', () => {
    expect(refusal('5', 'xyz')).toEqual({ field: 'reply', message: 'reply must be output' });
    expect(refusal('5', ['output', 'output'])).toEqual({ field: 'reply', message: 'reply must be output' });
    expect(refusal(undefined, 'output')).toEqual({ field: 'reply', message: 'reply is only valid with wait' });
    expect(refusal('5', 'output', false)).toEqual({ field: 'reply', message: 'reply is taken by webhook URLs only' });
  });
});
