"""`nasrtc doctor --media`: a real test call through the user's own stack, from outside.

credentials.py gets two participants in (Element Call's way with an access token, else
the stack's key); signal.py reads what the SFU offers on its WebSocket (no WebRTC needed);
call.py is the call itself, run in a child process with the LiveKit Python SDK (the
optional extra `nasrtc[media]`); diagnose.py turns what was seen into doctor's rows."""
