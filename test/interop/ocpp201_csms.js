#!/usr/bin/env node
// An OCPP 2.0.1 CSMS built on ocpp-rpc's RPCServer in strict mode (every
// call and answer, both ways, is validated against ocpp-rpc's own copy of
// the OCPP 2.0.1 schemas). It answers what a charging station sends and,
// once the station named by --drive has ended a local transaction, sends it
// every command below and checks the answers and the messages they cause.
// A station named by --offline must deliver TransactionEvents stored while
// it was offline, marked offline:true, after it reconnected. A station
// named by --limit gets a 6900 W station limit and must charge at 10 A; one
// named by --reset gets Reset OnIdle while it charges.
//
// usage: ocpp201_csms.js --port-file FILE --events FILE
//                        [--drive ID,...] [--offline ID] [--limit ID] [--reset ID]
//                        [--reject-tag TAG]
// It prints "PORT n" into --port-file when listening; SIGTERM (or both
// stations finished) prints a summary and exits: 0 clean, 1 findings.
'use strict';

const fs = require('fs');
const { RPCServer, createRPCError } = require('ocpp-rpc');

const opt = { portFile: '', events: '', drive: '', offline: '', limit: '', reset: '', rejectTag: '' };
for (let i = 2; i < process.argv.length; i += 2) {
  const [k, v] = [process.argv[i], process.argv[i + 1]];
  const key = { '--port-file': 'portFile', '--events': 'events', '--drive': 'drive',
                '--offline': 'offline', '--limit': 'limit', '--reset': 'reset', '--reject-tag': 'rejectTag' }[k];
  if (!key || v === undefined) {
    process.stderr.write(`ocpp201_csms: bad option ${k}\n`);
    process.exit(2);
  }
  opt[key] = v;
}

const findings = [];
const seen = new Map();   // identity -> list of {action, params}
const checked = [];       // what was verified, for the summary
const waiters = [];       // { id, pred, resolve }
const driveDone = new Set();
const driveIds = () => opt.drive.split(',').filter(Boolean);
let offlineDone = !opt.offline;
let limitDone = !opt.limit;
let resetDone = !opt.reset;

function event(obj) {
  if (opt.events)
    fs.appendFileSync(opt.events, JSON.stringify({ t: Date.now() / 1000, ...obj }) + '\n');
}

function finding(text) {
  findings.push(text);
  event({ ev: 'finding', text });
  process.stderr.write(`finding: ${text}\n`);
}

function ok(what) {
  checked.push(what);
  event({ ev: 'ok', what });
}

function check(cond, what) {
  if (cond)
    ok(what);
  else
    finding(`check failed: ${what}`);
  return cond;
}

function record(id, action, params) {
  if (!seen.has(id))
    seen.set(id, []);
  const msg = { action, params };
  seen.get(id).push(msg);
  event({ ev: 'call', id, action, params });
  for (const w of waiters.slice())
    if (w.id === id && w.pred(msg)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(msg);
    }
}

// the next (or an earlier, not yet taken) message of station id matching pred
function waitFor(id, what, pred, ms = 10000) {
  return new Promise((resolve) => {
    const w = { id, pred, resolve };
    const t = setTimeout(() => {
      waiters.splice(waiters.indexOf(w), 1);
      finding(`${id}: not seen within ${ms} ms: ${what}`);
      resolve(null);
    }, ms);
    w.resolve = (m) => { clearTimeout(t); resolve(m); };
    waiters.push(w);
  });
}

const now = () => new Date().toISOString();
const txEvents = (id) => (seen.get(id) || []).filter((m) => m.action === 'TransactionEvent');

// ---- what a station sends ---------------------------------------------------

const answers = {
  BootNotification: () => ({ currentTime: now(), interval: 300, status: 'Accepted' }),
  Heartbeat: () => ({ currentTime: now() }),
  StatusNotification: () => ({}),
  NotifyReport: () => ({}),
  MeterValues: () => ({}),
  FirmwareStatusNotification: () => ({}),
  LogStatusNotification: () => ({}),
  Authorize: ({ params }) => ({ idTokenInfo: {
    status: params.idToken.idToken === opt.rejectTag ? 'Invalid' : 'Accepted' } }),
  TransactionEvent: ({ params }) => (params.idToken
    ? { idTokenInfo: { status: params.idToken.idToken === opt.rejectTag ? 'Invalid' : 'Accepted' } }
    : {}),
};

