// The SockJS bridge's checklist, run by NodeClientTest with the official client from examples/node's
// node_modules: prints one JSON line per check, {"check":..., ...what was seen}, then "done".
'use strict';

const EventBus = require('@vertx/eventbus-bridge-client.js');

const url = process.argv[2];
const eb = new EventBus(url);
const unaddressed = [];
eb.onerror = (err) => unaddressed.push(err);
const say = (check, seen) => console.log(JSON.stringify(Object.assign({ check }, seen)));
const call = (address, body, headers) => new Promise((resolve) => {
  eb.send(address, body, headers || {}, (err, msg) => resolve(err ? { err } : { body: msg.body }));
});
const stop = setTimeout(() => { say('timeout', {}); process.exit(3); }, 60000);

eb.onopen = async () => {
  say('compute', await call('fib.compute', { n: 30 }));
  say('negative', await call('fib.compute', { n: -1 }));
  say('internal', await call('fib.worker.heavy', { n: 5 }));
  say('jobsStatus', await call('jobs.status', { id: 'no-such-job' }));
  const started = Date.now();
  const push = await new Promise((resolve) => {
    const handler = (err, msg) => {
      eb.unregisterHandler('fib.stats', handler);
      resolve(err ? { err } : { body: msg.body });
    };
    eb.registerHandler('fib.stats', handler);
  });
  say('stats', Object.assign({ afterMs: Date.now() - started }, push));
  say('unaddressed', { errors: unaddressed });
  clearTimeout(stop);
  eb.close();
  console.log('done');
};
eb.onclose = () => {};
