import type { Env } from '../env';
import { counters } from './counters';
import { meterEnv } from './metered-env';

/** Where the bench reads the counters; answered only by a metered Worker. */
export const METER_PATH = '/__meter';

function meteredBatch(batch: MessageBatch): MessageBatch {
  counters.queue.batches++;
  counters.queue.messagesDelivered += batch.messages.length;
  const messages = batch.messages.map(
    (m) =>
      ({
        get id() {
          return m.id;
        },
        get timestamp() {
          return m.timestamp;
        },
        get body() {
          return m.body;
        },
        get attempts() {
          return m.attempts;
        },
        ack() {
          counters.queue.acks++;
          m.ack();
        },
        retry(options?: QueueRetryOptions) {
          counters.queue.retries++;
          m.retry(options);
        },
      }) satisfies Message,
  );
  return {
    messages,
    queue: batch.queue,
    metadata: batch.metadata,
    ackAll() {
      counters.queue.acks += batch.messages.length;
      batch.ackAll();
    },
    retryAll(options?: QueueRetryOptions) {
      counters.queue.retries += batch.messages.length;
      batch.retryAll(options);
    },
  };
}

type Handler = Required<Pick<ExportedHandler<Env>, 'fetch' | 'queue' | 'scheduled'>>;

/** The Worker's handlers, each invocation counted and given the metered bindings. */
export function meteredHandler(handler: Handler): Handler {
  return {
    fetch(request, env, ctx) {
      if (new URL(request.url).pathname === METER_PATH) {
        return Response.json({ ...counters, at: Date.now() });
      }
      counters.worker.fetch++;
      return handler.fetch(request, meterEnv(env), ctx);
    },
    queue(batch, env, ctx) {
      counters.worker.queue++;
      return handler.queue(meteredBatch(batch), meterEnv(env), ctx);
    },
    scheduled(controller, env, ctx) {
      counters.worker.scheduled++;
      return handler.scheduled(controller, meterEnv(env), ctx);
    },
  };
}
