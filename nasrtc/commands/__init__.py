"""One module per command: NAME, HELP, add_parser(commands) and run(args) -> exit code.
Each module imports its heavy libraries inside run(), so `nasrtc --help` stays fast."""

# The order `nasrtc --help` lists them in: setting up, running, checking.
COMMANDS = ("init", "render", "up", "down", "status", "logs", "upgrade", "checklist", "doctor",
            "token", "remove")
