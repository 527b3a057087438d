"""Can the internet reach this NAS? What the router says of its internet side (UPnP IGD,
NAT-PMP, PCP), what the internet sees (STUN, the what-is-my-IP lookup), the NAS's own
addresses, a verdict with its fix, and the router's port mappings made on request.

Every probe here sends packets only to this host's LAN: the default gateway, SSDP
multicast on the LAN address's interface, and the STUN servers the answers name. All
of it is off when NASRTC_DISCOVERY=off (the tests' default outside their lab)."""
