/**
 * How the ledger's read-then-write updates meet concurrent writers: each commit checks the versionstamps it
 * read, a commit that lost a race is read and tried again, and after a bounded number of attempts the write
 * gives up with {@linkcode LedgerConflictError}. Gap recovery and coverage writes share this rule.
 * @module
 */

/** A read-modify-write kept losing to concurrent writers. */
export class LedgerConflictError extends Error {
  constructor(readonly key: Deno.KvKey, readonly attempts: number) {
    super(
      `Cannot commit ledger write to ${JSON.stringify(key)}: still conflicting after ${attempts} attempts`,
    );
    this.name = "LedgerConflictError";
  }
}

/** Reads `key`, lets `apply` add writes to an operation checked against that read, and retries conflicts. */
export async function updateChecked<T>(
  kv: Deno.Kv,
  key: Deno.KvKey,
  maxAttempts: number,
  apply: (current: T | null, op: Deno.AtomicOperation) => void,
): Promise<void> {
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const entry = await kv.get<T>(key);
    const op = kv.atomic().check(entry);
    apply(entry.value, op);
    if ((await op.commit()).ok) return;
  }
  throw new LedgerConflictError(key, maxAttempts);
}
