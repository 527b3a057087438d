"""A home network in network namespaces, sealed from this machine: the internet with a
STUN and a DNS server, a home router that forwards what nasrtc's checklist says, the NAS
with its own Docker engine, and callers behind their own carrier's NAT.

topology.py builds the namespaces and links, router.py the home router's rules,
engine.py the NAS's Docker engine, livekit_image.py the real LiveKit image,
auth_standin.py the auth service stand-in, caller.py the WebRTC callers,
home.py puts them together for a test."""
