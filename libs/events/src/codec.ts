import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { PoisonMessageError, errorMessage } from '@eventflow/platform';
import type { EventPayloads, EventType } from './catalog.js';
import { avroSchemaOf, eventTypes, fullNameOf, subjectOf } from './catalog.js';

export type DecodedEvent = { [T in EventType]: { type: T; payload: EventPayloads[T] } }[EventType];

const typeByFullName = new Map<string, EventType>(eventTypes.map((t) => [fullNameOf(t), t]));

/**
 * Avro encoding and decoding of the catalogue's events through a Confluent-compatible schema
 * registry (Confluent wire format: magic byte, 4-byte schema id, Avro body).
 */
export class EventCodec {
  private readonly ids = new Map<EventType, number>();

  readonly registry: SchemaRegistry;

  constructor(private readonly url: string) {
    this.registry = new SchemaRegistry({ host: url, retry: { retries: 3 } });
  }

  /**
   * Registers the current version of every event schema under BACKWARD compatibility, so a
   * consumer on the new schema can always read what older producers wrote. Idempotent.
   */
  async registerAll(types: readonly EventType[] = eventTypes): Promise<Record<string, number>> {
    const result: Record<string, number> = {};
    for (const type of types) {
      result[subjectOf(type)] = await this.register(type);
    }
    return result;
  }

  async register(type: EventType): Promise<number> {
    const cached = this.ids.get(type);
    if (cached !== undefined) return cached;
    const subject = encodeURIComponent(subjectOf(type));
    // Registered over the REST API rather than the library's register(): the library insists on
    // comparing the subject's compatibility before it exists, which registries answer differently.
    const { id } = await this.request<{ id: number }>('POST', `/subjects/${subject}/versions`, {
      schema: JSON.stringify(avroSchemaOf(type)),
    });
    await this.request('PUT', `/config/${subject}`, { compatibility: 'BACKWARD' });
    this.ids.set(type, id);
    return id;
  }

  private async request<T = unknown>(method: string, path: string, body: unknown): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`schema registry ${method} ${path} answered ${response.status}: ${text}`);
    return JSON.parse(text) as T;
  }

  async encode<T extends EventType>(type: T, payload: EventPayloads[T]): Promise<Buffer> {
    const id = await this.register(type);
    return this.registry.encode(id, payload);
  }

  /**
   * Decodes with the writer's schema from the registry, resolved into this build's reader
   * schema. Anything that cannot be read as a known event is a poison message.
   */
  async decode(buffer: Buffer | null): Promise<DecodedEvent> {
    if (!buffer || buffer.length < 5 || buffer.readUInt8(0) !== 0) {
      throw new PoisonMessageError('not a Confluent-framed Avro message');
    }
    const schemaId = buffer.readInt32BE(1);
    let writerName: string | undefined;
    try {
      const writer = (await this.registry.getSchema(schemaId)) as { name?: string };
      writerName = writer.name;
    } catch (error) {
      if (isRegistryNotFound(error)) throw new PoisonMessageError(`unknown schema id ${schemaId}`, { cause: error });
      throw error; // registry unreachable: transient, retried by the consumer
    }
    const type = writerName ? typeByFullName.get(writerName) : undefined;
    if (!type) throw new PoisonMessageError(`schema id ${schemaId} (${writerName ?? 'unnamed'}) is not a known event`);
    try {
      const payload = await this.registry.decode(buffer, {
        [SchemaType.AVRO]: { readerSchema: JSON.stringify(avroSchemaOf(type)) as never },
      });
      return { type, payload } as DecodedEvent;
    } catch (error) {
      throw new PoisonMessageError(`cannot decode ${type} (schema id ${schemaId}): ${errorMessage(error)}`, { cause: error });
    }
  }
}

function isRegistryNotFound(error: unknown): boolean {
  const status = (error as { status?: number } | undefined)?.status;
  return status === 404 || /not found/i.test(errorMessage(error));
}
