// Placeholder replaced by the demo wiring (lab + capture + decode).
export function runDemo(_opts: { requests: number }): Promise<void> {
  return Promise.reject(new Error('demo not built yet'));
}
