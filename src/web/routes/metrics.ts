import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../scheduler/metrics.js';

/** GET /metrics: this process's Prometheus metrics, for `serve` (the static site has none). */
export function registerMetricsRoute(app: FastifyInstance, metrics: Metrics): void {
  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