// ---- the commands a CSMS sends ---------------------------------------------

async function send(cli, action, params, wantError) {
  try {
    const res = await cli.call(action, params);
    event({ ev: 'answer', id: cli.identity, action, result: res });
    if (wantError)
      finding(`${action} answered ${JSON.stringify(res)}, expected CALLERROR ${wantError}`);
    return res;
  } catch (err) {
    const code = err.rpcErrorCode || err.code || err.name;
    event({ ev: 'callerror', id: cli.identity, action, code });
    if (wantError !== code)
      finding(`${action} failed: ${code}: ${err.message}`);
    else
      ok(`${action} -> CALLERROR ${code}`);
    return null;
  }
}

const comp = (name, evse) => (evse ? { name, evse: { id: evse } } : { name });

async function variables(cli) {
  const id = cli.identity;
  const get = await send(cli, 'GetVariables', { getVariableData: [
    { component: comp('SmartChargingCtrlr'), variable: { name: 'RateUnit' } },
    { component: comp('TxCtrlr'), variable: { name: 'TxStartPoint' } },
    { component: comp('TxCtrlr'), variable: { name: 'TxStopPoint' } },
    { component: comp('SampledDataCtrlr'), variable: { name: 'TxUpdatedInterval' } },
    { component: comp('EVSE', 1), variable: { name: 'Available' } },
    { component: comp('EVSE', 2), variable: { name: 'Available' } },
    { component: comp('TxCtrlr'), variable: { name: 'NoSuchVariable' } },
  ] });
  const r = (get && get.getVariableResult) || [];
  check(r.length === 7, 'GetVariables: one result per variable');
  check(r[0] && r[0].attributeStatus === 'Accepted' && r[0].attributeValue === 'A,W',
    'GetVariables SmartChargingCtrlr.RateUnit = A,W');
  check(r[1] && r[1].attributeStatus === 'Accepted' && r[2].attributeStatus === 'Accepted',
    'GetVariables TxCtrlr.TxStartPoint/TxStopPoint known');
  check(r[4] && r[4].attributeStatus === 'Accepted', 'GetVariables EVSE 1 exists');
  check(r[5] && r[5].attributeStatus === 'UnknownComponent', 'GetVariables EVSE 2 unknown (one EVSE)');
  check(r[6] && r[6].attributeStatus === 'UnknownVariable', 'GetVariables unknown variable');
  const set = await send(cli, 'SetVariables', { setVariableData: [
    { component: comp('SampledDataCtrlr'), variable: { name: 'TxUpdatedInterval' }, attributeValue: '30' },
    { component: comp('SmartChargingCtrlr'), variable: { name: 'RateUnit' }, attributeValue: 'W' },
    { component: comp('SampledDataCtrlr'), variable: { name: 'TxUpdatedInterval' }, attributeValue: 'soon' },
  ] });
  const s = (set && set.setVariableResult) || [];
  check(s.map((x) => x.attributeStatus).join() === 'Accepted,Rejected,Rejected',
    'SetVariables: writable Accepted, read-only and non-integer Rejected');
  const again = await send(cli, 'GetVariables', { getVariableData: [
    { component: comp('SampledDataCtrlr'), variable: { name: 'TxUpdatedInterval' } }] });
  check(again && again.getVariableResult[0].attributeValue === '30',
    'SetVariables value read back by GetVariables');
  const report = waitFor(id, 'NotifyReport', (m) => m.action === 'NotifyReport' &&
    m.params.requestId === 11 && !m.params.tbc);
  const base = await send(cli, 'GetBaseReport', { requestId: 11, reportBase: 'FullInventory' });
  check(base && base.status === 'Accepted', 'GetBaseReport Accepted');
  const rep = await report;
  const parts = (seen.get(id) || []).filter((m) => m.action === 'NotifyReport' &&
    m.params.requestId === 11);
  check(rep && parts.every((m, i) => m.params.seqNo === i) &&
    parts.some((m) => m.params.reportData.some((d) => d.component.name === 'SmartChargingCtrlr' &&
      d.variable.name === 'RateUnit' && d.variableAttribute[0].value === 'A,W')),
  'NotifyReport parts, in order, carry the device model');
}

