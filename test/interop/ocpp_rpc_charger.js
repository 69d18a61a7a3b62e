#!/usr/bin/env node
// An OCPP 1.6J charge point built on ocpp-rpc (an independent OCPP-J
// implementation) in strict mode: every call and answer, both ways, is
// validated against ocpp-rpc's own copy of the OCPP 1.6 schemas. It boots,
// runs a session, answers every call the central system sends like a real
// charger, and is driven by lines on stdin:
//
//   session TAG       Authorize, StartTransaction, MeterValues, StopTransaction
//   denied TAG        the same with a tag the central system must refuse: the
//                     transaction it still numbers is stopped DeAuthorized
//   unsupported       SignCertificate (the central system does not implement
//                     it: a CALLERROR NotImplemented/NotSupported)
//   security          SecurityEventNotification (answered with {})
//   heartbeat         Heartbeat
//   misc              DataTransfer, DiagnosticsStatusNotification,
//                     FirmwareStatusNotification
//   burst N           N Heartbeats at once, without waiting for each answer
//   raw-invalid       calls that break the schema, sent past ocpp-rpc's own
//                     validation: each must get a CALLERROR with an OCPP-J
//                     1.6 error code and the same message id
//   idle SECONDS      stay quiet; keep-alive pings must be answered and the
//                     connection must stay up
//   expect-close      the central system is about to close the connection
//   quit              check, print the findings, exit (0 clean, 1 findings)
//
// Quirk options that steer the gateway into its other paths: --no-boot (wait
// for TriggerMessage BootNotification), --power-only (limits in W only),
// --only-tx-profile (ChargePointMaxProfile answered with a CALLERROR
// NotSupported, TxDefaultProfile Rejected, TxProfile Accepted), --password
// PW (HTTP Basic Auth, security profile 1), --slow ACTION:MS (answer that
// call only after MS, past the central system's call timeout). --ocpp201:
// an OCPP 2.0.1 station instead (ocpp_rpc_charger201.js).
//
// Every event is a JSON line in --events (the test waits on them), every
// frame a JSON line in --frames. Findings: strict validation failures (the
// central system's calls and its answers to ours), bad messages, unexpected
// CALLERRORs, unexpected disconnects, malformed or reused message ids, and
// calls named in --expect that never came.
'use strict';

const fs = require('fs');
const { RPCClient, createRPCError } = require('ocpp-rpc');

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_MESSAGE_ID = 36;  // OCPP-J 1.6, section 4.1.3
const CALL_TIMEOUT_MS = 10000;

function parseArgs(argv) {
  const opt = { url: '', id: '', events: '', frames: '', expect: [], pingMs: 2000,
                noBoot: false, powerOnly: false, onlyTxProfile: false, password: null, slow: {},
                ocpp201: false };
  const flags = { '--no-boot': 'noBoot', '--power-only': 'powerOnly',
                  '--only-tx-profile': 'onlyTxProfile', '--ocpp201': 'ocpp201' };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, val] = [argv[i], argv[i + 1]];
    if (key in flags) {
      opt[flags[key]] = true;
      i--;
      continue;
    }
    if (val === undefined)
      usage(`missing value for ${key}`);
    if (key === '--url') opt.url = val;
    else if (key === '--id') opt.id = val;
    else if (key === '--events') opt.events = val;
    else if (key === '--frames') opt.frames = val;
    else if (key === '--expect') opt.expect = val.split(',').filter(Boolean);
    else if (key === '--ping-ms') opt.pingMs = Number(val);
    else if (key === '--password') opt.password = val;
    else if (key === '--slow') opt.slow[val.split(':')[0]] = Number(val.split(':')[1]) || 0;
    else usage(`unknown option ${key}`);
  }
  if (!opt.url || !opt.id || !opt.events || !opt.frames)
    usage('--url, --id, --events and --frames are required');
  return opt;
}

function usage(msg) {
  process.stderr.write(`ocpp_rpc_charger: ${msg}\n` +
    'usage: ocpp_rpc_charger.js --url ws://HOST:PORT/PATH --id ID --events FILE ' +
    '--frames FILE [--expect A,B,...] [--ping-ms MS] [--no-boot] [--power-only] ' +
    '[--only-tx-profile] [--password PW] [--slow ACTION:MS] [--ocpp201]\n');
  process.exit(2);
}

