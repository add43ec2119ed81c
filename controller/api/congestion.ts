// GET /api/v1/congestion: every link direction's smoothed rate, utilization, drops and level.
import type { FastifyInstance } from 'fastify';
import type { Monitor } from '../monitor/monitor.ts';
import { CAPACITY_SOURCES } from '../../bus/hints.ts';

const endpoint = {
  type: 'object',
  properties: { dpid: { type: 'string', pattern: '^[0-9a-f]{16}$' }, port: { type: 'integer', minimum: 0 } },
  required: ['dpid', 'port'],
} as const;

export const linkLoadSchema = {
  type: 'object',
  properties: {
    linkId: { type: 'string' },
    src: endpoint,
    dst: endpoint,
    capacityBps: { type: 'number', minimum: 0, description: 'bit/s; 0: unknown' },
    capacitySource: { type: 'string', enum: [...CAPACITY_SOURCES], description: 'where the capacity came from' },
    rateBps: { type: 'number', minimum: 0, description: 'smoothed (EWMA) bits per second out of src' },
    utilization: { type: 'number', minimum: 0, description: 'rateBps / capacityBps; 0 when the capacity is unknown (rateBps is then the measured rate)' },
    sampleUtilization: { type: 'number', minimum: 0, description: 'the latest sample before smoothing' },
    drops: { type: 'number', minimum: 0, description: 'packets dropped per second, both ends' },
    level: { type: 'string', enum: ['ok', 'warning', 'congested', 'down'], description: 'the worse of the utilization level and the queueing-delay level' },
    delayMs: { type: 'number', minimum: 0, description: 'one-way delay (ms) from the delay probes, once one came back' },
    baseDelayMs: { type: 'number', minimum: 0, description: 'the least one-way delay over the baseline window (ms)' },
    queueDelayMs: { type: 'number', minimum: 0, description: 'queueing delay above the baseline (ms)' },
  },
  required: ['linkId', 'src', 'dst', 'capacityBps', 'capacitySource', 'rateBps', 'utilization', 'sampleUtilization', 'drops', 'level'],
} as const;

export function congestionRoutes(app: FastifyInstance, monitor: Monitor): void {
  app.get(
    '/api/v1/congestion',
    {
      schema: {
        summary: 'Load and congestion level of every link direction, from the latest port statistics',
        tags: ['monitor'],
        response: { 200: { type: 'array', items: linkLoadSchema } },
      },
    },
    async () => monitor.loads(),
  );
}
