import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AlexStorage } from '@alex/storage'
import { metrics } from '@opentelemetry/api'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { MeterProvider } from '@opentelemetry/sdk-metrics'

/** A store whose metrics are served to Prometheus, and how to stop both. */
export interface MetricsApp {
  /** The store, opened with `metrics: true`. */
  db: AlexStorage
  /** Where Prometheus scrapes: `http://127.0.0.1:<port>/metrics`. */
  url: string
  /** Closes the store, then the HTTP server and the meter provider. */
  close(): Promise<void>
}

/**
 * The OpenTelemetry side of an application, as it would be set up anyway: a meter provider whose
 * one reader is the Prometheus exporter, registered as the global provider, then the store opened
 * with `metrics: true` (it takes its meter from the global provider at open, so the provider is
 * set up first). The exporter does not start its own server here: `/metrics` is served by a
 * plain `node:http` server on 127.0.0.1 and an ephemeral port (the exporter's request handler),
 * so several instances never collide on a port.
 */
export async function startMetricsApp(dir: string): Promise<MetricsApp> {
  const exporter = new PrometheusExporter({ preventServerStart: true })
  const provider = new MeterProvider({ readers: [exporter] })
  if (!metrics.setGlobalMeterProvider(provider)) {
    throw new Error('a global meter provider is already registered in this process')
  }
  const server = createServer((request, response) => {
    if (request.url === '/metrics') {
      exporter.getMetricsRequestHandler(request, response)
      return
    }
    response.statusCode = 404
    response.end('not found: scrape /metrics\n')
  })
  await listen(server)
  const { port } = server.address() as AddressInfo
  const db = await AlexStorage.open(dir, { metrics: true })
  return {
    db,
    url: `http://127.0.0.1:${port}/metrics`,
    async close() {
      await db.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await provider.shutdown()
      metrics.disable()
    },
  }
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
}
