// A fast local push provider for bench/unifiedpush/run.sh (phase A): answers the UnifiedPush
// discovery GET with {"unifiedpush":{"version":1}}, every POST with 201 (Web Push) or 202
// (SERV 1.0.1), and counts bodies. A SERV body is the stream event JSON that uppub stamped with
// CLOCK_MONOTONIC ns (payload.t); process.hrtime is the same clock on Linux, so the time from
// publish to push is read here. Control (same port): GET /progress (pushes / registrations),
// POST /reset (a new measuring window), GET /stats (the window's counts and latency).
// usage: node provider.mjs --port P --registrations N
import http from 'node:http';

const arg = (name, dflt) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : dflt;
};
const port = Number(arg('port', 0));
const regs = Number(arg('registrations', 1));

let total = 0;
let win = { posts: 0, bytes: 0, lat: [], since: process.hrtime.bigint() };

function percentile(sorted, q) {
    if (sorted.length === 0) return null;
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const server = http.createServer((req, res) => {
    if (req.url === '/progress') return res.end(String(Math.floor(total / regs)));
    if (req.url === '/reset' && req.method === 'POST') {
        win = { posts: 0, bytes: 0, lat: [], since: process.hrtime.bigint() };
        return res.end('{}');
    }
    if (req.url === '/stats') {
        const secs = Number(process.hrtime.bigint() - win.since) / 1e9;
        const lat = Float64Array.from(win.lat).sort();
        return res.end(JSON.stringify({
            posts: win.posts, bytes: win.bytes, elapsed_s: secs, posts_per_s: win.posts / secs, total,
            latency_ms: { n: lat.length, p50: percentile(lat, 0.5), p99: percentile(lat, 0.99) },
        }));
    }
    if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"unifiedpush":{"version":1}}');
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
        const now = process.hrtime.bigint();
        const body = Buffer.concat(chunks);
        total++;
        win.posts++;
        win.bytes += body.length;
        // Sample one latency in 8: parsing every body would make this server the bottleneck.
        if (body[0] === 0x7b && (total & 7) === 0) {
            const m = /"t":(\d+)/.exec(body.toString('latin1'));
            if (m) win.lat.push(Number(now - BigInt(m[1])) / 1e6);
        }
        res.writeHead(req.headers['content-encoding'] === 'aes128gcm' ? 201 : 202, { 'content-length': 0 });
        res.end();
    });
});
server.keepAliveTimeout = 60000;
server.listen(port, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
