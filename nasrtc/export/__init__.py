"""Carrying a stack off the NAS: Kubernetes manifests, Element Server Suite values."""
