// PouchDB (npm `pouchdb` 9.0.0, pinned) as the other replicator, driven by the Python tests
// and bench/replicate.py. Prints one JSON line with what it did.
//
//   node pouch_replicate.js replicate SOURCE TARGET [BATCH] [sync]
//       one-shot replication (or two-way sync) between two CouchDB-API URLs
//   node pouch_replicate.js bench SOURCE PUSH_TARGET BATCH
//       pull SOURCE into a memory database, then push it to PUSH_TARGET; times each
'use strict';

const PouchDB = require('pouchdb').plugin(require('pouchdb-adapter-memory'));

function summary(result) {
  return {
    docs_read: result.docs_read,
    docs_written: result.docs_written,
    doc_write_failures: result.doc_write_failures,
    ok: result.ok,
  };
}

async function replicate(source, target, batch, twoWay) {
  const opts = { batch_size: batch, batches_limit: 1 };
  const started = Date.now();
  if (twoWay) {
    const result = await PouchDB.sync(source, target, opts);
    return { push: summary(result.push), pull: summary(result.pull), ms: Date.now() - started };
  }
  const result = await PouchDB.replicate(source, target, opts);
  return { ...summary(result), ms: Date.now() - started };
}

async function bench(source, pushTarget, batch) {
  const local = new PouchDB('bench-' + Date.now(), { adapter: 'memory' });
  const opts = { batch_size: batch, batches_limit: 1 };
  let started = Date.now();
  const pull = await PouchDB.replicate(source, local, opts);
  const pullMs = Date.now() - started;
  started = Date.now();
  const push = await PouchDB.replicate(local, pushTarget, opts);
  const pushMs = Date.now() - started;
  return { pull: { ...summary(pull), ms: pullMs }, push: { ...summary(push), ms: pushMs } };
}

async function main() {
  const [mode, a, b, batchText, flag] = process.argv.slice(2);
  const batch = parseInt(batchText || '500', 10);
  let out;
  if (mode === 'replicate') {
    out = await replicate(a, b, batch, flag === 'sync');
  } else if (mode === 'bench') {
    out = await bench(a, b, batch);
  } else {
    throw new Error('usage: pouch_replicate.js replicate|bench SOURCE TARGET [BATCH] [sync]');
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack || err) + '\n');
  process.exit(1);
});
