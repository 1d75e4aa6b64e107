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

// PouchDB's options for every run: the caller's batch size, and one batch read ahead of
// the one being copied (PouchDB's default reads up to 10). PouchDB's figures on the
// bench's two workloads are the same either way (2026-12-05, this script's bench mode,
// medians of 4 alternating runs, batches_limit 1 against the default, docs/s: 10,000 x
// 1 KB pull 5,144 / 5,086, push 4,911 / 5,020; 200 x 600 KB of attachments pull 147 /
// 153, push 96 / 92), so the bench's ratios do not depend on it.
function options(batch) {
  return { batch_size: batch, batches_limit: 1 };
}

async function replicate(source, target, batch, twoWay) {
  const opts = options(batch);
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
  const opts = options(batch);
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
