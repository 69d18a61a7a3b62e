// The OCPP 2.0.1 mode of ocpp_rpc_charger.js (--ocpp201): a charging station
// with one EVSE on ocpp-rpc with protocols ['ocpp2.0.1'] and strictMode, so
// every call and answer both ways is validated against ocpp-rpc's own 2.0.1
// schemas. Same options, events and frames files as the 1.6 mode; stdin:
//
//   session TAG   Authorize, TransactionEvent Started/Updated/Ended, the tag
//                 must be accepted
//   denied TAG    the same with a tag the CSMS must refuse: the transaction
//                 ends DeAuthorized
//   meter         MeterValues outside a transaction
//   heartbeat     Heartbeat
//   wait-file F   wait (up to 60 s) until file F exists
//   quit          check, print the findings, exit (0 clean, 1 findings)
//
// It answers RequestStart/StopTransaction, ChangeAvailability,
// UnlockConnector, ReserveNow, CancelReservation, Reset, Set/Clear
// ChargingProfile, Get/SetVariables, GetBaseReport, TriggerMessage,
// ClearCache; anything else is a CALLERROR NotImplemented.
'use strict';

const fs = require('fs');
const { RPCClient, createRPCError } = require('ocpp-rpc');

module.exports = function run201(opt) {
  const findings = [];
  const received = new Map();
  let connection = 0;
  let closingOnPurpose = false;

  const event = (obj) => fs.appendFileSync(opt.events,
    JSON.stringify({ t: Date.now() / 1000, ...obj }) + '\n');
  const finding = (text) => {
    findings.push(text);
    event({ ev: 'finding', text });
    process.stderr.write(`finding: ${text}\n`);
  };
  const now = () => new Date().toISOString();

  const cli = new RPCClient({
    endpoint: opt.url, identity: opt.id, protocols: ['ocpp2.0.1'], strictMode: true,
    pingIntervalMs: opt.pingMs, callTimeoutMs: 10000, reconnect: false,
    ...(opt.password !== null ? { password: opt.password } : {}),
  });
  cli.on('strictValidationFailure', (e) => finding(
    `strict validation failed on the ${e.outbound ? 'ours' : "CSMS's"} ` +
    `${e.isCall ? 'call' : 'answer to'} ${e.method}: ${e.error && e.error.message}: ` +
    `${JSON.stringify(e.isCall ? e.params : e.result)}`));
  cli.on('badMessage', (e) => finding(`bad message from the CSMS: ${e.error && e.error.message}`));
  cli.on('message', (e) => fs.appendFileSync(opt.frames, JSON.stringify({
    t: Date.now() / 1000, dir: e.outbound ? 'out' : 'in', frame: String(e.message) }) + '\n'));
  cli.on('disconnect', (e) => {
    event({ ev: 'disconnect', code: e.code, reason: String(e.reason || '') });
    if (!closingOnPurpose)
      finding(`connection dropped: code ${e.code} ${String(e.reason || '')}`);
  });

  const cp = {
    tx: null, seqNo: 0, tag: '', meterWh: 50000, reservation: 0, remoteStartId: null,
    available: true, limit: null,
    vars: {
      'SmartChargingCtrlr.RateUnit': { value: 'A,W', ro: true, type: 'MemberList' },
      'TxCtrlr.TxStartPoint': { value: 'Authorized,EVConnected', ro: false, type: 'MemberList' },
      'TxCtrlr.TxStopPoint': { value: 'Authorized,EVConnected', ro: false, type: 'MemberList' },
      'SampledDataCtrlr.TxUpdatedInterval': { value: '60', ro: false, type: 'integer' },
      'OCPPCommCtrlr.HeartbeatInterval': { value: '0', ro: false, type: 'integer' },
      'EVSE[1].Available': { value: 'true', ro: true, type: 'boolean' },
    },
  };

  async function call(action, params) {
    try {
      const res = await cli.call(action, params);
      event({ ev: 'answer', action, result: res });
      return res;
    } catch (err) {
      const code = err.rpcErrorCode || err.code || err.name;
      event({ ev: 'callerror', action, code, message: err.message });
      finding(`${action} failed: ${code}: ${err.message}`);
      return null;
    }
  }

  const connectorStatus = () => (cp.tx ? 'Occupied' : !cp.available ? 'Unavailable'
    : cp.reservation ? 'Reserved' : 'Available');
  const status = (st) => call('StatusNotification',
    { timestamp: now(), connectorStatus: st || connectorStatus(), evseId: 1, connectorId: 1 });

  async function boot() {
    const res = await call('BootNotification', { reason: 'PowerUp', chargingStation: {
      model: 'strict-interop', vendorName: 'ocpp-rpc', serialNumber: 'RPC-201',
      firmwareVersion: '2.2.1' } });
    if (!res || res.status !== 'Accepted')
      finding(`BootNotification not accepted: ${JSON.stringify(res)}`);
    await status();
    event({ ev: 'booted', connection });
  }

  const sampled = (amps) => [
    { value: cp.meterWh, context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register',
      location: 'Outlet', unitOfMeasure: { unit: 'Wh' } },
    ...['L1', 'L2', 'L3'].map((phase) => ({ value: amps, context: 'Sample.Periodic',
      measurand: 'Current.Import', phase, unitOfMeasure: { unit: 'A' } })),
    { value: Math.round(amps * 230 * 3), context: 'Sample.Periodic',
      measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'W' } },
    { value: 230.4, context: 'Sample.Periodic', measurand: 'Voltage', phase: 'L1-N',
      unitOfMeasure: { unit: 'V' } },
  ];
  const energy = (context) => [{ timestamp: now(), sampledValue: [{ value: cp.meterWh, context,
    measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }] }];

  function txEvent(eventType, triggerReason, extra, info) {
    return call('TransactionEvent', { eventType, timestamp: now(), triggerReason,
      seqNo: cp.seqNo++, transactionInfo: { transactionId: cp.tx, ...info },
      evse: { id: 1, connectorId: 1 }, ...extra });
  }

  async function startTx(tag, remote) {
    cp.tx = `rpc-${Date.now().toString(16)}-${Math.floor(Math.random() * 1e6)}`;
    cp.seqNo = 0;
    cp.tag = tag;
    await status('Occupied');
    const res = await txEvent('Started', remote ? 'RemoteStart' : 'Authorized', {
      idToken: { idToken: tag, type: remote ? 'Central' : 'ISO14443' },
      meterValue: energy('Transaction.Begin'),
      ...(cp.reservation ? { reservationId: cp.reservation } : {}),
    }, { chargingState: 'Charging', ...(remote ? { remoteStartId: cp.remoteStartId } : {}) });
    cp.reservation = 0;
    event({ ev: 'started', tx: cp.tx, tag });
    return res && res.idTokenInfo ? res.idTokenInfo.status : 'Accepted';
  }

  async function updateTx(trigger) {
    cp.meterWh += 1200;
    const amps = cp.limit === null ? 16 : Math.min(16, cp.limit);
    await txEvent('Updated', trigger, { meterValue: [{ timestamp: now(), sampledValue: sampled(amps) }] });
  }

  async function stopTx(stoppedReason, triggerReason) {
    if (!cp.tx)
      return;
    cp.meterWh += 500;
    // the transaction is over once Ended is sent: calls that come before
    // its answer already find the EVSE free
    const ended = txEvent('Ended', triggerReason, { meterValue: energy('Transaction.End') },
      { stoppedReason, chargingState: 'Idle' });
    const tx = cp.tx;
    cp.tx = null;
    cp.remoteStartId = null;
    await ended;
    event({ ev: 'stopped', tx, reason: stoppedReason });
    await status();
  }

  const after = (fn) => setTimeout(() => {
    fn().catch((err) => finding(`after-answer work: ${err.stack}`));
  }, 50);

  const varKey = (v) => `${v.component.name}${v.component.evse ? `[${v.component.evse.id}]` : ''}` +
    `.${v.variable.name}`;
  const componentKnown = (v) => Object.keys(cp.vars).some((k) =>
    k.startsWith(`${v.component.name}${v.component.evse ? `[${v.component.evse.id}]` : ''}.`));

  const handlers = {
    RequestStartTransaction: ({ params }) => {
      if (cp.tx || !cp.available)
        return { status: 'Rejected' };
      cp.remoteStartId = params.remoteStartId;
      after(async () => {
        await startTx(params.idToken.idToken, true);
        await updateTx('MeterValuePeriodic');
      });
      return { status: 'Accepted' };
    },
    RequestStopTransaction: ({ params }) => {
      if (!cp.tx || params.transactionId !== cp.tx)
        return { status: 'Rejected' };
      after(() => stopTx('Remote', 'RemoteStop'));
      return { status: 'Accepted' };
    },
    ChangeAvailability: ({ params }) => {
      if (cp.tx && params.operationalStatus === 'Inoperative')
        return { status: 'Scheduled' };
      cp.available = params.operationalStatus === 'Operative';
      after(() => status());
      return { status: 'Accepted' };
    },
    UnlockConnector: ({ params }) => ({ status: params.evseId === 1 && params.connectorId === 1
      ? (cp.tx ? 'OngoingAuthorizedTransaction' : 'Unlocked') : 'UnknownConnector' }),
    ReserveNow: ({ params }) => {
      if (cp.tx || cp.reservation)
        return { status: 'Occupied' };
      cp.reservation = params.id;
      after(() => status());
      return { status: 'Accepted' };
    },
    CancelReservation: ({ params }) => {
      if (params.reservationId !== cp.reservation)
        return { status: 'Rejected' };
      cp.reservation = 0;
      after(() => status());
      return { status: 'Accepted' };
    },
    SetChargingProfile: ({ params }) => {
      const sched = params.chargingProfile.chargingSchedule[0];
      const limit = sched.chargingSchedulePeriod[0].limit;
      cp.limit = sched.chargingRateUnit === 'W' ? limit / (230 * 3) : limit;
      event({ ev: 'limit', limit, unit: sched.chargingRateUnit });
      return { status: 'Accepted' };
    },
    ClearChargingProfile: () => {
      cp.limit = null;
      return { status: 'Accepted' };
    },
    GetVariables: ({ params }) => ({ getVariableResult: params.getVariableData.map((v) => {
      const entry = cp.vars[varKey(v)];
      const base = { component: v.component, variable: v.variable };
      if (entry)
        return { ...base, attributeStatus: 'Accepted', attributeType: 'Actual', attributeValue: entry.value };
      return { ...base, attributeStatus: componentKnown(v) ? 'UnknownVariable' : 'UnknownComponent' };
    }) }),
    SetVariables: ({ params }) => ({ setVariableResult: params.setVariableData.map((v) => {
      const entry = cp.vars[varKey(v)];
      let st = entry ? 'Accepted' : componentKnown(v) ? 'UnknownVariable' : 'UnknownComponent';
      if (entry && (entry.ro || (entry.type === 'integer' && !/^\d+$/.test(v.attributeValue))))
        st = 'Rejected';
      if (st === 'Accepted')
        entry.value = v.attributeValue;
      return { component: v.component, variable: v.variable, attributeType: 'Actual', attributeStatus: st };
    }) }),
    GetBaseReport: ({ params }) => {
      after(() => call('NotifyReport', { requestId: params.requestId, generatedAt: now(), seqNo: 0,
        tbc: false, reportData: Object.entries(cp.vars).map(([k, e]) => {
          const m = /^([A-Za-z]+)(?:\[(\d+)\])?\.(.+)$/.exec(k);
          return { component: { name: m[1], ...(m[2] ? { evse: { id: Number(m[2]) } } : {}) },
            variable: { name: m[3] },
            variableAttribute: [{ type: 'Actual', value: e.value, mutability: e.ro ? 'ReadOnly' : 'ReadWrite' }],
            variableCharacteristics: { dataType: e.type, supportsMonitoring: false } };
        }) }));
      return { status: 'Accepted' };
    },
    TriggerMessage: ({ params }) => {
      const jobs = {
        BootNotification: boot,
        Heartbeat: () => call('Heartbeat', {}),
        StatusNotification: () => status(),
        MeterValues: () => call('MeterValues',
          { evseId: 1, meterValue: [{ timestamp: now(), sampledValue: sampled(0) }] }),
        TransactionEvent: () => (cp.tx ? updateTx('Trigger') : Promise.resolve()),
      };
      const job = jobs[params.requestedMessage];
      if (!job)
        return { status: 'NotImplemented' };
      after(job);
      return { status: 'Accepted' };
    },
    ClearCache: () => ({ status: 'Accepted' }),
    Reset: ({ params }) => {
      if (cp.tx && params.type === 'OnIdle')
        return { status: 'Scheduled' };
      after(reboot);
      return { status: 'Accepted' };
    },
  };
  for (const [action, fn] of Object.entries(handlers))
    cli.handle(action, (arg) => {
      received.set(action, (received.get(action) || 0) + 1);
      event({ ev: 'call', action, id: arg.messageId, params: arg.params });
      return fn(arg);
    });
  cli.handle(({ method, params, messageId }) => {
    event({ ev: 'call', action: method, id: messageId, params });
    throw createRPCError('NotImplemented', `${method} is not implemented`);
  });

  async function connect() {
    connection++;
    closingOnPurpose = false;
    const res = await cli.connect();
    const proto = res.response.headers['sec-websocket-protocol'];
    if (proto !== 'ocpp2.0.1')
      finding(`handshake answered subprotocol ${JSON.stringify(proto)}, not ocpp2.0.1`);
    event({ ev: 'open', connection, protocol: proto });
    if (!opt.noBoot || connection > 1)
      await boot();
  }

  async function reboot() {
    await stopTx('ImmediateReset', 'ResetCommand');
    closingOnPurpose = true;
    await cli.close({ code: 1000, reason: 'reset' });
    await new Promise((r) => setTimeout(r, 300));
    await connect();
  }

  async function session(tag, wantAccepted) {
    const auth = await call('Authorize', { idToken: { idToken: tag, type: 'ISO14443' } });
    const authSt = auth && auth.idTokenInfo.status;
    if ((authSt === 'Accepted') !== wantAccepted)
      finding(`Authorize ${tag}: ${authSt}, expected ${wantAccepted ? '' : 'not '}Accepted`);
    const st = await startTx(tag, false);
    if ((st === 'Accepted') !== wantAccepted)
      finding(`TransactionEvent Started ${tag}: ${st}, expected ${wantAccepted ? '' : 'not '}Accepted`);
    if (st !== 'Accepted') {
      await stopTx('DeAuthorized', 'Deauthorized');
      event({ ev: 'denied', tag, auth: authSt, start: st });
      return;
    }
    await updateTx('MeterValuePeriodic');
    await stopTx('Local', 'StopAuthorized');
  }

  async function quit() {
    for (const action of opt.expect)
      if (!received.has(action))
        finding(`expected call ${action} never came`);
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
    session: (tag) => session(tag, true),
    denied: (tag) => session(tag, false),
    meter: () => call('MeterValues', { evseId: 1, meterValue: [{ timestamp: now(), sampledValue: sampled(0) }] }),
    heartbeat: () => call('Heartbeat', {}),
    'wait-file': async (f) => {
      for (let i = 0; i < 600 && !fs.existsSync(f); i++)
        await new Promise((r) => setTimeout(r, 100));
      if (!fs.existsSync(f))
        finding(`${f} did not appear`);
    },
    'expect-close': () => { closingOnPurpose = true; },
    quit,
  };

  (async () => {
    try {
      await connect();
    } catch (err) {
      finding(`connect/boot failed: ${err.message}`);
      process.stdout.write(`${findings.join('\n')}\n`);
      process.exit(1);
    }
    const lines = require('readline').createInterface({ input: process.stdin });
    for await (const line of lines) {
      const [cmd, ...args] = line.trim().split(/\s+/);
      if (!cmd)
        continue;
      if (!commands[cmd]) {
        finding(`unknown command ${cmd}`);
        continue;
      }
      await commands[cmd](...args);
      event({ ev: 'done', cmd });
    }
    await quit();
  })().catch((err) => {
    finding(`charger crashed: ${err.stack}`);
    process.stdout.write(`${findings.join('\n')}\n`);
    process.exit(1);
  });
};
