#!/usr/bin/env node
// The revision-tree oracle: replays batches of merge sequences through npm `pouchdb-merge`
// and prints what it answers, so the Python differential test can compare sync.revtree.
//
// stdin:  {"cases": [{"id": any, "ops": [op, ...], "revs": ["N-hash", ...],
//                     "diff": [["N-hash", ...], ...]}]}
//         op = {"start": N, "ids": [newest hash, ..., oldest], "deleted": bool, "depth": D}
//              (a `_revisions` path; the newest revision is available, the others missing)
//            | {"compact": true}
// stdout: one JSON array, one answer per case, in input order:
//         {"id", "outcomes": [...], "stemmed": [[rev, ...], ...], "tree", "winner",
//          "leaves": [{"rev", "deleted", "status"}], "conflicts", "deleted_conflicts",
//          "exists": {rev: bool}, "latest": {rev: leaf rev}, "revs_diff": [{missing,
//          possible_ancestors}]} or {"id", "error"} if pouchdb-merge threw.
//
// The tree goes through JSON between operations, as it does in PouchDB's stores, so no
// object is shared between two steps.

'use strict';

const merge = require('pouchdb-merge');

function pathTree(op) {
  const ids = op.ids;
  let node = [ids[0], op.deleted ? {status: 'available', deleted: true} : {status: 'available'}, []];
  for (let i = 1; i < ids.length; i++) {
    node = [ids[i], {status: 'missing'}, [node]];
  }
  return {pos: op.start - ids.length + 1, ids: node};
}

function revsDiff(tree, revs) {
  // CouchDB's rule (couch_db:possible_ancestors) over pouchdb-merge's own primitives.
  const missing = [...new Set(revs.filter((rev) => !merge.revExists(tree, rev)))];
  if (!missing.length) {
    return {missing: [], possible_ancestors: []};
  }
  const highest = Math.max(...missing.map((rev) => parseInt(rev.split('-')[0], 10)));
  const ancestors = merge.collectLeaves(tree)
    .map((leaf) => leaf.rev)
    .filter((rev) => parseInt(rev.split('-')[0], 10) < highest);
  return {missing, possible_ancestors: [...new Set(ancestors)]};
}

function runCase(item) {
  let tree = [];
  const outcomes = [];
  const stemmed = [];
  for (const op of item.ops) {
    if (op.compact) {
      merge.compactTree({rev_tree: tree});
    } else {
      const result = merge.merge(tree, pathTree(op), op.depth);
      tree = result.tree;
      outcomes.push(result.conflicts);
      stemmed.push(result.stemmedRevs);
    }
    tree = JSON.parse(JSON.stringify(tree));
  }
  const metadata = {id: 'doc', rev_tree: tree};
  const winner = merge.winningRev(metadata);
  const leaves = merge.collectLeaves(tree).map((leaf) => ({
    rev: leaf.rev,
    deleted: !!leaf.opts.deleted,
    status: leaf.opts.status,
  }));
  const exists = {};
  const latest = {};
  for (const rev of item.revs) {
    exists[rev] = merge.revExists(tree, rev);
    if (exists[rev]) {
      latest[rev] = merge.latest(rev, metadata);
    }
  }
  return {
    id: item.id,
    outcomes,
    stemmed,
    tree,
    winner,
    leaves,
    conflicts: merge.collectConflicts(metadata),
    deleted_conflicts: leaves.filter((l) => l.deleted && l.rev !== winner).map((l) => l.rev),
    exists,
    latest,
    revs_diff: (item.diff || []).map((revs) => revsDiff(tree, revs)),
  };
}

function main() {
  const chunks = [];
  process.stdin.on('data', (chunk) => chunks.push(chunk));
  process.stdin.on('end', () => {
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const answers = input.cases.map((item) => {
      try {
        return runCase(item);
      } catch (err) {
        return {id: item.id, error: String(err && err.stack || err)};
      }
    });
    process.stdout.write(JSON.stringify(answers));
  });
}

main();
