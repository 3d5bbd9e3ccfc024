import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Bodies up to this size that exceed the limit are read to their end and dropped after the 413
 * instead of closing the connection under the client. Beyond it (or of unknown length) the
 * connection is closed, as Fastify does by default: nobody is made to receive gigabytes.
 */
export const maxDrainedBodyBytes = 16 * 1024 * 1024;

/**
 * A 413 that reaches the client. Fastify answers a too-large body without reading it and closes
 * the connection; the unread bytes then make the kernel reset it, and a client or proxy still
 * sending the body sees EPIPE/ECONNRESET instead of the 413 (the local gateway turned it into a
 * 500, nginx into a 502). Like nginx's lingering close, the rest of a body of declared, bounded
 * length is read and discarded after the answer (Node does that on a kept-alive connection), so
 * the sender gets the 413 and the connection stays usable.
 */
export function keepConnectionToDrain(request: FastifyRequest, reply: FastifyReply): void {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > 0 && declared <= maxDrainedBodyBytes) reply.removeHeader('connection');
}
