// A wire-level Server-Sent Events reader (node:http), for checks the EventSource API hides:
// status and headers of refusals, comments, retry:, the exact frames. The WHATWG parsing rules
// (HTML 9.2.6) that matter here: lines end in LF, a blank line dispatches, ":" starts a comment.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export class SseReader {
    /** Open url (http://127.0.0.1:port/...) with headers; resolves once headers arrived. */
    static open(url, { headers = {}, method = 'GET', body } = {}) {
        return new Promise((resolve, reject) => {
            const r = new SseReader();
            const len = body === undefined ? {} : { 'content-length': Buffer.byteLength(body) };
            const req = http.request(url, { method, headers: { accept: 'text/event-stream', ...len, ...headers } }, (res) => {
                r.res = res;
                r.status = res.statusCode;
                r.headers = res.headers;
                res.setEncoding('utf8');
                res.on('data', (d) => r.feed(d));
                res.on('end', () => (r.ended = true));
                res.on('close', () => (r.ended = true));
                res.on('error', () => (r.ended = true));
                resolve(r);
            });
            req.on('error', reject);
            r.req = req;
            if (body !== undefined) req.write(body);
            req.end();
        });
    }

    constructor() {
        this.buf = '';
        this.raw = '';
        this.frames = []; // {event, id, data, retry}
        this.comments = [];
        this.ended = false;
        this.cur = {};
    }

    feed(text) {
        this.raw += text;
        this.buf += text;
        let nl;
        while ((nl = this.buf.indexOf('\n')) >= 0) {
            const line = this.buf.slice(0, nl);
            this.buf = this.buf.slice(nl + 1);
            if (line === '') {
                if (Object.keys(this.cur).length) this.frames.push(this.cur);
                this.cur = {};
            } else if (line.startsWith(':')) {
                this.comments.push(line);
            } else {
                const i = line.indexOf(':');
                const field = i < 0 ? line : line.slice(0, i);
                let value = i < 0 ? '' : line.slice(i + 1);
                if (value.startsWith(' ')) value = value.slice(1);
                if (field === 'data') this.cur.data = this.cur.data === undefined ? value : `${this.cur.data}\n${value}`;
                else this.cur[field] = value;
            }
        }
    }

    /** Default (unnamed) events with data, parsed as JSON. */
    events() {
        return this.frames.filter((f) => f.event === undefined && f.data !== undefined).map((f) => JSON.parse(f.data));
    }

    named(name) {
        return this.frames.filter((f) => f.event === name);
    }

    async waitFor(pred, { timeoutMs = 10000, what = 'condition' } = {}) {
        const deadline = Date.now() + timeoutMs;
        while (!pred(this)) {
            if (Date.now() > deadline)
                throw new Error(`SSE: no ${what} within ${timeoutMs} ms; got:\n${this.raw.slice(-2000)}`);
            await sleep(10);
        }
    }

    waitEvents(n, opts = {}) {
        return this.waitFor((r) => r.events().length >= n, { what: `${n} events`, ...opts });
    }

    waitNamed(name, opts = {}) {
        return this.waitFor((r) => r.named(name).length > 0, { what: `event ${name}`, ...opts });
    }

    waitEnd(opts = {}) {
        return this.waitFor((r) => r.ended, { what: 'end of stream', ...opts });
    }

    close() {
        this.req.destroy();
    }
}
