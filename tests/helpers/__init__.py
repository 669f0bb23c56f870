"""Test helpers: local Cloudify runs, label clean-up, a loopback HTTP server."""
