// The real Mosquitto command-line clients, as third-party MQTT 5 clients.
import { spawn } from 'node:child_process';
import { MOSQUITTO_PUB, MOSQUITTO_SUB } from './env.mjs';
import { run } from './proc.mjs';

function common(port, { id, username, password }) {
    const args = ['-V', '5', '-h', '127.0.0.1', '-p', String(port)];
    if (id) args.push('-i', id);
    if (username !== undefined) args.push('-u', username);
    if (password !== undefined) args.push('-P', password);
    return args;
}

/** mosquitto_pub one message; resolves {code, stdout, stderr}. */
export function mosquittoPub(port, { topic, message, qos = 1, ...auth }) {
    return run(MOSQUITTO_PUB, [...common(port, auth), '-t', topic, '-m', message, '-q', String(qos)], {
        timeoutMs: 20000,
    });
}

/**
 * Start mosquitto_sub; it exits after count messages or waitSec seconds without one.
 * Returns {done: Promise<{code, stdout, stderr}>}. Callers learn that the subscription is in
 * place from the broker log (Broker.waitForLog on "Sending SUBACK to <id>").
 */
export function mosquittoSub(port, { topic, count = 1, waitSec = 10, qos = 1, verbose = true, ...auth }) {
    const args = [...common(port, auth), '-t', topic, '-q', String(qos), '-C', String(count), '-W', String(waitSec)];
    if (verbose) args.push('-v');
    const out = [];
    const err = [];
    const child = spawn(MOSQUITTO_SUB, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const done = new Promise((resolve, reject) => {
        child.on('error', reject);
        child.on('close', (code, signal) =>
            resolve({
                code,
                signal,
                stdout: Buffer.concat(out).toString('utf8'),
                stderr: Buffer.concat(err).toString('utf8'),
            }),
        );
    });
    return { child, done };
}
