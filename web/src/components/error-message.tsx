import { ApiError } from '../api/client';

/** The error as an alert; a `validation_failed` error lists each field the API did not accept. */
export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  if (error instanceof ApiError && error.details.length > 0) {
    return (
      <div role="alert" class="error">
        <p>The API did not accept these fields ({error.code}):</p>
        <ul class="error-details">
          {error.details.map((detail, index) => (
            <li key={index}>
              <code>{detail.field}</code>: {detail.message}
            </li>
          ))}
        </ul>
      </div>
    );
  }
  const text =
    error instanceof ApiError
      ? `${error.message} (${error.code})`
      : error instanceof Error
        ? error.message
        : 'Something went wrong';
  return (
    <p role="alert" class="error">
      {text}
    </p>
  );
}
