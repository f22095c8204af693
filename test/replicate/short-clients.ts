// Short HTTP connections from several local addresses, for the amplification test, run as a program
// on a lab host: node dist/test/replicate/short-clients.js URL COUNT ADDRESS... opens COUNT
// one-request connections from each ADDRESS (4 at a time per address; with SHORT_CLIENTS_INTERVAL_MS
// one at a time, that many ms apart), then prints {"ok":n,"failed":n} and exits 0 when every request
// got a 200.
import { get } from 'node:http';

const [url = '', countText = '0', ...addresses] = process.argv.slice(2);
const count = Number(countText);
const intervalMs = Number(process.env['SHORT_CLIENTS_INTERVAL_MS'] ?? 0);

function once(localAddress: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(url, { localAddress, agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
    req.setTimeout(10_000, () => req.destroy());
  });
}

async function from(address: string): Promise<{ ok: number; failed: number }> {
  let next = 0;
  const r = { ok: 0, failed: 0 };
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      if (await once(address)) r.ok++;
      else r.failed++;
      if (intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  };
  await Promise.all(intervalMs > 0 ? [worker()] : [worker(), worker(), worker(), worker()]);
  return r;
}

const all = await Promise.all(addresses.map(from));
const total = all.reduce((a, b) => ({ ok: a.ok + b.ok, failed: a.failed + b.failed }), { ok: 0, failed: 0 });
console.log(JSON.stringify(total));
process.exitCode = total.failed === 0 ? 0 : 1;
