// A WebSocket client at the byte level (node:net), for what a conforming client library will not
// send: frames dribbled a byte at a time, oversized or invalid frames, extension offers, and a
// reader that stops reading. RFC 6455: the opening handshake (4.1), client frames masked (5.3),
// close frames carrying a 2-byte code (5.5.1).
import crypto from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A client frame: FIN set unless fin is false, masked as RFC 6455 5.3 requires. */
export function frame(opcode, payload, { fin = true, mask = true } = {}) {
    const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload ?? '');
    const len = data.length;
    let head;
    if (len < 126) {
        head = Buffer.from([(fin ? 0x80 : 0) | opcode, (mask ? 0x80 : 0) | len]);
    } else if (len < 65536) {
        head = Buffer.alloc(4);
        head[0] = (fin ? 0x80 : 0) | opcode;
        head[1] = (mask ? 0x80 : 0) | 126;
        head.writeUInt16BE(len, 2);
    } else {
        head = Buffer.alloc(10);
        head[0] = (fin ? 0x80 : 0) | opcode;
        head[1] = (mask ? 0x80 : 0) | 127;
        head.writeBigUInt64BE(BigInt(len), 2);
    }
    if (!mask) return Buffer.concat([head, data]);
    const key = crypto.randomBytes(4);
    const body = Buffer.alloc(len);
    for (let i = 0; i < len; i++) body[i] = data[i] ^ key[i & 3];
    return Buffer.concat([head, key, body]);
}

export const OP = Object.freeze({ CONT: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 });

export class RawWs {
    /**
     * Open path on 127.0.0.1:port with the upgrade request (extra header lines in headers);
     * resolves once the response head is in: status, headers (lower-case names).
     */
    static open(port, path, { headers = {}, timeoutMs = 10000, pauseAfterOpen = false } = {}) {
        return new Promise((resolve, reject) => {
            const c = new RawWs();
            const sock = net.connect(port, '127.0.0.1');
            c.sock = sock;
            const timer = setTimeout(() => {
                sock.destroy();
                reject(new Error(`no upgrade answer for ${path} within ${timeoutMs} ms`));
            }, timeoutMs);
            const key = crypto.randomBytes(16).toString('base64');
            const lines = [
                `GET ${path} HTTP/1.1`,
                `Host: 127.0.0.1:${port}`,
                'Upgrade: websocket',
                'Connection: Upgrade',
                `Sec-WebSocket-Key: ${key}`,
                'Sec-WebSocket-Version: 13',
                ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
            ];
            sock.on('error', (e) => (c.error = e));
            sock.on('close', () => {
                c.closedAt ??= Date.now();
                clearTimeout(timer);
                if (!c.status) reject(new Error(`connection closed before the upgrade answer: ${c.buf.toString('latin1')}`));
            });
            sock.on('data', (d) => {
                c.buf = Buffer.concat([c.buf, d]);
                if (!c.status) {
                    const end = c.buf.indexOf('\r\n\r\n');
                    if (end < 0) return;
                    const head = c.buf.subarray(0, end).toString('latin1').split('\r\n');
                    c.buf = c.buf.subarray(end + 4);
                    c.status = Number(head[0].split(' ')[1]);
                    for (const l of head.slice(1)) {
                        const i = l.indexOf(':');
                        c.headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
                    }
                    clearTimeout(timer);
                    if (pauseAfterOpen) sock.pause();
                    resolve(c);
                }
                c.parse();
            });
            sock.write(`${lines.join('\r\n')}\r\n\r\n`);
        });
    }

    constructor() {
        this.buf = Buffer.alloc(0);
        this.status = 0;
        this.headers = {};
        this.messages = []; // {opcode, data: Buffer}
        this.close = null; // {code, reason}
        this.closedAt = null;
    }

    parse() {
        for (;;) {
            if (this.buf.length < 2) return;
            const b0 = this.buf[0];
            const b1 = this.buf[1];
            let len = b1 & 0x7f;
            let off = 2;
            if (len === 126) {
                if (this.buf.length < 4) return;
                len = this.buf.readUInt16BE(2);
                off = 4;
            } else if (len === 127) {
                if (this.buf.length < 10) return;
                len = Number(this.buf.readBigUInt64BE(2));
                off = 10;
            }
            if (b1 & 0x80) off += 4; // servers do not mask, but be lenient
            if (this.buf.length < off + len) return;
            const data = this.buf.subarray(off, off + len);
            this.buf = this.buf.subarray(off + len);
            const opcode = b0 & 0x0f;
            if (opcode === OP.CLOSE) {
                this.close = {
                    code: data.length >= 2 ? data.readUInt16BE(0) : 1005,
                    reason: data.subarray(2).toString('utf8'),
                    at: Date.now(),
                };
                // RFC 6455 5.5.1: answer with a close frame, so the server need not wait for one
                if (!this.sock.destroyed) this.sock.end(frame(OP.CLOSE, data.subarray(0, 2)));
            } else {
                this.messages.push({ opcode, data: Buffer.from(data) });
            }
        }
    }

    get ended() {
        return this.closedAt !== null;
    }

    texts() {
        return this.messages.filter((m) => m.opcode === OP.TEXT).map((m) => m.data.toString('utf8'));
    }

    write(bytes) {
        return new Promise((resolve) => {
            if (this.sock.destroyed) {
                resolve(false);
                return;
            }
            this.sock.write(bytes, (e) => resolve(!e));
        });
    }

    send(opcode, payload, opts) {
        return this.write(frame(opcode, payload, opts));
    }

    /** Resolve once the server's close frame or the end of the connection came. */
    async waitClosed(timeoutMs = 10000) {
        const deadline = Date.now() + timeoutMs;
        while (!this.close && !this.ended) {
            if (Date.now() > deadline) throw new Error(`still open after ${timeoutMs} ms`);
            await sleep(10);
        }
        // the close frame, when there is one, comes before the end of the connection
        const until = Date.now() + 1000;
        while (!this.ended && Date.now() < until) await sleep(10);
        return this.close;
    }

    async waitText(pred, { timeoutMs = 10000, what = 'message' } = {}) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const m = this.texts().find(pred);
            if (m !== undefined) return m;
            if (this.ended) throw new Error(`closed (${JSON.stringify(this.close)}) waiting for ${what}`);
            if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms: ${JSON.stringify(this.texts().slice(-5))}`);
            await sleep(10);
        }
    }

    destroy() {
        this.sock.destroy();
    }
}
