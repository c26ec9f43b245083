// The web application's page for avedge's browser end-to-end tests. It asks
// the application (/ice) for an RTCIceServer made from the credential
// service's answer, connects two RTCPeerConnections in this page through the
// relay only (iceTransportPolicy "relay"; offer and answer are handed over in
// JavaScript, with no signalling server) and reports what getStats() saw.
//
// window.avedgeRun(scenario) resolves to one plain object (the driver prints
// it as JSON); it never rejects: a failure is reported in "error" with
// whatever had been observed until then. Every wait is bounded and waits on
// events, not on elapsed time, but for the "call" scenario's pings, which
// keep a call going for a given time.
'use strict';

(() => {
  // How long ICE may take to connect before the page gives up, as a user's
  // call would.
  const CONNECT_TIMEOUT_MS = 10000;
  // How long the data or media exchange may take once connected.
  const EXCHANGE_TIMEOUT_MS = 15000;
  // Data channel messages sent each way.
  const MESSAGES = 50;
  // Media: packets pc2 must have received on each kind before the page
  // reports.
  const MIN_MEDIA_PACKETS = 20;
  // Call: pc1 sends a ping every PING_INTERVAL_MS; once the call's time is
  // up, the echoes of the last pings may take ECHO_WAIT_MS to come back.
  const PING_INTERVAL_MS = 1000;
  const ECHO_WAIT_MS = 5000;
  // Call: once the call failed, the page goes on pinging for
  // FAILURE_WAIT_MS, as a user waits before hanging up, so that the result
  // shows whether anything still came back.
  const FAILURE_WAIT_MS = 10000;
  // Call: the longest call the page accepts, in seconds.
  const MAX_CALL_SECONDS = 600;

  // withTimeout settles like p, or rejects with `what` after ms.
  function withTimeout(p, ms, what) {
    let timer;
    const t = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(what + ': no result after ' + ms + ' ms')), ms);
    });
    return Promise.race([p, t]).finally(() => clearTimeout(timer));
  }

  // connect hands each connection's candidates to the other, once the
  // other's remote description is set (the caller calls described(pc)
  // then), and records relay candidates and icecandidateerror events in
  // result. Its promise "settled" resolves, once both connections have
  // settled, to the error of the first that failed, or to null when both
  // connected.
  //
  // A connection has settled when ICE is connected or completed, or when it
  // can no longer connect: its gathering completed without a relay
  // candidate (with iceTransportPolicy "relay", ICE can then never
  // connect), or it has failed (ICE or connection state "failed", as
  // result.failed records) and both ends have completed gathering and every
  // candidate was handed over. Before that, a failure is not final: a new
  // candidate makes a new pair and the connection goes back to checking.
  // Chromium reports a relay that refuses the peer (403 to
  // CreatePermission) as connectionState "failed", while iceConnectionState
  // goes "disconnected", not "failed"; with several local networks it may
  // even go from "failed" back to "connecting" for a while, so the page
  // reports that a connection failed, not its state at the end.
  function connect(pc1, pc2, result) {
    let adding = 0;
    let poke = () => {};
    const described = new Map();
    for (const pc of [pc1, pc2]) {
      let resolve;
      described.set(pc, { promise: new Promise((r) => { resolve = r; }), resolve });
    }
    const hand = (from, name, to) => {
      from.addEventListener('icecandidate', (ev) => {
        if (!ev.candidate) {
          return;
        }
        if (ev.candidate.type === 'relay') {
          result.relayCandidates[name]++;
        }
        adding++;
        described.get(to).promise
          .then(() => to.addIceCandidate(ev.candidate))
          .catch((e) => {
            result.iceErrors.push({ pc: name, url: '', errorCode: 0, errorText: 'addIceCandidate: ' + e });
          })
          .finally(() => {
            adding--;
            poke();
          });
      });
      from.addEventListener('icecandidateerror', (ev) => {
        result.iceErrors.push({ pc: name, url: ev.url, errorCode: ev.errorCode, errorText: ev.errorText });
      });
    };
    hand(pc1, 'pc1', pc2);
    hand(pc2, 'pc2', pc1);
    const final = () =>
      pc1.iceGatheringState === 'complete' && pc2.iceGatheringState === 'complete' && adding === 0;
    // state is 'ok', an Error, or null while pc has not settled.
    const state = (pc, name) => {
      const ice = pc.iceConnectionState;
      if (ice === 'connected' || ice === 'completed') {
        return 'ok';
      }
      if (pc.iceGatheringState === 'complete' && result.relayCandidates[name] === 0) {
        return new Error(name + ' gathered no relay candidate');
      }
      if (result.failed[name] && final()) {
        return new Error(name + ' connection failed');
      }
      return null;
    };
    for (const [pc, name] of [[pc1, 'pc1'], [pc2, 'pc2']]) {
      const failed = () => {
        if (pc.iceConnectionState === 'failed' || pc.connectionState === 'failed') {
          result.failed[name] = true;
        }
      };
      pc.addEventListener('iceconnectionstatechange', failed);
      pc.addEventListener('connectionstatechange', failed);
    }
    const settled = new Promise((resolve) => {
      poke = () => {
        const s1 = state(pc1, 'pc1');
        const s2 = state(pc2, 'pc2');
        if (s1 && s2) {
          resolve(s1 !== 'ok' ? s1 : s2 !== 'ok' ? s2 : null);
        }
      };
      for (const pc of [pc1, pc2]) {
        for (const ev of ['iceconnectionstatechange', 'connectionstatechange', 'icegatheringstatechange']) {
          pc.addEventListener(ev, poke);
        }
      }
    });
    return { settled, described: (pc) => described.get(pc).resolve() };
  }

  async function iceServer() {
    const q = new URLSearchParams(location.search);
    const r = await fetch('/ice?' + q.toString(), { cache: 'no-store' });
    if (!r.ok) {
      throw new Error('/ice: HTTP ' + r.status + ': ' + (await r.text()));
    }
    return r.json();
  }

  // describePair is a candidate pair of a getStats() report with its
  // candidates.
  function describePair(stats, pair) {
    const cand = (id) => {
      const c = stats.get(id);
      if (!c) {
        return null;
      }
      return {
        candidateType: c.candidateType,
        address: c.address || c.ip,
        port: c.port,
        protocol: c.protocol,
        relayProtocol: c.relayProtocol || '',
      };
    };
    return {
      state: pair.state,
      nominated: !!pair.nominated,
      local: cand(pair.localCandidateId),
      remote: cand(pair.remoteCandidateId),
      bytesSent: pair.bytesSent || 0,
      bytesReceived: pair.bytesReceived || 0,
      packetsSent: pair.packetsSent || 0,
      packetsReceived: pair.packetsReceived || 0,
    };
  }

  // selectedPair finds the selected candidate pair in a getStats() report:
  // the transport's selectedCandidatePairId, else the nominated succeeded
  // pair.
  function selectedPair(stats) {
    let pair = null;
    stats.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) {
        pair = stats.get(s.selectedCandidatePairId) || pair;
      }
    });
    if (!pair) {
      stats.forEach((s) => {
        if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
          pair = s;
        }
      });
    }
    return pair ? describePair(stats, pair) : null;
  }

  // usedPairs lists the candidate pairs of a getStats() report that carried
  // bytes. With several local networks the two ends may each send on a
  // different pair until nomination settles, and the selected pair may
  // change late: the bytes are spread over these.
  function usedPairs(stats) {
    const out = [];
    stats.forEach((s) => {
      if (s.type === 'candidate-pair' && (s.bytesSent || s.bytesReceived)) {
        out.push(describePair(stats, s));
      }
    });
    return out;
  }

  // transportBytes sums the bytes of the transports of a getStats() report,
  // over all their candidate pairs (see usedPairs).
  function transportBytes(stats) {
    const out = { bytesSent: 0, bytesReceived: 0 };
    stats.forEach((s) => {
      if (s.type === 'transport') {
        out.bytesSent += s.bytesSent || 0;
        out.bytesReceived += s.bytesReceived || 0;
      }
    });
    return out;
  }

  // inbound sums pc's inbound-rtp stats per kind.
  function inbound(stats) {
    const out = {};
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp') {
        const k = s.kind || s.mediaType;
        const o = out[k] || (out[k] = { packetsReceived: 0, bytesReceived: 0 });
        o.packetsReceived += s.packetsReceived || 0;
        o.bytesReceived += s.bytesReceived || 0;
      }
    });
    return out;
  }

  // exchangeData sends MESSAGES messages each way over a data channel and
  // resolves when both ends have received all of them.
  function exchangeData(pc1, pc2, result) {
    const dc1 = pc1.createDataChannel('avedge', { ordered: true });
    result.data = { sent: MESSAGES, receivedBy1: 0, receivedBy2: 0 };
    const done = (dc, key, resolve, reject) => {
      dc.addEventListener('message', (ev) => {
        if (typeof ev.data !== 'string' || !ev.data.startsWith('msg ')) {
          reject(new Error('unexpected message ' + String(ev.data).slice(0, 40)));
          return;
        }
        result.data[key]++;
        if (result.data[key] === MESSAGES) {
          resolve();
        }
      });
    };
    const send = (dc, from) => {
      for (let i = 0; i < MESSAGES; i++) {
        dc.send('msg ' + from + ' ' + i + ' ' + 'x'.repeat(200));
      }
    };
    const at1 = new Promise((resolve, reject) => {
      dc1.addEventListener('open', () => send(dc1, 1));
      done(dc1, 'receivedBy1', resolve, reject);
    });
    const at2 = new Promise((resolve, reject) => {
      pc2.addEventListener('datachannel', (ev) => {
        const dc2 = ev.channel;
        done(dc2, 'receivedBy2', resolve, reject);
        if (dc2.readyState === 'open') {
          send(dc2, 2);
        } else {
          dc2.addEventListener('open', () => send(dc2, 2));
        }
      });
    });
    return Promise.all([at1, at2]);
  }

  // keepCalling keeps a call going for seconds: once a data channel is
  // open, pc1 sends a numbered ping every PING_INTERVAL_MS, pc2 echoes each
  // one, and pc1 records in result.call when each echo came back (Date.now(),
  // so that the test can set them against the credential's expiry). It
  // resolves when the call has lasted its time and every ping has been
  // echoed (waiting at most ECHO_WAIT_MS for the last ones). It rejects when
  // the call fails: a data channel closes or, once the channel is open, a
  // connection's state is "failed"; the page records when (failedAt) and
  // how many pings had been sent then, and goes on pinging for
  // FAILURE_WAIT_MS before it gives up. result.call.endedBy tells what ended
  // the call. Pinging on a clock is the scenario itself: a call that lasts.
  function keepCalling(pc1, pc2, result, seconds) {
    const dc1 = pc1.createDataChannel('avedge-call', { ordered: true });
    const call = {
      seconds, start: 0, end: 0, sent: 0, echoes: [], endedBy: '', failedAt: 0, sentAtFailure: 0,
    };
    result.call = call;
    return new Promise((resolve, reject) => {
      let pinger;
      let echoTimer = null;
      let failTimer;
      // failure is how the call failed, which then ends it whatever
      // comes next.
      let failure = null;
      const end = (how, err) => {
        if (call.endedBy) {
          return;
        }
        if (failure) {
          ({ how, err } = failure);
        }
        clearInterval(pinger);
        clearTimeout(echoTimer);
        clearTimeout(failTimer);
        call.end = Date.now();
        call.endedBy = how;
        if (err) {
          reject(err);
        } else {
          resolve();
        }
      };
      const fail = (how, err) => {
        if (failure || call.endedBy) {
          return;
        }
        failure = { how, err };
        call.failedAt = Date.now();
        call.sentAtFailure = call.sent;
        failTimer = setTimeout(end, FAILURE_WAIT_MS);
      };
      // Once the time is up (echoTimer set), the call ends with the last
      // echo.
      const echoed = () => {
        if (echoTimer !== null && call.echoes.length === call.sent) {
          end('time up');
        }
      };
      const ping = () => {
        if (Date.now() - call.start >= seconds * 1000) {
          clearInterval(pinger);
          echoTimer = setTimeout(() => end('echoes missing', new Error(
            (call.sent - call.echoes.length) + ' pings not echoed ' + ECHO_WAIT_MS + ' ms after the call')), ECHO_WAIT_MS);
          echoed();
          return;
        }
        try {
          dc1.send('ping ' + call.sent);
        } catch (e) {
          end('send failed', e);
          return;
        }
        call.sent++;
      };
      dc1.addEventListener('open', () => {
        call.start = Date.now();
        ping();
        pinger = setInterval(ping, PING_INTERVAL_MS);
      });
      dc1.addEventListener('message', (ev) => {
        const want = 'ping ' + call.echoes.length;
        if (ev.data !== want) {
          end('bad echo', new Error('echo ' + String(ev.data).slice(0, 40) + ', want ' + want));
          return;
        }
        call.echoes.push(Date.now());
        echoed();
      });
      dc1.addEventListener('close', () => fail('channel closed', new Error('pc1 data channel closed')));
      pc2.addEventListener('datachannel', (ev) => {
        const dc2 = ev.channel;
        dc2.addEventListener('message', (m) => dc2.send(m.data));
        dc2.addEventListener('close', () => fail('channel closed', new Error('pc2 data channel closed')));
      });
      for (const [pc, name] of [[pc1, 'pc1'], [pc2, 'pc2']]) {
        pc.addEventListener('connectionstatechange', () => {
          if (call.start && pc.connectionState === 'failed') {
            fail('connection failed', new Error(name + ' connection failed during the call'));
          }
        });
      }
    });
  }

  // callSeconds is the call's length from the page's query (seconds=N).
  function callSeconds() {
    const s = Number(new URLSearchParams(location.search).get('seconds'));
    if (!Number.isInteger(s) || s <= 0 || s > MAX_CALL_SECONDS) {
      throw new Error('call: seconds must be an integer in 1..' + MAX_CALL_SECONDS);
    }
    return s;
  }

  // hangUp tells the application that the call is over, before the page
  // closes its connections, so that the test can read the edge's counters
  // while the allocations still live.
  async function hangUp() {
    const r = await fetch('/hangup', { method: 'POST', cache: 'no-store' });
    if (!r.ok) {
      throw new Error('/hangup: HTTP ' + r.status);
    }
  }

  // receiveMedia resolves when pc2's inbound-rtp stats show at least
  // MIN_MEDIA_PACKETS on audio and on video. Stats are read on each
  // received frame (requestVideoFrameCallback) so the wait follows the
  // media, not a clock.
  async function receiveMedia(pc2, video, result) {
    for (;;) {
      await new Promise((resolve) => video.requestVideoFrameCallback(() => resolve()));
      const m = inbound(await pc2.getStats());
      result.media = m;
      if ((m.audio || {}).packetsReceived >= MIN_MEDIA_PACKETS &&
          (m.video || {}).packetsReceived >= MIN_MEDIA_PACKETS) {
        return;
      }
    }
  }

  async function run(scenario) {
    const result = {
      scenario,
      transport: new URLSearchParams(location.search).get('transport') || '',
      ok: false,
      error: '',
      // Relay candidates gathered, and icecandidateerror events (such as
      // 401 from the relay), per connection.
      relayCandidates: { pc1: 0, pc2: 0 },
      // Whether each connection's ICE or connection state was ever
      // "failed".
      failed: { pc1: false, pc2: false },
      iceErrors: [],
      // State changes: "pc1 ice checking @123", "pc1 connection failed
      // @130" (ms since the connections were made).
      iceStates: [],
      // The states when the page reported.
      iceConnectionState: {},
      connectionState: {},
      iceGatheringState: {},
      selected: null,
      selectedPc2: null,
      transportBytes: null,
      usedPairs: null,
    };
    const pcs = [];
    let stream = null;
    try {
      if (scenario !== 'data' && scenario !== 'media' && scenario !== 'call') {
        throw new Error('unknown scenario ' + scenario);
      }
      let exchangeTimeout = EXCHANGE_TIMEOUT_MS;
      let seconds = 0;
      if (scenario === 'call') {
        seconds = callSeconds();
        exchangeTimeout = seconds * 1000 + PING_INTERVAL_MS + ECHO_WAIT_MS + FAILURE_WAIT_MS + EXCHANGE_TIMEOUT_MS;
      }
      const server = await withTimeout(iceServer(), 5000, 'fetch /ice');
      result.urls = server.urls;
      const config = { iceServers: [server], iceTransportPolicy: 'relay' };
      const pc1 = new RTCPeerConnection(config);
      const pc2 = new RTCPeerConnection(config);
      pcs.push(pc1, pc2);
      const t0 = performance.now();
      for (const [pc, name] of [[pc1, 'pc1'], [pc2, 'pc2']]) {
        pc.addEventListener('iceconnectionstatechange', () => {
          result.iceStates.push(name + ' ice ' + pc.iceConnectionState + ' @' + Math.round(performance.now() - t0));
        });
        pc.addEventListener('connectionstatechange', () => {
          result.iceStates.push(name + ' connection ' + pc.connectionState + ' @' + Math.round(performance.now() - t0));
        });
      }
      const up = connect(pc1, pc2, result);

      let exchange;
      let video = null;
      if (scenario === 'data') {
        exchange = exchangeData(pc1, pc2, result);
      } else if (scenario === 'call') {
        exchange = keepCalling(pc1, pc2, result, seconds);
      } else {
        stream = await withTimeout(
          navigator.mediaDevices.getUserMedia({ audio: true, video: true }), 5000, 'getUserMedia');
        for (const track of stream.getTracks()) {
          pc1.addTrack(track, stream);
        }
        video = document.createElement('video');
        video.muted = true;
        video.autoplay = true;
        document.body.appendChild(video);
        const remote = new MediaStream();
        pc2.addEventListener('track', (ev) => {
          remote.addTrack(ev.track);
          video.srcObject = remote;
        });
        exchange = receiveMedia(pc2, video, result);
      }

      // A failure of the exchange before ICE is up is reported through
      // the await below, not as an unhandled rejection.
      exchange.catch(() => {});

      await pc1.setLocalDescription(await pc1.createOffer());
      await pc2.setRemoteDescription(pc1.localDescription);
      up.described(pc2);
      await pc2.setLocalDescription(await pc2.createAnswer());
      await pc1.setRemoteDescription(pc2.localDescription);
      up.described(pc1);

      const err = await withTimeout(up.settled, CONNECT_TIMEOUT_MS, 'ICE');
      if (err) {
        throw err;
      }
      await withTimeout(exchange, exchangeTimeout, scenario + ' exchange');
      const stats1 = await pc1.getStats();
      const stats2 = await pc2.getStats();
      result.selected = selectedPair(stats1);
      result.selectedPc2 = selectedPair(stats2);
      result.transportBytes = { pc1: transportBytes(stats1), pc2: transportBytes(stats2) };
      result.usedPairs = { pc1: usedPairs(stats1), pc2: usedPairs(stats2) };
      result.ok = true;
    } catch (e) {
      result.error = String(e && e.message ? e.message : e);
      if (pcs.length) {
        result.selected = selectedPair(await pcs[0].getStats());
        result.selectedPc2 = selectedPair(await pcs[1].getStats());
      }
    } finally {
      if (scenario === 'call') {
        try {
          await withTimeout(hangUp(), 5000, 'hang up');
        } catch (e) {
          result.error = (result.error ? result.error + '; ' : '') + String(e && e.message ? e.message : e);
          result.ok = false;
        }
      }
      if (pcs.length) {
        const [pc1, pc2] = pcs;
        result.iceConnectionState = { pc1: pc1.iceConnectionState, pc2: pc2.iceConnectionState };
        result.connectionState = { pc1: pc1.connectionState, pc2: pc2.connectionState };
        result.iceGatheringState = { pc1: pc1.iceGatheringState, pc2: pc2.iceGatheringState };
      }
      for (const pc of pcs) {
        pc.close();
      }
      if (stream) {
        for (const t of stream.getTracks()) {
          t.stop();
        }
      }
      document.getElementById('state').textContent = result.ok ? 'ok' : 'failed: ' + result.error;
    }
    return result;
  }

  window.avedgeRun = run;
})();
