// A destination on 127.0.0.1 that misbehaves on purpose, for the bridge's outgoing requests
// (Web Push services, UnifiedPush endpoints, SSF SET receivers). Its mode decides what each new
// connection gets:
//   ok        a well-formed HTTP answer (node:http): `status` to a POST, the UnifiedPush
//             discovery document to a GET; every request recorded with its body
//   blackhole the connection is accepted and the request read, then nothing, ever
//   reset     a TCP reset (RST) once the request starts to arrive
//   slow      a valid answer written one byte per second
//   garbage   bytes that are not HTTP at all, then the end of the connection
//   junk      an HTTP status line with a status no RFC defines, junk headers and a junk body
//   flood     a 2xx status line, then a body that never ends, written as fast as it is read
//   headers   a 2xx status line, then header lines that never end, as fast as they are read
// It counts connections: open now, the most open at once, all accepted. setMode() changes the
// behaviour and resets every open connection, as a restarted service would; recover() is
// setMode('ok').
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const DISCOVERY = '{"unifiedpush":{"version":1}}';

export class BadServer {
    constructor(mode, { status = 201 } = {}) {
        this.mode = mode;
        this.status = status;
        this.open = new Set();
        this.maxOpen = 0;
        this.accepted = 0;
        this.byMode = {}; // mode -> connections accepted in it
        this.requests = []; // ok mode: {method, path, headers, body, at}
        this.http = http.createServer((req, res) => {
            const chunks = [];
            req.on('data', (c) => chunks.push(c));
            req.on('end', () => {
                this.requests.push({ method: req.method, path: req.url, headers: req.headers, body: Buffer.concat(chunks), at: Date.now() });
                if (req.method === 'GET') {
                    res.writeHead(200, { 'content-type': 'application/json' });
                    res.end(DISCOVERY);
                } else {
                    res.writeHead(this.status);
                    res.end();
                }
            });
        });
        this.http.keepAliveTimeout = 2000;
        this.server = net.createServer((sock) => this.take(sock));
    }

    async start() {
        await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
        this.port = this.server.address().port;
        return this;
    }

    get origin() {
        return `http://127.0.0.1:${this.port}`;
    }

    url(path) {
        return `${this.origin}${path}`;
    }

    take(sock) {
        const mode = this.mode;
        this.accepted++;
        this.byMode[mode] = (this.byMode[mode] ?? 0) + 1;
        this.open.add(sock);
        this.maxOpen = Math.max(this.maxOpen, this.open.size);
        sock.on('close', () => this.open.delete(sock));
        sock.on('error', () => {});
        sock.mode = mode;
        if (mode === 'ok') {
            this.http.emit('connection', sock);
            return;
        }
        sock.once('data', () => this.misbehave(sock, mode));
        sock.on('data', () => {}); // read everything, answer per mode
    }

    async misbehave(sock, mode) {
        switch (mode) {
            case 'blackhole':
                return;
            case 'reset':
                sock.resetAndDestroy();
                return;
            case 'garbage':
                sock.end(Buffer.from('\x00\xff\xfeSSH-2.0-not-http \x1b[2J\r\n\r\n\x00\x00'));
                return;
            case 'junk':
                sock.end('HTTP/1.1 999 Whatever\r\nX-\x01junk: \x7f\r\nContent-Length: 12\r\n\r\n\x00\x01junk\xff body');
                return;
            case 'slow': {
                const answer = Buffer.from(`HTTP/1.1 ${this.status} Slow\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
                for (const byte of answer) {
                    if (sock.destroyed) return;
                    sock.write(Buffer.from([byte]));
                    await sleep(1000);
                }
                sock.end();
                return;
            }
            case 'flood':
            case 'headers': {
                const flood = mode === 'flood';
                sock.write(`HTTP/1.1 ${this.status} Flood\r\n${flood ? 'Content-Length: 100000000000\r\n\r\n' : ''}`);
                const chunk = flood ? Buffer.alloc(64 * 1024, 0x78) : Buffer.from('X-More: yes\r\n'.repeat(4096));
                const more = () => {
                    while (!sock.destroyed && sock.write(chunk)) {
                        /* until the socket's buffer is full */
                    }
                };
                sock.on('drain', more);
                more();
                return;
            }
            default:
                throw new Error(`unknown mode ${mode}`);
        }
    }

    /** Behave as mode from now on; the connections open now are reset. */
    setMode(mode) {
        this.mode = mode;
        this.maxOpen = 0;
        for (const s of this.open) s.resetAndDestroy();
    }

    recover() {
        this.setMode('ok');
    }

    posts(path) {
        return this.requests.filter((r) => r.method === 'POST' && (path === undefined || r.path === path));
    }

    async close() {
        for (const s of this.open) s.destroy();
        this.http.closeAllConnections?.();
        await new Promise((resolve) => this.server.close(() => resolve()));
    }
}
