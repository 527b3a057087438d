"""One module per command: NAME, HELP, add_parser(commands) and run(args) -> exit code.
Each module imports its heavy libraries inside run(), so `nasrtc --help` stays fast."""

from nasrtc.i18n import N_

# The order `nasrtc --help` lists them in (setting up, running, checking), with their one-line
# help: the top-level help needs no command module (tests/unit/test_cli_start.py keeps these
# equal to each module's HELP).
COMMANDS = {
    "init": N_("write the stack (compose.yaml, livekit.yaml, proxy, checklist, ...)"),
    "render": N_("rebuild every generated file from DIR/nasrtc.yaml"),
    "up": N_("start the stack (create or update the containers)"),
    "down": N_("stop and remove the stack's containers"),
    "status": N_("show each service's container, health, image, ports and uptime"),
    "logs": N_("show the containers' logs (--follow to keep watching)"),
    "upgrade": N_("move the stack to the images this nasrtc was tested with (or --rollback)"),
    "checklist": N_("every setup step in order, to tick off (text, Markdown or HTML)"),
    "web": N_("the wizard and the stack's buttons as a web page (no terminal needed)"),
    "reach": N_("can the internet reach this NAS? (public IPv4, CGNAT, DS-Lite, double NAT)"),
    "router": N_("open the router's ports for calls by UPnP, NAT-PMP or PCP (open, status, "
                 "close)"),
    "doctor": N_("check every piece, locally and from the public side, with fixes"),
    "token": N_("mint a LiveKit token (for LiveKit's connection tester)"),
    "export": N_("carry the stack to Kubernetes or Element Server Suite (outgrowing one NAS)"),
    "remove": N_("stop the stack and delete the files nasrtc wrote (answers, secrets: --purge)"),
}