async function remoteSession(cli) {
  const id = cli.identity;
  const started = waitFor(id, 'TransactionEvent Started (remote)', (m) =>
    m.action === 'TransactionEvent' && m.params.eventType === 'Started' &&
    m.params.transactionInfo.remoteStartId === 42);
  const rs = await send(cli, 'RequestStartTransaction',
    { evseId: 1, remoteStartId: 42, idToken: { idToken: 'REMOTE1', type: 'Central' } });
  check(rs && rs.status === 'Accepted', 'RequestStartTransaction Accepted');
  const st = await started;
  if (!st)
    return;
  const txId = st.params.transactionInfo.transactionId;
  check(st.params.triggerReason === 'RemoteStart' && typeof txId === 'string' && txId.length > 0,
    'remote start: triggerReason RemoteStart, a transactionId string');
  const prof = await send(cli, 'SetChargingProfile', { evseId: 1, chargingProfile: {
    id: 5, stackLevel: 1, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative',
    transactionId: txId, chargingSchedule: [{ id: 1, chargingRateUnit: 'W',
      chargingSchedulePeriod: [{ startPeriod: 0, limit: 7000 }] }] } });
  check(prof && prof.status === 'Accepted', 'SetChargingProfile TxProfile 7000 W Accepted');
  const upd = waitFor(id, 'TransactionEvent Updated (Trigger)', (m) =>
    m.action === 'TransactionEvent' && m.params.eventType === 'Updated' &&
    m.params.triggerReason === 'Trigger');
  const tr = await send(cli, 'TriggerMessage',
    { requestedMessage: 'TransactionEvent', evse: { id: 1 } });
  check(tr && tr.status === 'Accepted', 'TriggerMessage TransactionEvent Accepted');
  const u = await upd;
  check(u && u.params.transactionInfo.transactionId === txId, 'triggered Updated names the transaction');
  const wrong = await send(cli, 'RequestStopTransaction', { transactionId: 'not-a-transaction' });
  check(wrong && wrong.status === 'Rejected', 'RequestStopTransaction of an unknown id Rejected');
  const ended = waitFor(id, 'TransactionEvent Ended (remote)', (m) =>
    m.action === 'TransactionEvent' && m.params.eventType === 'Ended' &&
    m.params.transactionInfo.transactionId === txId);
  const stop = await send(cli, 'RequestStopTransaction', { transactionId: txId });
  check(stop && stop.status === 'Accepted', 'RequestStopTransaction Accepted');
  const e = await ended;
  check(e && e.params.transactionInfo.stoppedReason === 'Remote' &&
    e.params.triggerReason === 'RemoteStop', 'remote stop: stoppedReason Remote, triggerReason RemoteStop');
  const seqs = txEvents(id).filter((m) => m.params.transactionInfo.transactionId === txId)
    .map((m) => m.params.seqNo);
  check(seqs.every((n, i) => n === i), `seqNo counts 0.. within the transaction (${seqs})`);
  const clr = await send(cli, 'ClearChargingProfile', { chargingProfileCriteria: { evseId: 1 } });
  check(clr && clr.status === 'Accepted', 'ClearChargingProfile Accepted');
}

async function connectorCommands(cli) {
  const id = cli.identity;
  const status = (st) => waitFor(id, `StatusNotification ${st}`, (m) =>
    m.action === 'StatusNotification' && m.params.connectorStatus === st && m.params.evseId === 1);
  let w = status('Reserved');
  const rn = await send(cli, 'ReserveNow', { id: 7, expiryDateTime: new Date(Date.now() + 600000).toISOString(),
    idToken: { idToken: 'RESERVE1', type: 'ISO14443' }, evseId: 1 });
  check(rn && rn.status === 'Accepted', 'ReserveNow Accepted');
  check(await w, 'ReserveNow: StatusNotification Reserved');
  w = status('Available');
  const cr = await send(cli, 'CancelReservation', { reservationId: 7 });
  check(cr && cr.status === 'Accepted', 'CancelReservation Accepted');
  check(await w, 'CancelReservation: StatusNotification Available');
  w = status('Unavailable');
  const ca = await send(cli, 'ChangeAvailability', { operationalStatus: 'Inoperative', evse: { id: 1 } });
  check(ca && ca.status === 'Accepted', 'ChangeAvailability Inoperative Accepted');
  check(await w, 'ChangeAvailability: StatusNotification Unavailable');
  w = status('Available');
  const co = await send(cli, 'ChangeAvailability', { operationalStatus: 'Operative', evse: { id: 1 } });
  check(co && co.status === 'Accepted', 'ChangeAvailability Operative Accepted');
  check(await w, 'ChangeAvailability: StatusNotification Available again');
  const un = await send(cli, 'UnlockConnector', { evseId: 1, connectorId: 1 });
  check(un && un.status === 'Unlocked', 'UnlockConnector Unlocked');
  w = status('Available');
  const ts = await send(cli, 'TriggerMessage', { requestedMessage: 'StatusNotification', evse: { id: 1, connectorId: 1 } });
  check(ts && ts.status === 'Accepted', 'TriggerMessage StatusNotification Accepted');
  check(await w, 'TriggerMessage: StatusNotification sent');
  const hb = waitFor(id, 'Heartbeat', (m) => m.action === 'Heartbeat');
  await send(cli, 'TriggerMessage', { requestedMessage: 'Heartbeat' });
  check(await hb, 'TriggerMessage: Heartbeat sent');
  const cc = await send(cli, 'ClearCache', {});
  check(cc && cc.status === 'Accepted', 'ClearCache Accepted');
  // an action of 2.0.1 the station does not implement
  await send(cli, 'GetLocalListVersion', {}, 'NotImplemented');
}