const opt = parseArgs(process.argv.slice(2));
if (opt.ocpp201) {
  // OCPP 2.0.1 (--ocpp201): its own station, same options and files
  require('./ocpp_rpc_charger201.js')(opt);
  return;
}
const findings = [];
// ids of the raw probes: their CALLERRORs reach ocpp-rpc as answers to
// calls it never made, which it reports as bad messages
const rawProbes = new Map();          // id -> resolve(frame)
// OCPP-J 1.6 section 4.2.3, with its spelling of Occurence
const CALLERROR_CODES = new Set(['NotImplemented', 'NotSupported', 'InternalError',
  'ProtocolError', 'SecurityError', 'FormationViolation', 'PropertyConstraintViolation',
  'OccurenceConstraintViolation', 'TypeConstraintViolation', 'GenericError']);
const received = new Map();           // action -> count of calls received
let connection = 0;                   // 1 on the first connect, +1 per reconnect
let idsThisConnection = new Set();    // the central system's call ids
let closingOnPurpose = false;
let pongs = 0;

function event(obj) {
  fs.appendFileSync(opt.events, JSON.stringify({ t: Date.now() / 1000, ...obj }) + '\n');
}

function finding(text) {
  findings.push(text);
  event({ ev: 'finding', text });
  process.stderr.write(`finding: ${text}\n`);
}

function now() {
  return new Date().toISOString();
}

const cli = new RPCClient({
  endpoint: opt.url,
  identity: opt.id,
  protocols: ['ocpp1.6'],
  strictMode: true,
  pingIntervalMs: opt.pingMs,
  callTimeoutMs: CALL_TIMEOUT_MS,
  reconnect: false,
  ...(opt.password !== null ? { password: opt.password } : {}),
});

// ---- what ocpp-rpc reports ------------------------------------------------

cli.on('strictValidationFailure', (e) => {
  const dir = e.outbound ? 'ours' : "central system's";
  const what = e.isCall ? `call ${e.method}` : `answer to ${e.method}`;
  const data = e.isCall ? e.params : e.result;
  finding(`strict validation failed on the ${dir} ${what} (id ${e.messageId}): ` +
          `${e.error && e.error.message}: ${JSON.stringify(data)}`);
});
cli.on('badMessage', (e) => {
  let msg = null;
  try { msg = JSON.parse(String(e.buffer)); } catch (err) { /* reported below */ }
  if (Array.isArray(msg) && rawProbes.has(msg[1])) {
    rawProbes.get(msg[1])(msg);
    return;
  }
  finding(`bad message from the central system: ${e.error && e.error.message}: ` +
          `${String(e.buffer).slice(0, 300)}`);
});
cli.on('message', (e) => {
  const text = String(e.message);
  fs.appendFileSync(opt.frames, JSON.stringify({
    t: Date.now() / 1000, dir: e.outbound ? 'out' : 'in', frame: text }) + '\n');
  if (e.outbound)
    return;
  let msg;
  try {
    msg = JSON.parse(text);
  } catch (err) {
    return;  // ocpp-rpc reports it as a bad message
  }
  if (!Array.isArray(msg) || msg[0] !== 2)
    return;
  const id = msg[1];
  if (typeof id !== 'string' || id.length < 1 || id.length > MAX_MESSAGE_ID)
    finding(`central system call id ${JSON.stringify(id)} is not a string of 1..${MAX_MESSAGE_ID}`);
  else if (idsThisConnection.has(id))
    finding(`central system reused call id ${id} on one connection`);
  idsThisConnection.add(id);
});
cli.on('call', (c) => {
  const id = c.payload && c.payload[1];
  if (c.outbound && !UUID_RE.test(id))
    finding(`ocpp-rpc sent a non-UUID message id ${id}`);
});
cli.on('ping', () => { pongs++; });
cli.on('disconnect', (e) => {
  event({ ev: 'disconnect', code: e.code, reason: String(e.reason || '') });
  if (!closingOnPurpose)
    finding(`connection dropped: code ${e.code} ${String(e.reason || '')}`);
});

