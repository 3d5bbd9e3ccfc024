import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { PoisonMessageError, errorMessage } from '@eventflow/platform';
import type { EventPayloads, EventType } from './catalog.js';
import { avroSchemaOf, eventTypes, fullNameOf, subjectOf } from './catalog.js';

export type DecodedEvent = { [T in EventType]: { type: T; payload: EventPayloads[T] } }[EventType];

const typeByFullName = new Map<string, EventType>(eventTypes.map((t) => [fullNameOf(t), t]));

/** This build's reader types, compiled once: avsc generates a decoder function per type. */
const readerTypes = new Map<EventType, avro.Type>();
const readerTypeOf = (type: EventType): avro.Type => {
  let reader = readerTypes.get(type);
  if (!reader) {
    reader = avro.Type.forSchema(avroSchemaOf(type) as unknown as avro.Schema);
    readerTypes.set(type, reader);
  }
  return reader;
};

/** How to read the Avro body written with one writer schema id. */
interface Reader {
  type: EventType;
  read: (body: Buffer) => unknown;
}

/**
 * Avro encoding and decoding of the catalogue's events through a Confluent-compatible schema
 * registry (Confluent wire format: magic byte, 4-byte schema id, Avro body).
 */
export class EventCodec {
  private readonly ids = new Map<EventType, number>();
  /**
   * One reader per writer schema id: the reader type and its resolver from the writer's schema
   * are built on the first message of that id, not per message (the registry client would parse
   * the reader schema and compare the two schemas for every message).
   */
  private readonly readers = new Map<number, Reader>();

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

  /**
   * The id under which the registry knows this build's schema of an event, without registering
   * anything: services only read the registry (their URL is its read-only instance); provisioning
   * registers. A schema that is not registered yet is an error that names the fix.
   */
  async idOf(type: EventType): Promise<number> {
    const cached = this.ids.get(type);
    if (cached !== undefined) return cached;
    const subject = subjectOf(type);
    const response = await fetch(`${this.url}/subjects/${encodeURIComponent(subject)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json', accept: 'application/json' },
      body: JSON.stringify({ schema: JSON.stringify(avroSchemaOf(type)) }),
    });
    const text = await response.text();
    if (response.status === 404) throw new Error(`the schema of ${type} is not registered under ${subject}: run provisioning first (registry: ${text})`);
    if (!response.ok) throw new Error(`schema registry lookup of ${subject} answered ${response.status}: ${text}`);
    const { id } = JSON.parse(text) as { id: number };
    this.ids.set(type, id);
    return id;
  }

  /** Looks up every given event's schema id (a service's start-up check that provisioning ran). */
  async resolveAll(types: readonly EventType[]): Promise<Record<string, number>> {
    const result: Record<string, number> = {};
    for (const type of types) result[subjectOf(type)] = await this.idOf(type);
    return result;
  }

  async encode<T extends EventType>(type: T, payload: EventPayloads[T]): Promise<Buffer> {
    const id = await this.idOf(type);
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
    const reader = this.readers.get(schemaId) ?? (await this.readerFor(schemaId));
    try {
      return { type: reader.type, payload: reader.read(buffer.subarray(5)) } as DecodedEvent;
    } catch (error) {
      throw new PoisonMessageError(`cannot decode ${reader.type} (schema id ${schemaId}): ${errorMessage(error)}`, { cause: error });
    }
  }

  /** The writer's schema from the registry (cached by the client), resolved into this build's reader type. */
  private async readerFor(schemaId: number): Promise<Reader> {
    let writer: avro.Type;
    try {
      writer = (await this.registry.getSchema(schemaId)) as unknown as avro.Type;
    } catch (error) {
      if (isRegistryNotFound(error)) throw new PoisonMessageError(`unknown schema id ${schemaId}`, { cause: error });
      throw error; // registry unreachable: transient, retried by the consumer
    }
    const type = writer.name ? typeByFullName.get(writer.name) : undefined;
    if (!type) throw new PoisonMessageError(`schema id ${schemaId} (${writer.name ?? 'unnamed'}) is not a known event`);
    const readerType = readerTypeOf(type);
    let resolver: avro.Resolver | undefined;
    try {
      // Equal schemas read directly; otherwise avsc resolves the writer's fields into the reader's.
      resolver = readerType.equals(writer) ? undefined : readerType.createResolver(writer);
    } catch (error) {
      throw new PoisonMessageError(`cannot read ${type} written with schema id ${schemaId}: ${errorMessage(error)}`, { cause: error });
    }
    const reader: Reader = { type, read: (body) => readerType.fromBuffer(body, resolver) };
    this.readers.set(schemaId, reader);
    return reader;
  }
}

function isRegistryNotFound(error: unknown): boolean {
  const status = (error as { status?: number } | undefined)?.status;
  return status === 404 || /not found/i.test(errorMessage(error));
}
