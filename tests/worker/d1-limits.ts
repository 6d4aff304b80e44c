/**
 * Only tests use this: a multi-row INSERT that proves D1's limit of 100 bound parameters per query, and the chunking
 * that keeps under it. Production writes lists as one JSON parameter read with json_each instead (db/deliveries.ts).
 */

/** D1 refuses a query with more than 100 bound parameters (Cloudflare D1 limits). */
export const D1_MAX_BOUND_PARAMETERS = 100;

/** Splits rows so that no statement binds more than D1_MAX_BOUND_PARAMETERS values. */
export function chunksForParameters<T>(rows: readonly T[], parametersPerRow: number): T[][] {
  const size = Math.floor(D1_MAX_BOUND_PARAMETERS / parametersPerRow);
  if (size < 1)
    throw new RangeError(`a row with ${parametersPerRow} parameters exceeds D1's limit of ${D1_MAX_BOUND_PARAMETERS}`);
  const chunks: T[][] = [];
  for (let i = 0; i < rows.length; i += size) chunks.push(rows.slice(i, i + size));
  return chunks;
}

/**
 * Stores manage tokens for many subscribers at once (e.g. one per email of a mailing): multi-row
 * INSERTs of at most 33 rows (3 parameters each, under D1's 100), all sent as one batch.
 */
export async function insertManageTokens(
  db: D1Database,
  entries: readonly { subscriberId: string; tokenHash: string }[],
  now: string,
): Promise<void> {
  if (entries.length === 0) return;
  const statements = chunksForParameters(entries, 3).map((chunk) =>
    db
      .prepare(
        `INSERT INTO subscription_tokens (token_hash, subscriber_id, kind, created_at) VALUES ${chunk.map(() => "(?, ?, 'manage', ?)").join(", ")}`,
      )
      .bind(...chunk.flatMap((e) => [e.tokenHash, e.subscriberId, now])),
  );
  await db.batch(statements);
}