async function drive(cli) {
  const id = cli.identity;
  await variables(cli);
  await remoteSession(cli);
  await connectorCommands(cli);
  const boot = waitFor(id, 'BootNotification after Reset', (m) =>
    m.action === 'BootNotification' && m.params.reason === 'PowerUp', 15000);
  const rs = await send(cli, 'Reset', { type: 'OnIdle' });
  check(rs && rs.status === 'Accepted', 'Reset OnIdle Accepted (idle)');
  check(await boot, 'Reset: the station reconnected and booted again');
  driveDone.add(id);
  event({ ev: 'drive-done', id });
}

async function checkOffline(id) {
  const ended = await waitFor(id, 'TransactionEvent Ended', (m) =>
    m.action === 'TransactionEvent' && m.params.eventType === 'Ended', 30000);
  if (!ended)
    return;
  const tx = ended.params.transactionInfo.transactionId;
  const evs = txEvents(id).filter((m) => m.params.transactionInfo.transactionId === tx);
  check(evs.length >= 3 && evs[0].params.eventType === 'Started' && !evs[0].params.offline,
    'offline: Started sent online, without offline');
  check(evs.slice(1).every((m) => m.params.offline === true),
    'offline: Updated and Ended stored offline, sent with offline:true after reconnect');
  check(evs.map((m) => m.params.seqNo).every((n, i) => n === i), 'offline: seqNo without gaps');
  const boots = (seen.get(id) || []).filter((m) => m.action === 'BootNotification').length;
  const bootIdx = seen.get(id).map((m) => m.action).lastIndexOf('BootNotification');
  check(boots === 2 && seen.get(id).indexOf(evs[1]) > bootIdx,
    'offline: stored events came after the boot of the new connection');
  offlineDone = true;
}

// A station-wide limit of 6900 W is 10 A on three phases at 230 V: the
// currents the station then reports must keep to it.
async function checkLimit(cli) {
  const id = cli.identity;
  await waitFor(id, 'StatusNotification after boot', (m) => m.action === 'StatusNotification');
  const res = await send(cli, 'SetChargingProfile', { evseId: 0, chargingProfile: {
    id: 9, stackLevel: 0, chargingProfilePurpose: 'ChargingStationMaxProfile',
    chargingProfileKind: 'Absolute', chargingSchedule: [{ id: 2, chargingRateUnit: 'W',
      startSchedule: now(), chargingSchedulePeriod: [{ startPeriod: 0, limit: 6900 }] }] } });
  check(res && res.status === 'Accepted', 'SetChargingProfile ChargingStationMaxProfile 6900 W Accepted');
  const upd = await waitFor(id, 'TransactionEvent Updated with currents', (m) =>
    m.action === 'TransactionEvent' && m.params.eventType === 'Updated', 30000);
  if (!upd)
    return;
  const amps = upd.params.meterValue[0].sampledValue
    .filter((v) => v.measurand === 'Current.Import').map((v) => v.value);
  check(amps.length === 3 && amps.every((a) => Math.abs(a - 10) < 0.01),
    `charging under 6900 W draws 10 A per phase (${amps})`);
  limitDone = true;
}

