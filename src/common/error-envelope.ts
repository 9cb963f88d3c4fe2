import type { ValidationDetail } from './errors.js';

/** The body of every error answer (API.md, Conventions). */
export interface ErrorEnvelope {
  error: {
    status: number;
    code: string;
    message: string;
    requestId: string;
    details?: ValidationDetail[];
  };
}
