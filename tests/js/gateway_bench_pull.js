// PouchDB (npm `pouchdb` 9.0.0) pulling a whole database into memory, for bench/gateway.py.
//   node gateway_bench_pull.js URL [BEARER_TOKEN] [BATCH]   -> one JSON line {docs_written, ms}
'use strict';

const PouchDB = require('pouchdb').plugin(require('pouchdb-adapter-memory'));

async function main() {
  const [url, token, batch] = process.argv.slice(2);
  const options = { skip_setup: true };
  if (token) {
    options.fetch = (target, opts) => {
      opts.headers.set('Authorization', `Bearer ${token}`);
      return PouchDB.fetch(target, opts);
    };
  }
  const remote = new PouchDB(url, options);
  const local = new PouchDB(`pull-${Date.now()}`, { adapter: 'memory' });
  const started = Date.now();
  const result = await PouchDB.replicate(remote, local, { batch_size: Number(batch || 100) });
  console.log(JSON.stringify({
    docs_read: result.docs_read, docs_written: result.docs_written,
    doc_write_failures: result.doc_write_failures, ms: Date.now() - started,
  }));
}

main().catch((err) => { console.error(err && err.stack ? err.stack : String(err)); process.exit(1); });