// ---- charger state --------------------------------------------------------

const cp = {
  tx: 0,                 // running transaction, 0 when none
  txTag: '',
  meterWh: 120000,
  reservation: 0,
  config: {
    NumberOfConnectors: '1',
    SupportedFeatureProfiles:
      'Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger',
    ChargeProfileMaxStackLevel: '3',
    ChargingScheduleAllowedChargingRateUnit: opt.powerOnly ? 'Power' : 'Current',
    // differ from what the gateway wants, so it sends ChangeConfiguration
    MeterValuesSampledData: 'Energy.Active.Import.Register',
    MeterValueSampleInterval: '300',
    HeartbeatInterval: '300',
  },
};

// Our own calls. A CALLERROR or a rejected promise is a finding unless the
// caller expects it (allowErrors lists the acceptable error codes).
async function call(action, params, allowErrors) {
  try {
    const res = await cli.call(action, params);
    event({ ev: 'answer', action, result: res });
    if (allowErrors)
      finding(`${action} was answered ${JSON.stringify(res)}, expected a CALLERROR ` +
              allowErrors.join('/'));
    return res;
  } catch (err) {
    const code = err.rpcErrorCode || err.code || err.name;
    event({ ev: 'callerror', action, code, message: err.message });
    if (!allowErrors || !allowErrors.includes(code))
      finding(`${action} failed: ${code}: ${err.message}`);
    return null;
  }
}

function status(connectorId, st, errorCode) {
  return call('StatusNotification', {
    connectorId, errorCode: errorCode || 'NoError', status: st, timestamp: now(),
  });
}

async function boot() {
  const res = await call('BootNotification', {
    chargePointVendor: 'ocpp-rpc', chargePointModel: 'strict-interop',
    chargePointSerialNumber: 'RPC-0001', firmwareVersion: '2.2.1',
  });
  if (!res || res.status !== 'Accepted')
    finding(`BootNotification not accepted: ${JSON.stringify(res)}`);
  await status(0, 'Available');
  await status(1, cp.reservation ? 'Reserved' : 'Available');
  event({ ev: 'booted', connection });
}

function sampledValues(amps) {
  const watts = Math.round(amps * 230 * 3);
  const s = (value, measurand, unit, extra) =>
    ({ value: String(value), context: 'Sample.Periodic', format: 'Raw', measurand,
       location: 'Outlet', unit, ...extra });
  return [
    s(cp.meterWh, 'Energy.Active.Import.Register', 'Wh'),
    s((cp.meterWh / 1000).toFixed(3), 'Energy.Active.Import.Register', 'kWh'),
    s(amps.toFixed(1), 'Current.Import', 'A', { phase: 'L1' }),
    s(amps.toFixed(1), 'Current.Import', 'A', { phase: 'L2' }),
    s((amps - 0.3).toFixed(1), 'Current.Import', 'A', { phase: 'L3' }),
    s(watts, 'Power.Active.Import', 'W'),
    s('230.4', 'Voltage', 'V', { phase: 'L1-N' }),
    s('16.0', 'Current.Offered', 'A'),
    { value: '57', context: 'Sample.Periodic', measurand: 'SoC', location: 'EV', unit: 'Percent' },
  ];
}

