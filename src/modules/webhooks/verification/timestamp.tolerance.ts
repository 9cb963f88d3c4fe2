import { AuthenticationError } from '../../../common/domain.error.js';

const TIMESTAMP = /^\d{1,10}$/;

/** Unix seconds as 1-10 ASCII digits, nothing else, within the tolerance either way. */
export function checkTimestamp(text: string, label: string, toleranceSeconds: number, nowSeconds: number): number {
  if (!TIMESTAMP.test(text)) {
    throw new AuthenticationError('timestamp_out_of_tolerance', `${label} must be an integer number of seconds`);
  }
  const timestamp = Number(text);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) {
    throw new AuthenticationError(
      'timestamp_out_of_tolerance',
      `${label} is more than ${toleranceSeconds} seconds away from the server's clock`,
    );
  }
  return timestamp;
}
