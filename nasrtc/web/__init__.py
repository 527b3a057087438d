"""`nasrtc web`: the wizard and the stack's buttons as a web page on the NAS, for people
who never open a terminal (DSM's Container Manager starts it). The page only asks
differently: the questions, checks, summary and files are the terminal's own code.
The threat model is docs/web-security.md."""