async function meterValues(amps) {
  cp.meterWh += 1500;
  await call('MeterValues', {
    connectorId: 1, transactionId: cp.tx,
    meterValue: [
      { timestamp: now(), sampledValue: sampledValues(amps) },
      { timestamp: now(), sampledValue: [
        { value: String(cp.meterWh), context: 'Sample.Clock',
          measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] },
    ],
  });
}

async function startTransaction(tag) {
  await status(1, 'Preparing');
  const res = await call('StartTransaction', {
    connectorId: 1, idTag: tag, meterStart: cp.meterWh, timestamp: now(),
    ...(cp.reservation ? { reservationId: cp.reservation } : {}),
  });
  cp.reservation = 0;
  if (!res || !res.idTagInfo || res.idTagInfo.status !== 'Accepted') {
    finding(`StartTransaction for ${tag} not accepted: ${JSON.stringify(res)}`);
    await status(1, 'Available');
    return;
  }
  cp.tx = res.transactionId;
  cp.txTag = tag;
  event({ ev: 'started', tx: cp.tx, tag });
  await status(1, 'Charging');
  await meterValues(15.8);
}

async function stopTransaction(reason) {
  if (!cp.tx)
    return;
  const tx = cp.tx;
  cp.tx = 0;
  cp.meterWh += 700;
  await status(1, 'Finishing');
  const res = await call('StopTransaction', {
    transactionId: tx, idTag: cp.txTag, meterStop: cp.meterWh, timestamp: now(),
    reason,
    transactionData: [{ timestamp: now(), sampledValue: [
      { value: String(cp.meterWh), context: 'Transaction.End',
        measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
  });
  if (!res)
    finding(`StopTransaction ${tx} got no answer`);
  event({ ev: 'stopped', tx, reason });
  await status(1, 'Available');
}

// Work that follows an answer (a real charger acts after it replied).
function after(fn) {
  setTimeout(() => { fn().catch((err) => finding(`after-answer work: ${err.stack}`)); }, 50);
}

// ---- calls from the central system ----------------------------------------

const handlers = {
  GetConfiguration: ({ params }) => {
    const keys = params.key || Object.keys(cp.config);
    const known = keys.filter((k) => k in cp.config);
    const out = { configurationKey: known.map((k) => ({ key: k, readonly: false, value: cp.config[k] })) };
    const unknown = keys.filter((k) => !(k in cp.config));
    if (unknown.length)
      out.unknownKey = unknown;
    return out;
  },
  ChangeConfiguration: ({ params }) => {
    if (!(params.key in cp.config))
      return { status: 'NotSupported' };
    cp.config[params.key] = params.value;
    return { status: 'Accepted' };
  },
  TriggerMessage: ({ params }) => {
    const c = params.connectorId;
    const jobs = {
      BootNotification: () => boot(),
      Heartbeat: () => call('Heartbeat', {}),
      StatusNotification: async () => {
        if (c === undefined || c === 0) await status(0, 'Available');
        if (c === undefined || c === 1) await status(1, cp.tx ? 'Charging' : 'Available');
      },
      MeterValues: () => (cp.tx ? meterValues(15.8) : Promise.resolve()),
    };
    const job = jobs[params.requestedMessage];
    if (!job)
      return { status: 'NotImplemented' };
    after(job);
    return { status: 'Accepted' };
  },
  RemoteStartTransaction: ({ params }) => {
    if (cp.tx)
      return { status: 'Rejected' };
    after(() => startTransaction(params.idTag));
    return { status: 'Accepted' };
  },
  RemoteStopTransaction: ({ params }) => {
    if (!cp.tx || params.transactionId !== cp.tx)
      return { status: 'Rejected' };
    after(() => stopTransaction('Remote'));
    return { status: 'Accepted' };
  },
  ChangeAvailability: ({ params }) => {
    const st = params.type === 'Operative' ? 'Available' : 'Unavailable';
    if (cp.tx)
      return { status: 'Scheduled' };
    after(() => status(params.connectorId || 1, st));
    return { status: 'Accepted' };
  },
  UnlockConnector: () => ({ status: 'Unlocked' }),
  ReserveNow: ({ params }) => {
    if (cp.tx || cp.reservation)
      return { status: 'Occupied' };
    cp.reservation = params.reservationId;
    after(() => status(1, 'Reserved'));
    return { status: 'Accepted' };
  },
  CancelReservation: ({ params }) => {
    if (params.reservationId !== cp.reservation)
      return { status: 'Rejected' };
    cp.reservation = 0;
    after(() => status(1, 'Available'));
    return { status: 'Accepted' };
  },
  SetChargingProfile: ({ params }) => {
    const purpose = params.csChargingProfiles.chargingProfilePurpose;
    if (opt.onlyTxProfile && purpose === 'ChargePointMaxProfile')
      throw createRPCError('NotSupported', `${purpose} not supported`);
    if (opt.onlyTxProfile && purpose !== 'TxProfile')
      return { status: 'Rejected' };
    return { status: 'Accepted' };
  },
  ClearChargingProfile: () => ({ status: 'Accepted' }),
  ClearCache: () => ({ status: 'Accepted' }),
  Reset: () => {
    after(reboot);
    return { status: 'Accepted' };
  },
};

for (const [action, fn] of Object.entries(handlers)) {
  cli.handle(action, (arg) => {
    received.set(action, (received.get(action) || 0) + 1);
    event({ ev: 'call', action, id: arg.messageId, params: arg.params });
    const delay = opt.slow[action];
    if (!delay)
      return fn(arg);
    return new Promise((resolve) => setTimeout(() => {
      event({ ev: 'late-answer', action, id: arg.messageId });
      resolve(fn(arg));
    }, delay));
  });
}
cli.handle(({ method, params, messageId }) => {
  event({ ev: 'call', action: method, id: messageId, params });
  finding(`the central system sent ${method}, which this charger does not implement`);
  throw createRPCError('NotImplemented', `${method} is not implemented`);
});

// ---- connection -----------------------------------------------------------

async function connect() {
  connection++;
  idsThisConnection = new Set();
  closingOnPurpose = false;
  const res = await cli.connect();
  const proto = res.response.headers['sec-websocket-protocol'];
  if (proto !== 'ocpp1.6')
    finding(`handshake answered subprotocol ${JSON.stringify(proto)}, not ocpp1.6`);
  event({ ev: 'open', connection, protocol: proto });
  if (!opt.noBoot || connection > 1)
    await boot();
}

// Reset: stop the transaction, close the socket, come back and boot again.
async function reboot() {
  await stopTransaction('SoftReset');
  closingOnPurpose = true;
  await cli.close({ code: 1000, reason: 'reset' });
  await new Promise((r) => setTimeout(r, 300));
  await connect();
}

// ---- commands on stdin ----------------------------------------------------

async function idle(seconds) {
  const before = pongs;
  const conn = connection;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const got = pongs - before;
  const want = Math.floor((seconds * 1000) / opt.pingMs) - 1;
  if (got < want)
    finding(`only ${got} keep-alive pongs in ${seconds} s at a ${opt.pingMs} ms ping interval (want >= ${want})`);
  if (connection !== conn || cli.state !== RPCClient.OPEN)
    finding(`connection not open after ${seconds} s idle (state ${cli.state})`);
  event({ ev: 'idle', seconds, pongs: got });
}

function checkExpected() {
  for (const action of opt.expect)
    if (!received.has(action))
      finding(`expected call ${action} never came`);
}

async function quit() {
  checkExpected();
  event({ ev: 'received', calls: Object.fromEntries(received) });
  closingOnPurpose = true;
  await cli.close({ code: 1000, reason: 'done' });
  const counts = [...received].map(([a, n]) => `${a} x${n}`).join(', ');
  process.stdout.write(`calls received: ${counts || 'none'}\n`);
  if (findings.length) {
    process.stdout.write(`${findings.length} finding(s):\n`);
    for (const f of findings)
      process.stdout.write(`  - ${f}\n`);
    process.exit(1);
  }
  process.stdout.write('no findings\n');
  process.exit(0);
}

const commands = {
  session: async (tag) => {
    const auth = await call('Authorize', { idTag: tag });
    if (!auth || auth.idTagInfo.status !== 'Accepted')
      finding(`Authorize ${tag}: ${JSON.stringify(auth)}`);
    await startTransaction(tag);
    // long enough for the bus to carry charging_state 1 before the stop
    await new Promise((r) => setTimeout(r, 1000));
    await meterValues(16.1);
    await stopTransaction('Local');
  },
  denied: async (tag) => {
    const auth = await call('Authorize', { idTag: tag });
    if (!auth || auth.idTagInfo.status === 'Accepted')
      finding(`Authorize ${tag} should be refused: ${JSON.stringify(auth)}`);
    await status(1, 'Preparing');
    const res = await call('StartTransaction',
      { connectorId: 1, idTag: tag, meterStart: cp.meterWh, timestamp: now() });
    if (!res || res.idTagInfo.status === 'Accepted')
      finding(`StartTransaction ${tag} should be refused: ${JSON.stringify(res)}`);
    event({ ev: 'denied', tag, auth: auth && auth.idTagInfo.status,
            start: res && res.idTagInfo.status });
    if (res) {
      cp.tx = res.transactionId;
      cp.txTag = tag;
      await stopTransaction('DeAuthorized');
    }
  },
  unsupported: () => call('SignCertificate',
    { csr: '-----BEGIN CERTIFICATE REQUEST-----interop-----END CERTIFICATE REQUEST-----' },
    ['NotImplemented', 'NotSupported']),
  security: () => call('SecurityEventNotification',
    { type: 'SettingSystemTime', timestamp: now(), techInfo: 'interop test' }),
  heartbeat: () => call('Heartbeat', {}),
  misc: async () => {
    await call('DataTransfer', { vendorId: 'org.ocppknx.interop', messageId: 'probe', data: 'x' });
    await call('DiagnosticsStatusNotification', { status: 'Idle' });
    await call('FirmwareStatusNotification', { status: 'Idle' });
  },
  // OCPP-J wants one call at a time; a central system must still not lose
  // or mix up answers when a charger does not wait
  burst: async (n) => {
    const count = Math.min(Number(n) || 4, 16);
    cli.reconfigure({ callConcurrency: count });
    const res = await Promise.all(Array.from({ length: count }, () => call('Heartbeat', {})));
    cli.reconfigure({ callConcurrency: 1 });
    if (res.some((r) => !r || typeof r.currentTime !== 'string'))
      finding(`burst of ${count} Heartbeats: not every one answered`);
  },
  idle: (s) => idle(Number(s) || 6),
  'expect-close': () => { closingOnPurpose = true; },
  'raw-invalid': async () => {
    const probes = [
      ['BootNotification', { chargePointVendor: 'ocpp-rpc' }],
      ['StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Bogus' }],
      ['MeterValues', { connectorId: 1, meterValue: 'not-an-array' }],
      ['Heartbeat', 'not-an-object'],
      // the error text quotes the value: it must be cut on a character
      // boundary (ws closes with 1007 on a text frame that is not UTF-8)
      ['StatusNotification', { connectorId: 1, errorCode: 'NoError', status: '😀'.repeat(90) }],
      ['DataTransfer', { vendorId: 'ü'.repeat(300) }],
    ];
    for (const [i, [action, params]] of probes.entries()) {
      const id = `probe-${i}`;
      const answer = new Promise((resolve) => {
        rawProbes.set(id, resolve);
        setTimeout(() => resolve(null), 3000);
      });
      await cli.sendRaw(JSON.stringify([2, id, action, params]));
      const msg = await answer;
      rawProbes.delete(id);
      event({ ev: 'raw', action, answer: msg });
      if (!msg)
        finding(`invalid ${action} (raw) got no CALLERROR`);
      else if (msg.length !== 5 || msg[0] !== 4 || msg[1] !== id ||
               !CALLERROR_CODES.has(msg[2]) || typeof msg[3] !== 'string' ||
               typeof msg[4] !== 'object' || msg[4] === null || Array.isArray(msg[4]))
        finding(`invalid ${action} (raw): not an OCPP-J 1.6 CALLERROR: ${JSON.stringify(msg)}`);
      else if (/^([^:]+): \1: /.test(msg[3]))
        finding(`invalid ${action} (raw): errorDescription repeats itself: ${msg[3]}`);
    }
  },
  quit,
};

async function runCommands() {
  const lines = require('readline').createInterface({ input: process.stdin });
  for await (const line of lines) {
    const [cmd, ...args] = line.trim().split(/\s+/);
    if (!cmd)
      continue;
    const fn = commands[cmd];
    if (!fn) {
      finding(`unknown command ${cmd}`);
      continue;
    }
    await fn(...args);
    event({ ev: 'done', cmd });
  }
  await quit();
}

(async () => {
  try {
    await connect();
  } catch (err) {
    finding(`connect/boot failed: ${err.message}`);
    process.stdout.write(`${findings.join('\n')}\n`);
    process.exit(1);
  }
  await runCommands();
})().catch((err) => {
  finding(`charger crashed: ${err.stack}`);
  process.stdout.write(`${findings.join('\n')}\n`);
  process.exit(1);
});
