import { expect } from '@jest/globals';

interface ErrorResponse {
  status: number;
  body: { error?: { status: number; code: string; message: string; requestId: string } };
  headers: Record<string, string>;
}

/** The contract's error envelope, with the status and code expected and the response's request id. */
export function expectError(res: ErrorResponse, status: number, code: string): void {
  expect({ status: res.status, code: res.body.error?.code }).toEqual({ status, code });
  expect(res.body.error).toEqual(
    expect.objectContaining({ status, code, message: expect.any(String), requestId: res.headers['x-request-id'] }),
  );
}
