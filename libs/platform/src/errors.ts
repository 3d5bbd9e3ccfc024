/** A failure worth retrying later (a dependency is down, a fact has not arrived yet). */
export class RetryableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RetryableError';
  }
}

/** A message that can never be processed as it is (undecodable, invalid): it goes to the dead-letter topic. */
export class PoisonMessageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PoisonMessageError';
  }
}

export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));
