/** The services the e2e tests use: the real PostgreSQL and Redis, in a database and prefix of their own. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/hookrun_test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_API_KEY = 'hr_e2e-bootstrap-key-0123456789abcdef';
/** 32 bytes, base64url: a fixed key so that a failing test can be replayed. */
export const TEST_ENCRYPTION_KEY = 'k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8';