// Reset OnIdle during a transaction: Scheduled, the station reboots only
// after the transaction ended.
async function checkResetOnIdle(cli) {
  const id = cli.identity;
  const started = await waitFor(id, 'TransactionEvent Started', (m) =>
    m.action === 'TransactionEvent' && m.params.eventType === 'Started', 30000);
  if (!started)
    return;
  const ended = waitFor(id, 'TransactionEvent Ended', (m) =>
    m.action === 'TransactionEvent' && m.params.eventType === 'Ended', 30000);
  const boot = waitFor(id, 'BootNotification after the reset', (m) =>
    m.action === 'BootNotification', 30000);
  const res = await send(cli, 'Reset', { type: 'OnIdle' });
  check(res && res.status === 'Scheduled', 'Reset OnIdle during a transaction: Scheduled');
  const e = await ended;
  check(e && e.params.transactionInfo.stoppedReason === 'Local', 'the transaction ended on its own');
  check(await boot, 'Reset OnIdle: rebooted after the transaction');
  resetDone = true;
}

// ---- server -----------------------------------------------------------------

const server = new RPCServer({ protocols: ['ocpp2.0.1'], strictMode: true });
let offlineStarted = false;
server.on('client', (cli) => {
  const id = cli.identity;
  event({ ev: 'connect', id, protocol: cli.protocol });
  if (cli.protocol !== 'ocpp2.0.1')
    finding(`${id} connected with subprotocol ${cli.protocol}`);
  cli.on('strictValidationFailure', (e) => {
    finding(`${id}: strict validation failed on ${e.outbound ? 'our' : 'its'} ` +
      `${e.isCall ? 'call' : 'answer to'} ${e.method}: ${e.error && e.error.message}: ` +
      `${JSON.stringify(e.isCall ? e.params : e.result)}`);
  });
  cli.on('badMessage', (e) => finding(`${id}: bad message: ${e.error && e.error.message}`));
  for (const [action, fn] of Object.entries(answers))
    cli.handle(action, (arg) => { record(id, action, arg.params); return fn(arg); });
  cli.handle(({ method, params }) => {
    record(id, method, params);
    finding(`${id} sent ${method}, which this CSMS does not expect`);
    throw createRPCError('NotImplemented', `${method} not expected`);
  });
  if (driveIds().includes(id) && !driveDone.has(id) && (seen.get(id) || []).length === 0) {
    // the local session first, then the commands
    waitFor(id, 'local TransactionEvent Ended', (m) => m.action === 'TransactionEvent' &&
      m.params.eventType === 'Ended', 30000).then((m) => {
      if (m) {
        check(m.params.transactionInfo.stoppedReason === 'Local', 'local session ended Local');
        return drive(cli);
      }
      return null;
    }).catch((err) => finding(`drive: ${err.stack}`));
  }
  if (id === opt.reset && !resetDone && !(seen.get(id) || []).length)
    checkResetOnIdle(cli).catch((err) => finding(`reset: ${err.stack}`));
  if (id === opt.limit && !limitDone)
    checkLimit(cli).catch((err) => finding(`limit: ${err.stack}`));
  if (id === opt.offline && !offlineStarted) {
    offlineStarted = true;
    checkOffline(id).catch((err) => finding(`offline: ${err.stack}`));
  }
});

function summary() {
  for (const id of driveIds())
    if (!driveDone.has(id))
      finding(`${id}: the command sequence did not finish`);
  if (!resetDone)
    finding(`${opt.reset}: Reset OnIdle not verified`);
  if (!limitDone)
    finding(`${opt.limit}: the limit was not checked`);
  if (!offlineDone)
    finding(`${opt.offline}: offline replay not verified`);
  for (const [id, msgs] of seen) {
    const counts = {};
    for (const m of msgs)
      counts[m.action] = (counts[m.action] || 0) + 1;
    process.stdout.write(`${id}: ${Object.entries(counts).map(([a, n]) => `${a} x${n}`).join(', ')}\n`);
  }
  process.stdout.write(`${checked.length} checks passed\n`);
  if (findings.length) {
    process.stdout.write(`${findings.length} finding(s):\n`);
    for (const f of findings)
      process.stdout.write(`  - ${f}\n`);
  } else {
    process.stdout.write('no findings\n');
  }
  process.exit(findings.length ? 1 : 0);
}

process.on('SIGTERM', summary);
process.on('SIGINT', summary);
server.listen(0, '127.0.0.1').then((http) => {
  fs.writeFileSync(opt.portFile, `PORT ${http.address().port}\n`);
}).catch((err) => {
  process.stderr.write(`ocpp201_csms: listen: ${err.message}\n`);
  process.exit(2);
});
