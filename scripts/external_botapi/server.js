// Starts the third-party Bot API emulator `telegram-test-api` on 127.0.0.1:PORT, unmodified.
//
//   node server.js PORT MODULE_DIR
//
// MODULE_DIR is a directory whose node_modules holds telegram-test-api (installed there by
// scripts/external_botapi_check.py with npm); nothing of the package is copied into this repository.
// This launcher only observes: it prints one JSON line per HTTP exchange on stdout
// ({"kind": "http", "method", "url", "status", "body"}) so that the check can list every request the
// emulator refused, and it logs failed webhook deliveries (the emulator does not await them, and
// Node would otherwise exit on the unhandled rejection). It prints {"kind": "ready"} once listening.
'use strict';

const path = require('path');

const port = Number(process.argv[2]);
const moduleDir = path.resolve(process.argv[3] || '.');
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: node server.js PORT MODULE_DIR\n');
  process.exit(2);
}

const resolveFrom = (name) => require.resolve(name, { paths: [moduleDir] });
const express = require(resolveFrom('express'));
const emulator = require(resolveFrom('telegram-test-api'));
const TelegramServer = emulator.TelegramServer || emulator.default || emulator;

const emit = (record) => process.stdout.write(`${JSON.stringify(record)}\n`);

// Observe every answer the emulator gives (status and JSON body), without changing it.
const originalJson = express.response.json;
express.response.json = function json(body) {
  emit({
    kind: 'http', method: this.req.method, url: this.req.originalUrl, status: this.statusCode, body,
    request: this.req.body,
  });
  return originalJson.call(this, body);
};

process.on('unhandledRejection', (error) => {
  const response = error && error.response;
  emit({
    kind: 'webhook_failed',
    message: String(error && error.message),
    status: response ? response.status : null,
    url: error && error.config ? error.config.url : null,
  });
});

async function main() {
  const server = new TelegramServer({ port, host: '127.0.0.1', storeTimeout: 3600 });
  await server.start();
  emit({ kind: 'ready', port, apiURL: server.config.apiURL });
  const stop = async () => {
    await server.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error) => {
  process.stderr.write(`${error && error.stack}\n`);
  process.exit(1);
});
