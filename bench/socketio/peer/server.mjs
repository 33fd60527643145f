// The peer of bench/socketio: the Node socket.io server doing the bridge's job the way a Node
// shop would write it. mqtt.js subscribes to the stream's topics on the broker with the plugin
// (QoS 1, the bridge's service token), and every stream event is emitted to every socket of the
// namespace /<tenant>. Settings are socket.io's defaults; sockets need auth.stream, as with the
// bridge, and nothing else is checked.
//
// usage: node server.mjs   (environment below; prints "ready" once it listens and is subscribed)
//   PORT        loopback port to listen on
//   MQTT_PORT   the broker's port
//   TOKEN_FILE  the MQTT password (the bridge's service token)
//   TOPIC       subscription filter (bench/s/#)
//   NSP         namespace (/bench), EVENT (app:tick)
// SIGUSR2 runs a full garbage collection when node runs with --expose-gc, so that the benchmark
// reads the memory that live objects hold. SIGTERM and SIGINT stop it.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import mqtt from 'mqtt';
import { Server } from 'socket.io';

const env = (name, dflt) => {
    const v = process.env[name] ?? dflt;
    if (v === undefined) {
        console.error(`peer: ${name} is not set`);
        process.exit(2);
    }
    return v;
};
const port = Number(env('PORT'));
const mqttPort = Number(env('MQTT_PORT'));
const token = readFileSync(env('TOKEN_FILE'), 'utf8').trim();
const topic = env('TOPIC', 'bench/s/#');
const nspName = env('NSP', '/bench');
const eventName = env('EVENT', 'app:tick');

const http = createServer();
const io = new Server(http, { serveClient: false });
const nsp = io.of(nspName);
nsp.use((socket, next) => {
    if (typeof socket.handshake.auth?.stream === 'string' || socket.handshake.query.stream)
        next();
    else
        next(new Error('stream_required'));
});

let listening = false;
let subscribed = false;
const maybeReady = () => {
    if (listening && subscribed)
        console.log('ready');
};

const client = mqtt.connect({
    host: '127.0.0.1',
    port: mqttPort,
    protocolVersion: 5,
    clientId: `bench-sio-peer-${process.pid}`,
    username: 'bench-sio-peer',
    password: token,
    clean: true,
    reconnectPeriod: 0,
});
client.on('connect', () => {
    client.subscribe(topic, { qos: 1 }, (err, granted) => {
        if (err || !granted?.length || granted[0].qos > 2) {
            console.error(`peer: subscription to ${topic} refused`, err ?? granted);
            process.exit(1);
        }
        subscribed = true;
        maybeReady();
    });
});
client.on('error', (err) => {
    console.error(`peer: mqtt: ${err.message}`);
    process.exit(1);
});
client.on('close', () => {
    if (!stopping) {
        console.error('peer: the broker closed the connection');
        process.exit(1);
    }
});
client.on('message', (_topic, payload) => {
    nsp.emit(eventName, JSON.parse(payload));
});

http.listen(port, '127.0.0.1', () => {
    listening = true;
    maybeReady();
});

let stopping = false;
const stop = () => {
    stopping = true;
    client.end(true);
    io.close();
    process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('SIGUSR2', () => {
    if (typeof globalThis.gc === 'function')
        globalThis.gc();
});
