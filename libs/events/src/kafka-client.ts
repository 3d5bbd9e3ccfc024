import type { KafkaConfig } from 'kafkajs';

/**
 * How a client reaches and authenticates to Kafka: the variables every service (see
 * commonConfigSchema), the provisioning job and the repository's tools read. The broker's client
 * listener takes SASL/SCRAM-SHA-512, one principal per service; without a mechanism the client
 * connects unauthenticated (a broker without SASL, e.g. a developer's own).
 */
export interface KafkaConnectionSettings {
  KAFKA_BROKERS: string;
  KAFKA_SASL_MECHANISM?: string | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
}

export const kafkaSaslMechanisms = ['scram-sha-512'] as const;

/** The brokers and SASL options of a kafkajs client; throws when the credentials are incomplete. */
export function kafkaConnection(settings: KafkaConnectionSettings): Pick<KafkaConfig, 'brokers' | 'sasl'> {
  const brokers = settings.KAFKA_BROKERS.split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker.length > 0);
  const mechanism = settings.KAFKA_SASL_MECHANISM?.trim().toLowerCase();
  if (!mechanism) return { brokers };
  if (mechanism !== 'scram-sha-512') throw new Error(`KAFKA_SASL_MECHANISM ${settings.KAFKA_SASL_MECHANISM} is not supported (use scram-sha-512)`);
  const username = settings.KAFKA_SASL_USERNAME;
  const password = settings.KAFKA_SASL_PASSWORD;
  if (!username || !password) throw new Error('KAFKA_SASL_MECHANISM is set: KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required too');
  return { brokers, sasl: { mechanism, username, password } };
}

/** Whether an error is the broker refusing the client's credentials (not an unreachable broker). */
export function isKafkaAuthenticationError(error: unknown): boolean {
  for (let cause: unknown = error; cause instanceof Error; cause = (cause as { cause?: unknown }).cause) {
    if (cause.name === 'KafkaJSSASLAuthenticationError' || /SASL .*authentication failed|Authentication failed during authentication/i.test(cause.message)) return true;
  }
  return false;
}
