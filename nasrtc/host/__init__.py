"""What this host can tell: its platform, its busy ports and their owners, its addresses."""
