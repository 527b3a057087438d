// What a MatrixRTC client does before it joins a call, with matrix-js-sdk's own calls:
// discovery of the homeserver (well-known), the RTC transports the homeserver announces
// (MSC4143), an OpenID token. The last step, exchanging it at the auth service's
// /get_token, is Element Call's request (the SDK has no call for it): body as there.
//
//   node join.mjs SERVER_NAME USER_ID ACCESS_TOKEN DEVICE_ID ROOM_ID MEMBER_ID
// Prints one JSON object on stdout; exits 1 with a message on the first failure.
import * as sdk from "matrix-js-sdk";
import { isLivekitTransportConfig } from "matrix-js-sdk/lib/matrixrtc/LivekitTransport.js";

const [serverName, userId, accessToken, deviceId, roomId, memberId] = process.argv.slice(2);
const fail = (what) => { console.error(what); process.exit(1); };

const discovered = await sdk.AutoDiscovery.findClientConfig(serverName);
const homeserver = discovered["m.homeserver"];
if (homeserver.state !== sdk.AutoDiscovery.SUCCESS) {
  fail(`discovery: ${homeserver.state} ${homeserver.error ?? ""}`);
}
const client = sdk.createClient({ baseUrl: homeserver.base_url, accessToken, userId, deviceId });
const transports = await client._unstable_getRTCTransports();
const livekit = (transports ?? []).find(isLivekitTransportConfig);
if (!livekit) fail(`no LiveKit transport announced: ${JSON.stringify(transports)}`);
const openid = await client.getOpenIdToken();
const answer = await fetch(`${livekit.livekit_service_url}/get_token`, {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({
    room_id: roomId, slot_id: "m.call#ROOM", openid_token: openid,
    member: { id: memberId, claimed_user_id: userId, claimed_device_id: deviceId },
  }),
});
const body = await answer.json();
if (answer.status !== 200) fail(`get_token answered ${answer.status}: ${JSON.stringify(body)}`);
console.log(JSON.stringify({
  homeserver: homeserver.base_url,
  well_known_foci: discovered["org.matrix.msc4143.rtc_foci"] ?? null,
  transports, url: body.url, jwt: body.jwt,
}));
