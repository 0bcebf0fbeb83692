#!/usr/bin/env node
// Verifies every DKIM signature of each message file with mailauth (Node.js; an implementation
// independent of lbmail's, and unlike Debian 12's Mail::DKIM it checks ed25519-sha256, RFC 8463),
// fetching public keys from a DNS server on 127.0.0.1:PORT.
//
// Usage: node dkim_verify.mjs --dns-port PORT FILE...
// Prints one line per signature: "FILE pass d=D s=S a=A" or "FILE fail <reason>" (also for a file
// with no signature). Exit status 0 only when every signature of every file passes.
// Needs `npm ci` in this folder (scripts/install-deps runs it).
import { readFile } from 'node:fs/promises';
import { Resolver } from 'node:dns/promises';
import { createRequire } from 'node:module';

// mailauth's documented entry point for DKIM alone (its README: require('mailauth/lib/dkim/verify')).
function loadDkimVerify() {
  try {
    return createRequire(import.meta.url)('mailauth/lib/dkim/verify').dkimVerify;
  } catch (err) {
    console.error(`mailauth is not installed (${err.message}): run scripts/install-deps, or npm ci in tests/support/mailauth`);
    process.exit(2);
  }
}
const dkimVerify = loadDkimVerify();

const usage = 'usage: dkim_verify.mjs --dns-port PORT FILE...';

function parseArgs(argv) {
  const at = argv.indexOf('--dns-port');
  const port = at >= 0 ? Number(argv[at + 1]) : NaN;
  const files = at >= 0 ? argv.filter((_, i) => i !== at && i !== at + 1) : [];
  if (!Number.isInteger(port) || port <= 0 || port > 65535 || files.length === 0) {
    console.error(usage);
    process.exit(2);
  }
  return { port, files };
}

// mailauth calls resolver(name, 'TXT') like dns.resolve: arrays of character-strings, which it
// joins (RFC 6376 3.6.2.2); errors with code ENOTFOUND/ENODATA mean "no key".
function txtResolver(port) {
  const resolver = new Resolver({ timeout: 5000, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  return (name, type) => resolver.resolve(name, type);
}

// DKIM-Signature fields in the header section: a signature mailauth could not parse must not
// vanish from its results unnoticed.
function signatureCount(message) {
  const text = message.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const head = end >= 0 ? text.slice(0, end) : text;
  return head.split('\n').filter(line => /^dkim-signature:/i.test(line)).length;
}

async function verifyFile(path, resolver) {
  let message;
  try {
    message = await readFile(path);
  } catch (err) {
    console.log(`${path} fail cannot open: ${err.message}`);
    return false;
  }
  const count = signatureCount(message);
  if (count === 0) {
    console.log(`${path} fail no DKIM-Signature header`);
    return false;
  }
  const { results } = await dkimVerify(message, { resolver });
  let allPass = results.length === count;
  if (!allPass) console.log(`${path} fail ${count} DKIM-Signature fields but mailauth checked ${results.length}`);
  results.forEach((r, i) => {
    const tags = `d=${r.signingDomain} s=${r.selector} a=${r.algo}`;
    if (r.status.result === 'pass') {
      console.log(`${path} pass ${tags}`);
    } else {
      console.log(`${path} fail signature ${i + 1} ${tags}: ${r.status.result} ${r.status.comment || ''}`.trimEnd());
      allPass = false;
    }
  });
  return allPass;
}

const { port, files } = parseArgs(process.argv.slice(2));
const resolver = txtResolver(port);
let all = true;
for (const path of files) {
  if (!(await verifyFile(path, resolver))) all = false;
}
process.exit(all ? 0 : 1);
