/** The message of a thrown value, for a log line or a report; anything not an Error is stringified. */
export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
