#!/usr/bin/env node
// Computes F(n) through fib-service's SockJS event-bus bridge with the official Vert.x client
// (@vertx/eventbus-bridge-client.js) and prints the reply.
//
//   npm ci                                   # once, in this directory
//   node fib_client.js 30                    # 832040
//   node fib_client.js --json 30 iterative   # the whole reply
//   node fib_client.js --url http://127.0.0.1:8080/eventbus --stats   # one fib.stats push
//
// A failure reaches the send's callback as an error with failureCode (400 bad input, 503 busy, 504 deadline,
// 499 cancelled, 403 refused); the client prints it and exits with 1.
'use strict';

const EventBus = require('@vertx/eventbus-bridge-client.js');

function usage(text) {
  if (text) console.error(text);
  console.error('usage: node fib_client.js [--url URL] [--json] n [algorithm]\n'
    + '       node fib_client.js [--url URL] --stats');
  process.exit(2);
}

const args = process.argv.slice(2);
let url = 'http://127.0.0.1:8080/eventbus';
let json = false;
let stats = false;
const rest = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--url') url = args[++i] || usage('--url needs a value');
  else if (args[i] === '--json') json = true;
  else if (args[i] === '--stats') stats = true;
  else if (args[i] === '--help' || args[i] === '-h') usage();
  else if (args[i] === '--') rest.push(...args.slice(i + 1)), i = args.length;
  else rest.push(args[i]);
}
if (!stats && (rest.length < 1 || rest.length > 2)) usage();

const eb = new EventBus(url);
// errors that answer no request of ours (a refused register, a malformed frame) come here
eb.onerror = (err) => {
  console.error('error: ' + (err.message || err.body || JSON.stringify(err)));
  process.exitCode = 1;
};
eb.onclose = (e) => {
  if (!eb.done) {
    console.error('error: the event bus at ' + url + ' closed: ' + (e && e.reason ? e.code + ' ' + e.reason : 'no connection'));
    process.exit(1);
  }
};

eb.onopen = () => {
  if (stats) {
    eb.registerHandler('fib.stats', (err, msg) => {
      if (err) {
        console.error('error ' + err.failureCode + ': ' + err.message);
        finish(1);
        return;
      }
      console.log(JSON.stringify(msg.body));
      finish(0);
    });
    return;
  }
  // n goes as a JSON integer when it looks like one; anything else is sent as is, for the service to judge
  const n = /^-?\d+$/.test(rest[0]) ? Number(rest[0]) : rest[0];
  const body = rest[1] ? { n, algorithm: rest[1] } : { n };
  eb.send('fib.compute', body, { 'x-request-id': 'node-' + process.pid }, (err, msg) => {
    if (err) {
      console.error('error ' + err.failureCode + ': ' + err.message);
      finish(1);
      return;
    }
    console.log(json ? JSON.stringify(msg.body) : msg.body.value);
    finish(0);
  });
};

function finish(code) {
  eb.done = true;
  process.exitCode = process.exitCode || code;
  eb.close();
}
