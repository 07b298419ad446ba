/** A command-line mistake: printed as "viommu: MESSAGE" with exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
