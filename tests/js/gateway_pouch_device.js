// PouchDB (npm `pouchdb` 9.0.0, pinned) as an officer's device against Doorstep's sync
// gateway: logs in for a bearer token, pulls its visits (interrupted once, then resumed
// from its checkpoint), pushes dossiers with attachments. Prints one JSON line.
//
//   node gateway_pouch_device.js BASE_URL USERNAME PASSWORD DEVICE_ID DOSSIERS_JSON_FILE
'use strict';

const fs = require('fs');
const PouchDB = require('pouchdb').plugin(require('pouchdb-adapter-memory'));

async function login(base, username, password, deviceId) {
  const answer = await fetch(`${base}/api/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password, device_id: deviceId }),
  });
  if (answer.status !== 200) throw new Error(`login: ${answer.status} ${await answer.text()}`);
  return (await answer.json()).access_token;
}

function remoteDb(url, token) {
  return new PouchDB(url, {
    skip_setup: true,
    fetch: (target, opts) => {
      opts.headers.set('Authorization', `Bearer ${token}`);
      return PouchDB.fetch(target, opts);
    },
  });
}

function interruptedPull(remote, local) {
  return new Promise((resolve) => {
    const replication = PouchDB.replicate(remote, local, { batch_size: 2, batches_limit: 1 });
    let firstBatch = 0;
    replication.on('change', (info) => {
      firstBatch = info.docs_written;
      replication.cancel();
    });
    replication.on('complete', () => resolve(firstBatch));
    replication.on('error', () => resolve(firstBatch));
  });
}

async function main() {
  const [base, username, password, deviceId, dossiersFile] = process.argv.slice(2);
  const token = await login(base, username, password, deviceId);
  const remote = remoteDb(`${base}/sync/${username}`, token);
  const local = new PouchDB(`device-${Date.now()}`, { adapter: 'memory' });
  const firstBatch = await interruptedPull(remote, local);
  const resumed = await PouchDB.replicate(remote, local, { batch_size: 2 });
  const pulled = await local.allDocs();
  const dossiers = JSON.parse(fs.readFileSync(dossiersFile, 'utf8'));
  await local.bulkDocs(dossiers);
  const push = await PouchDB.replicate(local, remote, { batch_size: 10 });
  const foreign = await remote.get('visit:officer2-001').then(() => 'visible', (e) => e.status);
  console.log(JSON.stringify({
    first_batch: firstBatch,
    resumed_docs_read: resumed.docs_read,
    pulled_ids: pulled.rows.map((r) => r.id),
    push: { docs_read: push.docs_read, docs_written: push.docs_written,
            doc_write_failures: push.doc_write_failures, errors: push.errors.map(String) },
    foreign_visit: foreign,
  }));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
});
