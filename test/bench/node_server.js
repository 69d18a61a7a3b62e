#!/usr/bin/env node
// The Node central system the daemon is compared with: ocpp-rpc's RPCServer
// in strict mode, so every call is validated against the OCPP 1.6 schemas
// as the daemon validates them, answering what a central system answers.
// It keeps nothing: no store, no bridge, which favours it.
//
//   NODE_PATH=.../node_modules node node_server.js PORT
'use strict';

const { RPCServer } = require('ocpp-rpc');

const port = Number(process.argv[2]);
if (!port) {
  console.error('usage: node_server.js PORT');
  process.exit(2);
}

let txSeq = 0;
const now = () => new Date().toISOString();

const server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: true });
server.on('client', (client) => {
  client.handle('BootNotification', () =>
    ({ status: 'Accepted', currentTime: now(), interval: 300 }));
  client.handle('Heartbeat', () => ({ currentTime: now() }));
  client.handle('StatusNotification', () => ({}));
  client.handle('Authorize', () => ({ idTagInfo: { status: 'Accepted' } }));
  client.handle('StartTransaction', () =>
    ({ transactionId: ++txSeq, idTagInfo: { status: 'Accepted' } }));
  client.handle('StopTransaction', () => ({ idTagInfo: { status: 'Accepted' } }));
  client.handle('MeterValues', () => ({}));
});

server.listen(port, '127.0.0.1').then(() => {
  console.log(`listening ${port}`);
});
