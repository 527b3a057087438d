// A call between two browser participants, for the lab's TURN-over-TLS test: Debian's
// Chromium (driven by playwright-core) with livekit-client, the SDK Element Call is built
// on. Reads {tokens: [{url, jwt}, {url, jwt}], relayOnly, seconds} on standard input (the
// test gets them the way Element Call does) and prints one JSON result: whether the
// listener received the tone, and the candidate pair each side selected.
// Chromium trusts the lab's CA through the NSS database in $HOME/.pki/nssdb.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const input = JSON.parse(readFileSync(0, "utf8"));
// the UMD build (window.LivekitClient), beside the package.json the exports map names
const sdk = require.resolve("livekit-client").replace(/dist\/.*$/, "dist/livekit-client.umd.js");
const result = { ok: false };
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required"],
});
const deadline = setTimeout(() => {
  console.log(JSON.stringify({ ...result, error: "the browser call timed out" }));
  process.exit(0);
}, (input.timeout || 90) * 1000);
try {
  const page = await browser.newPage();
  await page.setContent("<html><body>lab caller</body></html>");
  // Every peer connection the SDK makes, for their statistics (before the SDK loads).
  await page.evaluate(() => {
    const Original = window.RTCPeerConnection;
    window.__pcs = [];
    window.RTCPeerConnection = function (...args) {
      const pc = new Original(...args);
      window.__pcs.push(pc);
      return pc;
    };
    window.RTCPeerConnection.prototype = Original.prototype;
  });
  await page.addScriptTag({ path: sdk });
  Object.assign(result, await page.evaluate(async (input) => {
    const { Room, LocalAudioTrack } = window.LivekitClient;
    const options = input.relayOnly ? { rtcConfig: { iceTransportPolicy: "relay" } } : {};
    const rooms = [new Room(), new Room()];
    const steps = [];
    let subscribed = false;
    rooms[1].on("trackSubscribed", () => { subscribed = true; });
    for (const [index, room] of rooms.entries()) {
      await room.connect(input.tokens[index].url, input.tokens[index].jwt, options);
      steps.push(`joined:${index}`);
    }
    const context = new AudioContext();
    const tone = context.createOscillator();
    tone.frequency.value = 440;
    const sink = context.createMediaStreamDestination();
    tone.connect(sink);
    tone.start();
    await rooms[0].localParticipant.publishTrack(
      new LocalAudioTrack(sink.stream.getAudioTracks()[0]));
    steps.push("published");
    await new Promise((done) => setTimeout(done, input.seconds * 1000 + 2000));
    const pairs = [];
    let audioPackets = 0;
    let audioEnergy = 0;
    for (const pc of window.__pcs) {
      const stats = await pc.getStats();
      const byId = new Map();
      stats.forEach((s) => byId.set(s.id, s));
      stats.forEach((s) => {
        if (s.type === "transport" && s.selectedCandidatePairId) {
          const pair = byId.get(s.selectedCandidatePairId);
          const local = byId.get(pair.localCandidateId) || {};
          const remote = byId.get(pair.remoteCandidateId) || {};
          pairs.push({
            local: { candidate_type: local.candidateType, protocol: local.protocol,
                     relay_protocol: local.relayProtocol, url: local.url },
            remote: { address: remote.address, port: remote.port, protocol: remote.protocol,
                      candidate_type: remote.candidateType },
            bytes_received: pair.bytesReceived, bytes_sent: pair.bytesSent,
          });
        }
        if (s.type === "inbound-rtp" && s.kind === "audio") {
          audioPackets += s.packetsReceived || 0;
          audioEnergy += s.totalAudioEnergy || 0;
        }
      });
    }
    for (const room of rooms) await room.disconnect();
    return { steps, subscribed, pairs, audio_packets: audioPackets, audio_energy: audioEnergy };
  }, input));
  result.ok = true;
} catch (error) {
  result.error = String(error && error.message ? error.message : error).slice(0, 500);
} finally {
  clearTimeout(deadline);
  await browser.close();
}
console.log(JSON.stringify(result));
